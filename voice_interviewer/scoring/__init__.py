"""Scoring: content coverage, delivery measures, optional LLM grading, one Feedback type."""
