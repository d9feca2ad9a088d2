"""Finding the sound devices a desktop session uses, and a sample rate they accept.

Choosing a device is pure logic over the list PortAudio reports, so it lives here
apart from the streams and is tested without hardware. A device is named by its
index or by part of its name (``--input-device 3``, ``--input-device usb``);
PortAudio's default is used when nothing is given. Devices differ in the rates
they accept, so the rate is negotiated: the device's own default first (what
the hardware runs at, so nothing resamples twice), then common rates, each
checked with PortAudio before a stream is opened. The channel resamples to and
from 16 kHz itself.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from types import ModuleType
from typing import Any

from ..errors import AudioDeviceError

FALLBACK_RATES_HZ = (48000, 44100, 32000, 22050, 16000)
MIN_RATE_HZ, MAX_RATE_HZ = 8000, 48000  # what the speech layer resamples from
KINDS = ("input", "output")


@dataclass(frozen=True)
class DeviceInfo:
    """One device as PortAudio reports it.

    Attributes:
        index: PortAudio's device index (what ``--input-device N`` selects).
        name: The device's name, as shown by ``--list-devices``.
        max_input_channels: 0 for output-only devices.
        max_output_channels: 0 for input-only devices.
        default_samplerate_hz: The rate the device prefers.
    """

    index: int
    name: str
    max_input_channels: int
    max_output_channels: int
    default_samplerate_hz: float

    def channels(self, kind: str) -> int:
        return self.max_input_channels if kind == "input" else self.max_output_channels

    @classmethod
    def from_portaudio(cls, d: dict[str, Any]) -> "DeviceInfo":
        return cls(int(d["index"]), str(d["name"]), int(d["max_input_channels"]),
                   int(d["max_output_channels"]), float(d["default_samplerate"]))


def import_sounddevice() -> ModuleType:
    """Import sounddevice, turning a missing PortAudio library into a clear error."""
    try:
        import sounddevice
    except OSError as exc:  # sounddevice raises OSError when libportaudio cannot be loaded
        raise AudioDeviceError(
            f"PortAudio is not installed ({exc}); desktop practice needs it to reach the "
            "microphone and speakers. Install it (Debian/Ubuntu: apt-get install libportaudio2; "
            "macOS: brew install portaudio) or practise with --text or in the browser.") from exc
    return sounddevice


def query_devices(sd: ModuleType) -> list[DeviceInfo]:
    """Every device PortAudio can see (an empty list when there are none)."""
    return [DeviceInfo.from_portaudio(d) for d in sd.query_devices()]


def default_indices(sd: ModuleType) -> tuple[int | None, int | None]:
    """PortAudio's default (input, output) device indices; None where there is no default."""
    pair = sd.default.device
    try:
        inp, out = int(pair[0]), int(pair[1])
    except (TypeError, ValueError, IndexError):
        return None, None
    return (inp if inp >= 0 else None), (out if out >= 0 else None)


def format_device_list(devices: Sequence[DeviceInfo], default_input: int | None,
                       default_output: int | None) -> str:
    """The ``--list-devices`` table: index, direction, channels, default rate, name."""
    if not devices:
        return "No sound devices found (PortAudio sees none). Check that a sound server is running."
    lines = [f"  #  {'use':<12} in/out  rate Hz  name"]
    for d in devices:
        marks = ("<" if d.index == default_input else " ") + (">" if d.index == default_output else " ")
        use = "/".join(k for k in KINDS if d.channels(k) > 0) or "none"
        lines.append(f"{marks}{d.index:>2}  {use:<12} {d.max_input_channels:>2}/{d.max_output_channels:<2}"
                     f" {d.default_samplerate_hz:>7.0f}  {d.name}")
    lines.append("< default input   > default output.  Select with --input-device/--output-device "
                 "INDEX or part of the name.")
    return "\n".join(lines)


def resolve_device(spec: str | None, devices: Sequence[DeviceInfo], kind: str,
                   default_index: int | None) -> DeviceInfo:
    """The device ``spec`` names (index or name substring), or the default one.

    Args:
        spec: What the user gave (None or "" for the default device).
        devices: Every device PortAudio sees.
        kind: "input" or "output": the device must have channels in that direction.
        default_index: PortAudio's default device for ``kind``.

    Raises:
        AudioDeviceError: No device of that kind, no match, an ambiguous name, or a
            device without channels in that direction; the message lists the usable ones.
    """
    if kind not in KINDS:
        raise ValueError(f"kind must be one of {KINDS}, got {kind!r}")
    usable = [d for d in devices if d.channels(kind) > 0]
    flag = f"--{kind}-device"
    if not usable:
        what = "microphone" if kind == "input" else "speaker"
        raise AudioDeviceError(
            f"no {kind} device found (PortAudio sees {len(devices)} device(s), none with {kind} "
            f"channels); connect a {what} or start the sound server, then run "
            "'voice-interviewer practice --list-devices'.")
    choices = "; ".join(f"{d.index}: {d.name}" for d in usable)
    if spec is None or not spec.strip():
        chosen = next((d for d in usable if d.index == default_index), None)
        return chosen or usable[0]
    spec = spec.strip()
    if spec.lstrip("-").isdigit():
        index = int(spec)
        match = next((d for d in devices if d.index == index), None)
        if match is None:
            raise AudioDeviceError(f"{flag} {index}: no device has that index; {kind} devices are "
                                   f"[{choices}]. Pick one of these indices or part of a name.")
        if match.channels(kind) <= 0:
            raise AudioDeviceError(f"{flag} {index}: '{match.name}' has no {kind} channels; {kind} "
                                   f"devices are [{choices}].")
        return match
    needle = spec.lower()
    exact = [d for d in usable if d.name.lower() == needle]
    if len(exact) == 1:
        return exact[0]
    partial = [d for d in usable if needle in d.name.lower()]
    if len(partial) == 1:
        return partial[0]
    if not partial:
        raise AudioDeviceError(f"{flag} {spec!r}: no {kind} device name contains it; {kind} devices "
                               f"are [{choices}]. Give an index or part of one of these names.")
    names = "; ".join(f"{d.index}: {d.name}" for d in partial)
    raise AudioDeviceError(f"{flag} {spec!r} matches {len(partial)} {kind} devices [{names}]; "
                           "give the index or a longer part of the name.")


def candidate_rates(default_rate_hz: float, target_rate_hz: int = 16000) -> list[int]:
    """Rates to try, best first: the device default, then common rates, then the target."""
    rates: list[int] = []
    for r in (int(round(default_rate_hz)), *FALLBACK_RATES_HZ, target_rate_hz):
        if MIN_RATE_HZ <= r <= MAX_RATE_HZ and r not in rates:
            rates.append(r)
    return rates


def negotiate_rate(check: Callable[..., None], device: DeviceInfo, kind: str) -> int:
    """The first candidate rate ``check`` accepts for ``device`` (mono, 16-bit).

    ``check`` is ``sd.check_input_settings`` or ``sd.check_output_settings``: it
    raises when PortAudio would refuse to open the stream.
    """
    tried: list[str] = []
    for rate in candidate_rates(device.default_samplerate_hz):
        try:
            check(device=device.index, channels=1, dtype="int16", samplerate=rate)
            return rate
        except Exception as exc:  # PortAudioError or ValueError, depending on the backend
            tried.append(f"{rate} Hz ({exc})")
    raise AudioDeviceError(
        f"{kind} device {device.index} '{device.name}' accepts none of the sample rates tried: "
        f"{'; '.join(tried)}. It may be busy in another program; close that program or choose "
        f"another device with --{kind}-device.")
