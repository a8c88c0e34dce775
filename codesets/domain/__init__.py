"""Pure code-set domain: shapes, normalisation, the catalog protocol and note parsing.

Nothing here imports Django, Celery or any models module (enforced by import-linter).
"""
