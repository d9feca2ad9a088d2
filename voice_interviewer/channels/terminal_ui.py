"""The desktop session's terminal: single-key commands and a live status line.

Keys are read in cbreak mode (one key at a time, no echo, Ctrl-C still works)
through the event loop's reader callbacks, so waiting for a key never blocks the
loop that is feeding microphone audio to the transcriber. The terminal's settings
are saved on entry and restored on exit, whatever ends the session.

On a TTY the status (countdown, level meter, the tail of the partial transcript)
is one line redrawn in place; anywhere else (a log file, a pipe, a test) the same
information arrives as plain lines, and only when something happens.
"""

from __future__ import annotations

import asyncio
import os
import shutil
import sys
import textwrap
from collections.abc import Callable
from typing import TextIO

# "t" (try again) acts only while a question's feedback is under review; Enter then goes on.
KEY_ACTIONS = {"\n": "done", "\r": "done", "s": "skip", "r": "reveal", "p": "pause", "q": "quit", "t": "retry"}
KEY_HELP = "Enter = done · s = skip · r = reveal strong answer · p = pause/resume · q = quit"
METER_FLOOR_DBFS = -60.0


def key_action(ch: str) -> str | None:
    """The command a key stands for ("done", "skip", ...), or None for other keys."""
    return KEY_ACTIONS.get(ch if ch in ("\n", "\r") else ch.lower())


def level_bar(level_dbfs: float | None, width: int = 16, floor_dbfs: float = METER_FLOOR_DBFS) -> str:
    """A meter for an input level: empty at ``floor_dbfs`` and below, full at 0 dBFS."""
    if level_dbfs is None or level_dbfs <= floor_dbfs:
        filled = 0
    else:
        filled = round(width * min(1.0, (level_dbfs - floor_dbfs) / -floor_dbfs))
    return "█" * filled + "·" * (width - filled)


def format_clock(seconds: float) -> str:
    s = max(0, int(seconds + 0.999))
    return f"{s // 60}:{s % 60:02d}"


def render_status(remaining_s: float, level_dbfs: float | None, partial: str, width: int,
                  paused: bool = False) -> str:
    """One status line no wider than ``width``: countdown, meter, newest words of the partial."""
    state = "PAUSED" if paused else format_clock(remaining_s)
    db = f"{level_dbfs:4.0f} dB" if level_dbfs is not None and level_dbfs > -120 else "  -- dB"
    head = f"[{state:>6}] {level_bar(level_dbfs)} {db} "
    room = width - len(head) - 1
    text = " ".join(partial.split())
    if room <= 0:
        return head[:width]
    if len(text) > room:
        text = "…" + text[-(room - 1):]
    return head + text


def wrap_lines(text: str, width: int) -> str:
    """Each line folded at word boundaries to ``width`` columns; continuations hang two spaces in.

    A terminal folds a long line at the last column, mid-word; a question or a transcript read
    while answering must not be. A word longer than the line (a URL) is left whole.
    """
    out = []
    for line in text.split("\n"):
        indent = line[:len(line) - len(line.lstrip(" "))]
        if len(line) <= width or width <= len(indent) + 10:
            out.append(line)
            continue
        out.append(textwrap.fill(line.strip(), width=width, initial_indent=indent, subsequent_indent=indent + "  ",
                                 break_long_words=False, break_on_hyphens=False))
    return "\n".join(out)


class Screen:
    """Where the session's words and live status go."""

    def __init__(self, out: TextIO | None = None, is_tty: bool | None = None):
        self.out = out or sys.stdout
        self.is_tty = self.out.isatty() if is_tty is None else is_tty
        self._status_shown = False
        self._last_plain = ""

    def line(self, text: str = "") -> None:
        """A permanent line (clears the status line first so they never mix), folded at words on a TTY."""
        self.clear_status()
        if self.is_tty:
            text = wrap_lines(text, shutil.get_terminal_size((80, 24)).columns - 1)
        print(text, file=self.out, flush=True)

    def status(self, remaining_s: float, level_dbfs: float | None, partial: str, paused: bool = False) -> None:
        """Redraw the status line (TTY only; plain output gets :meth:`line` events instead)."""
        if not self.is_tty:
            return
        width = shutil.get_terminal_size((80, 24)).columns
        self.out.write("\r\x1b[2K" + render_status(remaining_s, level_dbfs, partial, width, paused))
        self.out.flush()
        self._status_shown = True

    def event(self, text: str) -> None:
        """Something worth a line in plain output; on a TTY the status line already shows it."""
        if self.is_tty or text == self._last_plain:
            return
        self._last_plain = text
        self.line(text)

    def clear_status(self) -> None:
        if self._status_shown:
            self.out.write("\r\x1b[2K")
            self.out.flush()
            self._status_shown = False


class KeyReader:
    """Single-key commands from a terminal (or any readable pipe), delivered to ``on_key``.

    Use as a context manager inside the running event loop. ``on_key`` receives each
    command name from :data:`KEY_ACTIONS`; other keys are ignored. When the input
    cannot be watched (a regular file, /dev/null) or reaches end of file, no commands
    arrive and answers end by silence or timer only.
    """

    def __init__(self, on_key: Callable[[str], None], fd: int | None = None):
        self.fd = sys.stdin.fileno() if fd is None else fd
        self.on_key = on_key
        self.active = False
        self._saved: list | None = None
        self._loop: asyncio.AbstractEventLoop | None = None

    def __enter__(self) -> "KeyReader":
        self._loop = asyncio.get_running_loop()
        if os.isatty(self.fd):
            import termios
            import tty

            self._saved = termios.tcgetattr(self.fd)
            tty.setcbreak(self.fd, termios.TCSANOW)
        try:
            self._loop.add_reader(self.fd, self._readable)
            self.active = True
        except (PermissionError, OSError, ValueError):
            self.active = False
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def close(self) -> None:
        """Stop reading and restore the terminal exactly as it was."""
        if self.active and self._loop is not None:
            self._loop.remove_reader(self.fd)
            self.active = False
        if self._saved is not None:
            import termios

            termios.tcsetattr(self.fd, termios.TCSADRAIN, self._saved)
            self._saved = None

    def _readable(self) -> None:
        try:
            data = os.read(self.fd, 64)
        except OSError:
            data = b""
        if not data:
            self.close()
            return
        for ch in data.decode("utf-8", "ignore"):
            action = key_action(ch)
            if action:
                self.on_key(action)
