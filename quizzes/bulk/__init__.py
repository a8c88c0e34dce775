"""Bulk jobs: rescoring and cohort scoring in idempotent chunks, answer-sheet imports,
and what a new code-set release invalidates."""
