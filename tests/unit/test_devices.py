"""Choosing sound devices and rates, and the terminal's pure rendering, without hardware."""

from __future__ import annotations

import pytest

from voice_interviewer.channels.devices import (
    DeviceInfo,
    candidate_rates,
    format_device_list,
    negotiate_rate,
    resolve_device,
)
from voice_interviewer.channels.terminal_ui import format_clock, key_action, level_bar, render_status
from voice_interviewer.errors import AudioDeviceError

DEVICES = [
    DeviceInfo(0, "HDA Intel PCH: ALC892 Analog (hw:0,0)", 2, 8, 44100.0),
    DeviceInfo(1, "HDMI 0 (hw:0,3)", 0, 8, 48000.0),
    DeviceInfo(2, "USB Audio Device: Mic (hw:1,0)", 1, 0, 48000.0),
    DeviceInfo(3, "pulse", 32, 32, 44100.0),
    DeviceInfo(4, "default", 32, 32, 44100.0),
]


def test_default_device_is_portaudios_default_when_nothing_given():
    assert resolve_device(None, DEVICES, "input", 4).index == 4
    assert resolve_device("", DEVICES, "output", 1).index == 1


def test_default_without_a_portaudio_default_takes_the_first_usable():
    assert resolve_device(None, DEVICES, "input", None).index == 0
    assert resolve_device(None, DEVICES, "input", 1).index == 0  # default has no inputs


def test_index_selects_exactly_that_device():
    assert resolve_device("2", DEVICES, "input", 4).name.startswith("USB")


def test_name_substring_is_case_insensitive():
    assert resolve_device("usb", DEVICES, "input", 4).index == 2
    assert resolve_device("HDMI", DEVICES, "output", 4).index == 1


def test_exact_name_wins_over_substring_matches():
    devices = DEVICES + [DeviceInfo(5, "pulse monitor", 2, 0, 44100.0)]
    assert resolve_device("pulse", devices, "input", 4).index == 3


def test_unknown_index_names_the_value_and_the_choices():
    with pytest.raises(AudioDeviceError) as err:
        resolve_device("999", DEVICES, "input", 4)
    msg = str(err.value)
    assert "--input-device 999" in msg and "2: USB Audio Device" in msg
    assert "HDMI" not in msg  # output-only devices are not offered as microphones


def test_device_without_channels_in_that_direction_is_refused():
    with pytest.raises(AudioDeviceError, match="'HDMI 0 .hw:0,3.' has no input channels"):
        resolve_device("1", DEVICES, "input", 4)


def test_ambiguous_name_lists_the_matches():
    with pytest.raises(AudioDeviceError, match=r"matches 2 input devices") as err:
        resolve_device("hw:", DEVICES, "input", 4)
    assert "0: HDA Intel" in str(err.value) and "2: USB" in str(err.value)


def test_no_match_says_what_exists():
    with pytest.raises(AudioDeviceError, match="no input device name contains it"):
        resolve_device("bluetooth", DEVICES, "input", 4)


def test_no_devices_at_all_is_a_clear_error():
    with pytest.raises(AudioDeviceError, match="no input device found .PortAudio sees 0 device"):
        resolve_device(None, [], "input", None)
    with pytest.raises(AudioDeviceError, match="no output device found"):
        resolve_device("1", [DeviceInfo(0, "mic", 1, 0, 16000.0)], "output", None)


def test_candidate_rates_start_with_device_default_and_stay_in_speech_range():
    assert candidate_rates(44100.0) == [44100, 48000, 32000, 22050, 16000]
    assert candidate_rates(16000.0)[0] == 16000
    assert candidate_rates(96000.0)[0] == 48000  # above what the speech layer accepts


def test_negotiation_takes_the_first_rate_portaudio_accepts():
    tried = []

    def check(device, channels, dtype, samplerate):
        tried.append(samplerate)
        if samplerate != 32000:
            raise ValueError("Invalid sample rate")

    assert negotiate_rate(check, DEVICES[2], "input") == 32000
    assert tried == [48000, 44100, 32000]


