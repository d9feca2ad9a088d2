"""voice_interviewer: an offline-first, voice-based mock interviewer.

The package is organised so that every decision (bank validation, follow-up policy,
scoring, endpointing) is a pure function or object, and the one interview flow in
:mod:`voice_interviewer.interview` sequences them over a :class:`~voice_interviewer.channels.base.Channel`.
"""

__version__ = "0.1.0"
