"""Launching the distribution's Chromium for browser tests: one place for its path and flags.

Never a downloaded browser: Playwright drives ``/usr/bin/chromium``, sandbox off (tests run as
root in CI), with a fake microphone that plays a WAV file when a test gives one.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import pytest

CHROMIUM = "/usr/bin/chromium"
BASE_ARGS = ("--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
             "--disable-sync", "--no-first-run", "--autoplay-policy=no-user-gesture-required")


def launch(p: Any, *, mic_wav: Path | str | None = None, fake_device: bool = False, allow_mic: bool = True,
           extra: tuple[str, ...] = (), env: dict[str, str] | None = None) -> Any:
    """Headless Chromium. ``mic_wav``: a fake microphone playing that file (``fake_device``: a
    fake microphone without a file); ``allow_mic``: microphone permission granted without a prompt."""
    if not Path(CHROMIUM).exists():
        pytest.fail(f"{CHROMIUM} is missing; install the distribution's chromium package")
    args = [*BASE_ARGS, *extra]
    if allow_mic:
        args.append("--use-fake-ui-for-media-stream")
    if mic_wav is not None or fake_device:
        args.append("--use-fake-device-for-media-stream")
    if mic_wav is not None:
        args.append(f"--use-file-for-fake-audio-capture={mic_wav}")
    return p.chromium.launch(executable_path=CHROMIUM, args=args, headless=True, env={**os.environ, **(env or {})})
