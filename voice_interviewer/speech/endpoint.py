"""When an answer is over: a pure decision over VAD results and audio time.

Candidates pause to think, so the end of an answer is a long silence *after*
speech (default 3 s), the question timer, or an explicit signal — never a short
VAD gap. Silence before the candidate starts speaking is not an answer and never
ends it. The same object also reports the shorter pauses at which the streaming
transcriber commits segments. It sees no clock and no model: feed it speech
probabilities with their durations and read the decision back.
"""

from __future__ import annotations

import math
from dataclasses import dataclass


@dataclass(frozen=True)
class EndpointOptions:
    """How speech, pauses and the end of an answer are recognised.

    Attributes:
        end_silence_s: Silence after speech that ends an answer. Keep it well above the
            1–2 s pauses people take to think; ``math.inf`` disables silence endpointing.
        min_speech_s: Speech needed before silence can end an answer (a cough or a
            "hm" does not make an answer).
        start_speech_s: Continuous speech that marks the start of the answer
            ("speech_started"); shorter blips are treated as noise.
        speech_threshold: Silero probability at or above which a window is speech.
        silence_threshold: Probability below which a window is silence again; values in
            between keep the previous state (hysteresis, as in Silero's own segmenter).
        commit_pause_s: A pause this long after speech commits the segment before it,
            so long answers are never re-transcribed from the start. Shorter than
            ``end_silence_s``; long enough not to split inside words.
    """

    end_silence_s: float = 3.0
    min_speech_s: float = 0.5
    start_speech_s: float = 0.2
    speech_threshold: float = 0.5
    silence_threshold: float = 0.35
    commit_pause_s: float = 0.6

    def __post_init__(self) -> None:
        from ..errors import ConfigError

        if not self.end_silence_s > 0:
            raise ConfigError(f"end_silence_s must be > 0 seconds, got {self.end_silence_s}; "
                              "use about 3 s (math.inf to end only on timer or explicit finish)")
        if not 0 < self.silence_threshold <= self.speech_threshold < 1:
            raise ConfigError(
                f"need 0 < silence_threshold ({self.silence_threshold}) <= speech_threshold "
                f"({self.speech_threshold}) < 1; the defaults 0.35 and 0.5 suit most microphones")
        if self.commit_pause_s <= 0 or self.min_speech_s < 0 or self.start_speech_s < 0:
            raise ConfigError("commit_pause_s must be > 0 and min_speech_s, start_speech_s >= 0 "
                              f"(got {self.commit_pause_s}, {self.min_speech_s}, {self.start_speech_s})")


@dataclass(frozen=True)
class EndpointUpdate:
    """What changed with one VAD window.

    Attributes:
        speech_started: This window confirmed the start of the answer's speech.
        pause: This window completed a commit pause (``commit_pause_s`` of silence after speech).
        ended: ``"silence"`` or ``"timer"`` when this window ended the answer, else ``None``.
    """

    speech_started: bool = False
    pause: bool = False
    ended: str | None = None


NO_CHANGE = EndpointUpdate()


class Endpointer:
    """Tracks speech and silence over audio time and decides pauses and the end of the answer."""

    def __init__(self, options: EndpointOptions = EndpointOptions(), timer_s: float = math.inf):
        self.options = options
        self.timer_s = timer_s
        self.audio_s = 0.0
        self.speech_s = 0.0
        self.silence_s = 0.0
        self.in_speech = False
        self.speech_start_s: float | None = None
        self.last_speech_end_s: float | None = None
        self.ended: str | None = None
        self._run_s = 0.0
        self._run_start_s = 0.0
        self._pause_reported = True

    @property
    def started(self) -> bool:
        return self.speech_start_s is not None

    def update(self, speech_prob: float, duration_s: float) -> EndpointUpdate:
        """Account for one window of ``duration_s`` seconds with this speech probability."""
        if self.ended:
            return NO_CHANGE
        o = self.options
        start = self.audio_s
        self.audio_s += duration_s
        if speech_prob >= o.speech_threshold or (self.in_speech and speech_prob >= o.silence_threshold):
            if not self.in_speech:
                self._run_start_s, self._run_s = start, 0.0
            self.in_speech = True
            self._run_s += duration_s
            self.speech_s += duration_s
            self.silence_s = 0.0
            self.last_speech_end_s = self.audio_s
            self._pause_reported = False
        else:
            self.in_speech = False
            self.silence_s += duration_s
        started = False
        if not self.started and self.in_speech and self._run_s >= o.start_speech_s:
            self.speech_start_s = self._run_start_s
            started = True
        pause = False
        if not self._pause_reported and self.silence_s >= o.commit_pause_s:
            self._pause_reported = pause = True
        ended = None
        if self.audio_s >= self.timer_s:
            ended = "timer"
        elif self.started and self.speech_s >= o.min_speech_s and self.silence_s >= o.end_silence_s:
            ended = "silence"
        self.ended = ended
        if not (started or pause or ended):
            return NO_CHANGE
        return EndpointUpdate(started, pause, ended)
