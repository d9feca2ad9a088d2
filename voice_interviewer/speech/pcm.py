"""PCM16 conversion, anti-aliased resampling (one-shot and streaming) and levels.

Browsers capture at 44.1 or 48 kHz, phones at 8 kHz, Whisper wants 16 kHz. The
resampler is a polyphase FIR (the filter :func:`scipy.signal.resample_poly`
designs), so content above the new Nyquist frequency is removed instead of
folding back as noise. :class:`StreamResampler` applies the same filter to a
live stream: it keeps the filter's history between frames, so frame edges leave
no clicks and the output matches the one-shot result on the whole recording.
This is the project's only resampler: live input, files, the voices and the
store all go through it (WAV files themselves are read and written by
:mod:`voice_interviewer.wav`).
"""

from __future__ import annotations

import math

import numpy as np
from scipy.signal import firwin, resample_poly

from ..errors import AudioError

MIN_RATE = 8000
MAX_RATE = 48000


def pcm16_to_float(data: bytes) -> np.ndarray:
    """Little-endian signed 16-bit samples → float32 in [-1, 1)."""
    if len(data) % 2:
        raise AudioError(f"PCM16 data must have an even number of bytes, got {len(data)}; "
                         "send whole 16-bit samples (little-endian, mono)")
    return np.frombuffer(data, dtype="<i2").astype(np.float32) / 32768.0


def float_to_pcm16(audio: np.ndarray) -> bytes:
    """float audio in [-1, 1] → little-endian PCM16 bytes; values outside are clipped."""
    scaled = np.clip(np.asarray(audio, dtype=np.float64) * 32768.0, -32768, 32767)
    return np.round(scaled).astype("<i2").tobytes()


def check_rate(rate: int) -> int:
    """Validate a sample rate the speech layer accepts (8–48 kHz)."""
    if not isinstance(rate, (int, np.integer)) or not MIN_RATE <= int(rate) <= MAX_RATE:
        raise AudioError(f"sample rate {rate!r} Hz is not supported; use an integer from "
                         f"{MIN_RATE} to {MAX_RATE} Hz (16000 preferred)")
    return int(rate)


def _ratio(rate_in: int, rate_out: int) -> tuple[int, int]:
    g = math.gcd(rate_in, rate_out)
    return rate_out // g, rate_in // g


def resample(audio: np.ndarray, rate_in: int, rate_out: int, *, any_input_rate: bool = False) -> np.ndarray:
    """Resample mono float audio with an anti-aliasing polyphase filter.

    ``any_input_rate`` lifts the 8–48 kHz check on the input for files (studio
    recordings at 88.2–192 kHz); live streams keep the check, since a browser
    or device claiming such a rate is a bug to report, not audio to convert.
    """
    audio = np.asarray(audio, dtype=np.float32)
    if rate_in == rate_out:
        return audio.copy()
    if any_input_rate and isinstance(rate_in, (int, np.integer)) and rate_in > 0:
        rate_in = int(rate_in)
    else:
        rate_in = check_rate(rate_in)
    up, down = _ratio(rate_in, check_rate(rate_out))
    return resample_poly(audio, up, down).astype(np.float32)


def resample_pcm16(pcm16: bytes, rate_in: int, rate_out: int) -> bytes:
    """:func:`resample` for PCM16 bytes; the same bytes back when the rates already match."""
    if rate_in == rate_out or not pcm16:
        return pcm16
    return float_to_pcm16(resample(pcm16_to_float(pcm16), rate_in, rate_out))


def downmix_pcm16(pcm16: bytes, channels: int) -> bytes:
    """Interleaved multi-channel PCM16 → mono PCM16, each frame the mean of its channels."""
    if channels == 1:
        return pcm16
    if channels < 1 or len(pcm16) % (2 * channels):
        raise AudioError(f"{len(pcm16)} bytes is not a whole number of {channels}-channel PCM16 frames")
    frames = np.frombuffer(pcm16, dtype="<i2").reshape(-1, channels).astype(np.float64)
    return np.round(frames.mean(axis=1)).astype("<i2").tobytes()


