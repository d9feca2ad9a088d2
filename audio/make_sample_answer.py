"""Speak a sample answer to a bank question into a WAV file, to try the product hands-free.

The interviewer's own voice reads the question's "what a strong answer covers" text
(or any text you give), with a few seconds of silence after it so the answer ends
the way a spoken one does. Use the file as a fake microphone:

    .venv/bin/python audio/make_sample_answer.py feature-store          # -> audio/generated/feature-store.wav
    chromium --use-fake-device-for-media-stream \\
             --use-file-for-fake-audio-capture=audio/generated/feature-store.wav
    paplay --device=<virtual mic sink> audio/generated/feature-store.wav    # desktop practice

Generated files stay out of version control (``audio/generated/`` is ignored).
"""

from __future__ import annotations

import argparse
import asyncio
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from voice_interviewer.bank import DEFAULT_ROLE, load_role  # noqa: E402
from voice_interviewer.speech.tts import VoiceOptions, make_synthesizer  # noqa: E402
from voice_interviewer.wav import write_wav  # noqa: E402

TRAILING_SILENCE_S = 4.0


async def synthesize_answer(text: str, options: VoiceOptions) -> tuple[bytes, int]:
    synthesizer = make_synthesizer(options)
    try:
        chunks = [chunk async for chunk in synthesizer.stream(text)]
    finally:
        await synthesizer.close()
    rate = chunks[0].sample_rate
    silence = bytes(2 * int(rate * TRAILING_SILENCE_S))
    return b"".join(c.pcm16 for c in chunks) + silence, rate


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("question_id", help="bank question id (see `voice-interviewer bank list --ids`)")
    ap.add_argument("--role", default=DEFAULT_ROLE)
    ap.add_argument("--text", help="say this instead of the question's strong answer")
    ap.add_argument("-o", "--output", type=Path, help="WAV path (default: audio/generated/ID.wav)")
    ap.add_argument("--voice-engine", choices=("piper", "pyttsx3"), default=None)
    args = ap.parse_args(argv)

    question = load_role(args.role).question(args.question_id)
    text = args.text or question.strong_answer
    output = args.output or ROOT / "audio" / "generated" / f"{question.id}.wav"
    output.parent.mkdir(parents=True, exist_ok=True)
    pcm, rate = asyncio.run(synthesize_answer(text, VoiceOptions(engine=args.voice_engine)))
    write_wav(output, pcm, rate)
    print(f"{output}: {len(pcm) / 2 / rate:.1f} s at {rate} Hz — an answer to: {question.text}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
