"""The speech layer stands below the channels: nothing in ``voice_interviewer.speech`` imports them."""

from __future__ import annotations

import ast
from pathlib import Path

import voice_interviewer
import voice_interviewer.speech

PACKAGE = Path(voice_interviewer.__file__).parent


def _imports(path: Path) -> list[str]:
    """Every module a file imports, with relative imports resolved against its package."""
    package = path.relative_to(PACKAGE.parent).with_suffix("").parts[:-1]
    if path.name == "__init__.py":
        package = path.relative_to(PACKAGE.parent).parts[:-1]
    found = []
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"), str(path))):
        if isinstance(node, ast.Import):
            found += [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            base = list(package[: len(package) - node.level + 1]) if node.level else []
            module = ".".join(base + ([node.module] if node.module else []))
            found += [module] if node.module else [f"{module}.{alias.name}" for alias in node.names]
    return found


def test_speech_imports_nothing_from_channels() -> None:
    files = sorted(Path(voice_interviewer.speech.__file__).parent.rglob("*.py"))
    assert len(files) > 10  # the walk really found the speech modules, TTS included
    offenders = {str(f.relative_to(PACKAGE)): m for f in files for m in _imports(f)
                 if m == "voice_interviewer.channels" or m.startswith("voice_interviewer.channels.")}
    assert offenders == {}


def test_the_import_walk_sees_relative_imports() -> None:
    # The check above is only worth something if a relative import of the channels is recognised.
    synth = PACKAGE / "speech" / "tts" / "synthesizer.py"
    assert "voice_interviewer.text_utils" in _imports(synth)
    assert "voice_interviewer.speech.workers" in _imports(synth)