class StreamResampler:
    """Stateful resampler: frames of any size in, one continuous resampled stream out.

    Output sample ``n`` is produced as soon as the input it depends on has arrived
    (a delay of about 10 input samples), so a stream processed frame by frame and
    then flushed equals :func:`resample` of the joined input.
    """

    def __init__(self, rate_in: int, rate_out: int = 16000):
        self.rate_in, self.rate_out = check_rate(rate_in), check_rate(rate_out)
        self.up, self.down = _ratio(self.rate_in, self.rate_out)
        self._passthrough = self.up == self.down
        self._n_in = 0      # input samples received
        self._m_next = 0    # next full-filter output index to compute
        self._n_out = 0     # samples returned so far
        if self._passthrough:
            return
        max_rate = max(self.up, self.down)
        half_len = 10 * max_rate
        h = firwin(2 * half_len + 1, 1.0 / max_rate, window=("kaiser", 5.0)) * self.up
        n_pre_pad = self.down - half_len % self.down
        h = np.concatenate([np.zeros(n_pre_pad), h])
        self._skip = (half_len + n_pre_pad) // self.down  # filter delay, in output samples
        self.taps = -(-len(h) // self.up)
        h = np.concatenate([h, np.zeros(self.taps * self.up - len(h))])
        # phases[p, k] = h[p + k*up]: the taps that meet input sample i_hi - k for phase p.
        self._phases = h.reshape(self.taps, self.up).T.copy()
        self._history = np.zeros(self.taps - 1, dtype=np.float64)

    def _compute(self, x: np.ndarray) -> np.ndarray:
        """Append ``x`` to the input and return every full-filter output now computable."""
        base = self._n_in - len(self._history)  # global index of buffer[0]
        buf = np.concatenate([self._history, x])
        self._n_in += len(x)
        m_last = ((self._n_in - 1) * self.up) // self.down if self._n_in else -1
        out = np.zeros(0)
        if m_last >= self._m_next:
            m = np.arange(self._m_next, m_last + 1)
            t = m * self.down
            i_hi = t // self.up
            phase = t - i_hi * self.up
            idx = (i_hi - base)[:, None] - np.arange(self.taps)[None, :]
            valid = idx >= 0  # before the stream start the signal is zero
            vals = np.where(valid, buf[np.clip(idx, 0, None)], 0.0)
            out = np.einsum("mk,mk->m", vals, self._phases[phase])
            self._m_next = m_last + 1
        self._history = buf[-(self.taps - 1):] if self.taps > 1 else np.zeros(0)
        if len(self._history) < self.taps - 1:
            self._history = np.concatenate([np.zeros(self.taps - 1 - len(self._history)), self._history])
        return out

    def _emit(self, full: np.ndarray, limit: int | None = None) -> np.ndarray:
        """Drop the filter-delay samples from the front and stop at ``limit`` outputs."""
        first_m = self._m_next - len(full)
        drop = max(0, self._skip - first_m)
        y = full[drop:]
        if limit is not None:
            y = y[: max(0, limit - self._n_out)]
        self._n_out += len(y)
        return y.astype(np.float32)

    def process(self, audio: np.ndarray) -> np.ndarray:
        """Resample one frame; returns whatever output is ready (may be empty)."""
        x = np.asarray(audio, dtype=np.float64).reshape(-1)
        if self._passthrough:
            self._n_in += len(x)
            return x.astype(np.float32)
        return self._emit(self._compute(x))

    def flush(self) -> np.ndarray:
        """End of stream: the last samples, as if the input were followed by silence."""
        if self._passthrough:
            return np.zeros(0, dtype=np.float32)
        real_in = self._n_in
        total = -(-real_in * self.up // self.down)
        need = total + self._skip  # full-filter outputs required
        pad_in = max(0, -(-(need * self.down) // self.up) - real_in + 1)
        full = self._compute(np.zeros(pad_in))
        return self._emit(full, limit=total)


def level_dbfs(audio: np.ndarray) -> float:
    """RMS level in dB relative to full scale (a full-scale sine is about -3 dBFS); -120 for silence."""
    a = np.asarray(audio, dtype=np.float64)
    if a.size == 0:
        return -120.0
    rms = math.sqrt(float(np.mean(a * a)))
    return max(-120.0, 20.0 * math.log10(rms)) if rms > 0 else -120.0
