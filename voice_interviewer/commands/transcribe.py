"""``voice-interviewer transcribe FILE...``: a recording through the live transcription path.

Each file is decoded and fed frame by frame to the same listener a live answer
uses (as fast as the model keeps up, or at the pace of speech with
``--realtime``), so what this prints is what an interview would have recorded.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
import time
from dataclasses import replace
from pathlib import Path


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("transcribe", help="transcribe audio files through the streaming speech path",
                       description="Transcribe audio files (wav/flac/mp3/ogg/m4a) offline through the same "
                                   "streaming path a live answer takes.")
    p.add_argument("files", nargs="+", metavar="FILE")
    p.add_argument("--json", action="store_true", help="print text, words and segments as JSON (one object per file)")
    p.add_argument("--model", metavar="M",
                   help="CTranslate2 Whisper directory or a model name already cached "
                        "(default: embedded tiny.en, or $VOICE_INTERVIEWER_ASR_MODEL)")
    p.add_argument("--no-prompt", action="store_true",
                   help="decode without the vocabulary/filler priming prompt")
    p.add_argument("--terms", metavar="TERMS", default="",
                   help="comma-separated vocabulary to prime decoding with (e.g. 'MLflow,KServe'); helps "
                        "those terms, costs ordinary words, so live answers do without it")
    p.add_argument("--realtime", action="store_true", help="feed audio at the pace of speech (as a live answer)")
    p.add_argument("--log-commits", action="store_true",
                   help="log each committed segment to stderr with its emission time and lag behind the audio "
                        "(meaningful with --realtime)")
    p.set_defaults(handler=_transcribe)


def _transcribe(args: argparse.Namespace) -> int:
    from ..errors import AudioError
    from ..speech.audio_io import decode_file
    from ..speech.engine import SAMPLE_RATE, SpeechEngine, TranscriberOptions
    from ..speech.listener import transcribe_audio
    from ..speech.streaming import StreamOptions

    # Before anything loads: a typo should not cost seconds.
    folders = [f for f in args.files if Path(f).is_dir()]
    if folders:
        raise AudioError(f"{', '.join(folders)}: is a directory; transcribe expects audio files, "
                         f"for example {Path(folders[0]) / '*.wav'}")
    missing = [f for f in args.files if not Path(f).is_file()]
    if missing:
        raise AudioError(f"audio file(s) not found: {', '.join(missing)}; check the path(s)")
    terms = [t.strip() for t in args.terms.split(",") if t.strip()]
    stream = replace(StreamOptions(), prime_prompt=not args.no_prompt, live_partials=args.realtime,
                     terms_in_prompt=bool(terms))
    engine: SpeechEngine | None = None
    failed = 0
    for path in args.files:
        try:
            audio = decode_file(path, SAMPLE_RATE)
        except AudioError as exc:  # report it and go on with the other files
            failed += 1
            print(f"voice-interviewer: error: {exc}", file=sys.stderr)
            continue
        engine = engine or SpeechEngine.load(TranscriberOptions(model=args.model))
        transcript = asyncio.run(transcribe_audio(engine, audio, prompt_terms=terms, realtime=args.realtime,
                                                  stream=stream, on_event=_commit_logger() if args.log_commits
                                                  else None))
        if args.json:
            print(json.dumps({"file": path, **transcript.to_dict()}, ensure_ascii=False))
        elif len(args.files) > 1:
            print(f"{path}: {transcript.text}")
        else:
            print(transcript.text)
    return 1 if failed else 0


def _commit_logger():
    """An event handler printing when each segment was committed, relative to the replay start."""
    t0 = time.perf_counter()

    async def log(event) -> None:
        if event.kind == "committed" and event.segment is not None:
            now = time.perf_counter() - t0
            print(f"[{now:7.2f} s] audio {event.segment.start_s:6.2f}-{event.segment.end_s:6.2f} s "
                  f"lag {now - event.segment.end_s:5.2f} s: {event.text}", file=sys.stderr, flush=True)

    return log