def test_negotiation_failure_lists_every_rate_tried_and_the_fix():
    def refuse(**kw):
        raise RuntimeError("Device unavailable")

    with pytest.raises(AudioDeviceError) as err:
        negotiate_rate(refuse, DEVICES[2], "input")
    msg = str(err.value)
    assert "48000 Hz (Device unavailable)" in msg and "16000 Hz" in msg and "--input-device" in msg


def test_device_list_marks_defaults_and_directions():
    table = format_device_list(DEVICES, 4, 3)
    lines = table.splitlines()
    assert any(line.startswith(" >") and "pulse" in line for line in lines)
    assert any(line.startswith("< ") and "default" in line for line in lines)
    assert "input/output" in table and "HDMI" in table
    assert "No sound devices" in format_device_list([], None, None)


def test_keys_map_to_commands_and_others_are_ignored():
    assert [key_action(c) for c in "\n\rsSrpqx "] == ["done", "done", "skip", "skip", "reveal", "pause",
                                                     "quit", None, None]


def test_level_bar_spans_floor_to_full_scale():
    assert level_bar(None, 10) == "·" * 10
    assert level_bar(-80.0, 10) == "·" * 10
    assert level_bar(0.0, 10) == "█" * 10
    assert level_bar(-30.0, 10) == "█" * 5 + "·" * 5


def test_status_line_fits_the_width_and_keeps_the_newest_words():
    line = render_status(75.2, -20.0, "one two three four five six seven eight nine ten", 50)
    assert len(line) <= 50
    assert line.startswith("[  1:16]") and line.endswith("nine ten")
    assert "PAUSED" in render_status(10, None, "", 80, paused=True)
    assert format_clock(0.2) == "0:01" and format_clock(-3) == "0:00"


def test_long_lines_fold_at_words_on_a_terminal(monkeypatch):
    import io

    from voice_interviewer.channels.terminal_ui import Screen

    monkeypatch.setenv("COLUMNS", "41")
    out = io.StringIO()
    said = ("You said: a feature store keeps the training and serving features consistent, "
            "so offline and online values never drift apart")
    Screen(out, is_tty=True).line(said + "\n  - Name the registry https://example.invalid/a-very-long-path-kept-whole")
    lines = out.getvalue().rstrip("\n").split("\n")
    assert all(len(x) <= 40 for x in lines if "https" not in x), lines
    # Folding only moved spaces: every word is whole, in order, and continuations hang under their line.
    assert " ".join(" ".join(lines).split()) == " ".join(said.split()) + \
        " - Name the registry https://example.invalid/a-very-long-path-kept-whole"
    assert lines[1].startswith("  ") and not lines[1].startswith("   ")
    assert lines[-1].strip() == "https://example.invalid/a-very-long-path-kept-whole"
    piped = io.StringIO()
    Screen(piped, is_tty=False).line(said)  # a log or a pipe keeps the line whole
    assert piped.getvalue() == said + "\n"


def test_missing_portaudio_library_is_a_clear_error(monkeypatch):
    """sounddevice raises OSError at import when libportaudio is absent; that cannot be arranged
    in a process that already loaded it, so the import itself is made to fail that way."""
    import builtins
    import sys

    from voice_interviewer.channels.devices import import_sounddevice

    real_import = builtins.__import__

    def no_portaudio(name, *args, **kwargs):
        if name == "sounddevice":
            raise OSError("PortAudio library not found")
        return real_import(name, *args, **kwargs)

    monkeypatch.delitem(sys.modules, "sounddevice", raising=False)
    monkeypatch.setattr(builtins, "__import__", no_portaudio)
    with pytest.raises(AudioDeviceError, match=r"PortAudio is not installed .*libportaudio2.*--text"):
        import_sounddevice()
