"""Streaming voice-activity detection with faster-whisper's bundled Silero model.

``faster_whisper.vad.get_speech_timestamps`` wants the whole recording and resets
the model's recurrent state on every call. A live answer arrives in small frames,
so this wrapper feeds the same ONNX session window by window and carries the
recurrent state and the 64-sample context across frames: the probabilities are
those the batch function would compute over the joined audio.
"""

from __future__ import annotations

import numpy as np

WINDOW_SAMPLES = 512
"""Silero v6 at 16 kHz scores 512-sample windows (32 ms)."""
CONTEXT_SAMPLES = 64
WINDOW_S = WINDOW_SAMPLES / 16000


class StreamingVad:
    """Speech probability per 32 ms window of 16 kHz audio, fed in frames of any size."""

    def __init__(self) -> None:
        from faster_whisper.vad import get_vad_model

        self._session = get_vad_model().session
        inputs = sorted(i.name for i in self._session.get_inputs())
        if inputs != ["c", "h", "input"]:
            from ..errors import ModelUnavailableError

            raise ModelUnavailableError(
                f"faster-whisper's bundled VAD has inputs {inputs}, expected the Silero v6 model "
                "(c, h, input); install faster-whisper>=1.2 (`pip install -U 'faster-whisper>=1.2'`)")
        self._h = np.zeros((1, 1, 128), dtype=np.float32)
        self._c = np.zeros((1, 1, 128), dtype=np.float32)
        self._context = np.zeros(CONTEXT_SAMPLES, dtype=np.float32)
        self._pending = np.zeros(0, dtype=np.float32)

    def process(self, audio: np.ndarray) -> np.ndarray:
        """Probabilities (0–1) for every complete window now available, oldest first."""
        buf = np.concatenate([self._pending, np.asarray(audio, dtype=np.float32)])
        n = len(buf) // WINDOW_SAMPLES
        self._pending = buf[n * WINDOW_SAMPLES:]
        if n == 0:
            return np.zeros(0, dtype=np.float32)
        windows = buf[: n * WINDOW_SAMPLES].reshape(n, WINDOW_SAMPLES)
        contexts = np.vstack([self._context[None, :], windows[:-1, -CONTEXT_SAMPLES:]])
        batch = np.concatenate([contexts, windows], axis=1)
        out, self._h, self._c = self._session.run(None, {"input": batch, "h": self._h, "c": self._c})
        self._context = windows[-1, -CONTEXT_SAMPLES:].copy()
        return np.asarray(out, dtype=np.float32).reshape(-1)
