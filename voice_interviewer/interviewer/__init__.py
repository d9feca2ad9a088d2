"""Interviewer policies: what to say after an answer (follow up, or move on)."""
