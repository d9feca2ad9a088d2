"""``voice-interviewer sessions list|show|play|export|delete``: review past interviews."""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

from .. import export
from ..errors import AudioDeviceError, ConfigError
from ..factory import add_store_args, open_store
from ..store import SessionStore
from ..wav import read_wav


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("sessions", help="list, review, replay, export and delete recorded interviews")
    ssub = p.add_subparsers(dest="sessions_command", metavar="ACTION", required=True)

    def add(name: str, help_text: str, handler, with_id: bool = True) -> argparse.ArgumentParser:
        a = ssub.add_parser(name, help=help_text)
        add_store_args(a)
        if with_id:
            a.add_argument("session_id", metavar="ID", help="a session id from 'sessions list'")
        a.set_defaults(handler=handler)
        return a

    ls = add("list", "stored sessions, newest first", _list, with_id=False)
    ls.add_argument("--limit", type=int, default=None, metavar="N", help="show only the newest N")
    add("show", "scores, progress across sessions and the transcript of one session", _show)
    play = add("play", "play both voices of a session in order", _play)
    play.add_argument("--question", type=int, default=None, metavar="N", help="start at question N (1-based)")
    play.add_argument("--output-device", default=None, metavar="DEVICE",
                      help="output device index or name (default: the system default)")
    ex = add("export", "write the report as HTML, JSON or Markdown", _export)
    ex.add_argument("--format", choices=export.FORMATS, default="html")
    ex.add_argument("-o", "--output", metavar="PATH", help="file to write (default: standard output)")
    rm = add("delete", "delete a session's records and audio", _delete)
    rm.add_argument("--yes", action="store_true", help="do not ask for confirmation")


def _store(args: argparse.Namespace) -> SessionStore:
    return open_store(args)


def _list(args: argparse.Namespace) -> int:
    with _store(args) as store:
        sessions = store.list(args.limit)
    if not sessions:
        print(f"No sessions stored in {store.location}.")
        return 0
    print(f"{'ID':<18} {'STARTED':<17} {'STATUS':<12} {'SCORE':>5}  ROLE")
    for s in sessions:
        score = "—" if s["overall"] is None else f"{s['overall']:.0f}"
        print(f"{s['id']:<18} {export.format_when(s['started_at']):<17} {s['status']:<12} {score:>5}  "
              f"{s['role_title'] or s['role']}")
    return 0


def _show(args: argparse.Namespace) -> int:
    with _store(args) as store:
        doc = store.get(args.session_id)
    print(f"Session {doc['id']} — {doc['role_title'] or doc['role']}")
    interviewer, grader = export.who_ran(doc)
    print(f"  started {export.format_when(doc['started_at'])}, {doc['status']}, interviewer: {interviewer}, "
          f"grader: {grader}")
    print(f"  overall score: {export.format_score(export.overall(doc))}")
    if early := export.ended_early(doc):
        print(f"  {early}")
    for r in export.round_scores(doc):
        print(f"  {r['title']}: {export.format_score(r['average'])} ({r['answered']} of {r['questions']} graded"
              f"{', not reached' if not r['reached'] else ''})")
    trends = export.progress(doc)
    for n, q in enumerate(export.reached(doc), 1):
        fb = q.get("feedback")
        print(f"\nQ{n} [{export.format_score(fb['overall'] if fb else None)}] {q['text']}")
        if q["id"] in trends:
            print(f"  progress: {export.format_trend(trends[q['id']])}")
        for item in doc["timeline"]:
            if item["question_id"] == q["id"] and item["kind"] in ("question", "follow_up"):
                who = "Interviewer" if item["speaker"] == "interviewer" else "You"
                print(f"  {who}: {item.get('text') or '(no answer)'}")
    for q in export.not_reached(doc):
        print(f"\nNot reached: {q['text']} ({export.round_title(doc, q['round'])})")
    return 0


def _export(args: argparse.Namespace) -> int:
    with _store(args) as store:
        text = export.render(store.get(args.session_id), args.format)
    if not args.output:
        sys.stdout.write(text)
        return 0
    out = Path(args.output)
    try:
        out.write_text(text, encoding="utf-8")
    except OSError as exc:
        raise ConfigError(f"cannot write {str(out)!r}: {exc.strerror or exc}; choose a writable -o PATH") from None
    print(f"Wrote {out}")
    return 0


def _delete(args: argparse.Namespace) -> int:
    with _store(args) as store:
        doc = store.get(args.session_id, history=False)
        if not args.yes:
            if not sys.stdin.isatty():
                raise ConfigError("refusing to delete without confirmation; add --yes to delete non-interactively")
            answer = input(f"Delete session {doc['id']} ({doc['role_title']}, "
                           f"{export.format_when(doc['started_at'])}) and its audio? [y/N] ")
            if answer.strip().lower() not in ("y", "yes"):
                print("Nothing deleted.")
                return 1
        store.delete(doc["id"])
    print(f"Deleted session {doc['id']}.")
    return 0


def _sounddevice():
    """Import sounddevice late: it needs PortAudio, which only playback requires."""
    try:
        import sounddevice
    except (ImportError, OSError) as exc:
        raise AudioDeviceError(
            f"cannot play audio: PortAudio is not available ({exc}); install it (Debian/Ubuntu: "
            f"sudo apt-get install libportaudio2) or export the session instead"
        ) from None
    return sounddevice


def _output_device(sd, wanted: str | None):
    """The device to play on, checked up front so a missing one fails before anything plays."""
    device = int(wanted) if wanted is not None and wanted.isdigit() else wanted
    try:
        info = sd.query_devices(device, kind="output") if device is not None else sd.query_devices(kind="output")
    except (ValueError, sd.PortAudioError) as exc:
        outputs = [f"{i}: {d['name']}" for i, d in enumerate(sd.query_devices()) if d["max_output_channels"] > 0]
        raise AudioDeviceError(
            f"no usable output device {wanted if wanted is not None else '(system default)'!r}: {exc}; "
            f"output devices: {', '.join(outputs) or 'none found'}; pass one with --output-device"
        ) from None
    return device, info


def _play(args: argparse.Namespace) -> int:
    import numpy as np

    with _store(args) as store:
        doc = store.get(args.session_id, history=False)
        asked = [q for q in doc["questions"] if q.get("asked")]
        items = [i for i in doc["timeline"] if i["audio"]]
        if args.question is not None:
            if not 1 <= args.question <= len(asked):
                raise ConfigError(f"--question {args.question} is out of range: this session asked "
                                  f"{len(asked)} question(s); use 1..{len(asked)}")
            qid = asked[args.question - 1]["id"]
            first = next((n for n, i in enumerate(items) if i["question_id"] == qid), len(items))
            items = items[first:]
        if not items:
            print("This session has no recorded audio to play.")
            return 1
        paths = [(i, store.audio_path(doc["id"], i["name"])) for i in items]
    sd = _sounddevice()
    device, info = _output_device(sd, args.output_device)
    print(f"Playing on {info['name']}. Ctrl+C stops.")
    for item, path in paths:
        who = "Interviewer" if item["speaker"] == "interviewer" else "You"
        print(f"{who}: {item.get('text') or ''}", flush=True)
        pcm16, rate, channels = read_wav(path)
        data = np.frombuffer(pcm16, dtype="<i2").reshape(-1, channels)
        try:
            sd.play(data, rate, device=device)
            sd.wait()
        except sd.PortAudioError as exc:
            raise AudioDeviceError(f"playback failed on {info['name']!r}: {exc}; "
                                   f"choose another --output-device") from None
        time.sleep(0.2)
    return 0
