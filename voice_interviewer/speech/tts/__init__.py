"""The interviewer's voice: Piper (neural) or pyttsx3/espeak-ng, offline, cached, streamed by sentence.

Use :func:`make_synthesizer` and talk to the returned :class:`Synthesizer`;
:func:`available_engines` tells a user interface or ``doctor`` what can be used here.
"""

from .base import SpeechAudio, Synthesizer, VoiceOptions
from .factory import available_engines, make_synthesizer

__all__ = ["SpeechAudio", "Synthesizer", "VoiceOptions", "available_engines", "make_synthesizer"]
