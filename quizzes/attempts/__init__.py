"""Quizzes, their exercises and assignments; attempts from start to submission,
overrides, the gradebook, item analysis and review."""
