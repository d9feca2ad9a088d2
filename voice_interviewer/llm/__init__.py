"""Talking to an OpenAI-compatible chat endpoint, and keeping what it says honest.

``config`` reads where the endpoint is (nothing leaves the machine unless the user
sets it), ``client`` streams completions with budgets, ``sentences`` cuts a token
stream into speakable sentences and ``guard`` holds the pure checks every LLM
output and every candidate answer goes through (leaks, role-play, injection).
"""

from .config import LlmOptions, not_configured_notice

__all__ = ["LlmOptions", "not_configured_notice"]
