"""Running one desktop practice session: devices, voice, transcriber, store, cleanup.

Everything that can fail before the interview starts (PortAudio missing, no
microphone, a busy device, a missing model) fails here with a clear error,
before the session is recorded. Once the interview runs, the terminal and the
audio streams are released whatever ends it: the last answer, ``q``, Ctrl-C,
SIGTERM or a device that vanishes; in the last cases the flow has already told
the recorder the session failed and the audio received so far is on disk.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import json
import signal
from contextlib import nullcontext
from functools import partial
from pathlib import Path
from types import ModuleType
from typing import TextIO

from ..bank import Bank
from ..factory import make_grader, make_policy
from ..interview import Interview
from ..plan import InterviewSettings
from ..recording import NullRecorder
from ..report import SessionReport
from ..transcript import Transcript
from .desktop import AudioPath, DesktopChannel, DesktopOptions
from .devices import (
    default_indices,
    format_device_list,
    import_sounddevice,
    negotiate_rate,
    query_devices,
    resolve_device,
)
from .terminal_ui import Screen


def list_devices(out: TextIO) -> int:
    """Print the ``--list-devices`` table."""
    sd = import_sounddevice()
    default_in, default_out = default_indices(sd)
    print(format_device_list(query_devices(sd), default_in, default_out), file=out)
    return 0


def negotiate_path(sd: ModuleType, input_spec: str | None, output_spec: str | None) -> AudioPath:
    """Pick both devices and a rate each accepts, or raise AudioDeviceError saying why not."""
    devices = query_devices(sd)
    default_in, default_out = default_indices(sd)
    inp = resolve_device(input_spec, devices, "input", default_in)
    out = resolve_device(output_spec, devices, "output", default_out)
    return AudioPath(inp, negotiate_rate(sd.check_input_settings, inp, "input"),
                     out, negotiate_rate(sd.check_output_settings, out, "output"))


async def _run(interview: Interview, channel: DesktopChannel) -> SessionReport | None:
    loop = asyncio.get_running_loop()
    task = asyncio.current_task()
    try:
        if task is not None:
            loop.add_signal_handler(signal.SIGTERM, task.cancel)
    except (NotImplementedError, RuntimeError, AttributeError):  # not on the main thread / Windows
        pass
    channel.start()
    try:
        return await interview.run()
    finally:
        channel.shutdown()
        await channel.synth.close()
        try:
            loop.remove_signal_handler(signal.SIGTERM)
        except (NotImplementedError, RuntimeError):
            pass


def run_desktop_session(settings: InterviewSettings, bank: Bank, *, input_device: str | None = None,
                        output_device: str | None = None, options: DesktopOptions = DesktopOptions(),
                        voice_engine: str | None = None, voice: str | None = None,
                        data_dir: str | None = None, store_url: str | None = None,
                        report_path: str | None = None,
                        screen: Screen | None = None, record: bool = True) -> SessionReport | None:
    """Run one spoken session at this computer and return its report (None if nothing was graded)."""
    from ..speech.engine import SpeechEngine
    from ..speech.tts import VoiceOptions, make_synthesizer
    from ..store import SessionStore

    sd = import_sounddevice()
    path = negotiate_path(sd, input_device, output_device)
    screen = screen or Screen()
    screen.line("Loading the voice and the speech recogniser…")
    # Start-up is dominated by model loads: the recogniser loads beside the voice, and the
    # grader's models (needed only after the first answer) while the first question is asked.
    pool = concurrent.futures.ThreadPoolExecutor(max_workers=1, thread_name_prefix="desktop-start")
    try:
        engine_loading = pool.submit(SpeechEngine.shared)
        synthesizer = make_synthesizer(VoiceOptions(engine=voice_engine, voice=voice))
        engine = engine_loading.result()
        grader = make_grader(settings.interviewer)
        channel = DesktopChannel(sd, path, engine, synthesizer, options, screen, tuple(bank.vocabulary))
        with (SessionStore(data_dir, url=store_url) if record else nullcontext()) as store:
            interview = Interview(bank, settings, channel, make_policy(settings.interviewer), grader,
                                  recorder=store.recorder() if store is not None else NullRecorder())
            if interview.questions:
                first = interview.questions[0]
                channel.warm_up = partial(grader.coverage, first, [Transcript(first.strong_answer)])
            try:
                report = asyncio.run(_run(interview, channel))
            except asyncio.CancelledError:  # SIGTERM: the flow has recorded the session as failed
                raise KeyboardInterrupt from None
    finally:
        pool.shutdown(wait=False, cancel_futures=True)
    if report_path and report is not None:
        Path(report_path).write_text(json.dumps(report.to_dict(), indent=2), encoding="utf-8")
    return report
