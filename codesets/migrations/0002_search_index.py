"""Word and code-prefix search indexes, written for each database's own engine.

SQLite: an FTS5 table over ``codesets_code.search_text`` (kept in step by triggers,
prefix indexes for 1-3 characters so that word-prefix queries stay fast).
PostgreSQL: a stored ``tsvector`` column with a GIN index for word and ``:*`` prefix
queries, ``varchar_pattern_ops`` indexes for ``LIKE 'S5252%'`` code-prefix and
vocabulary lookups, and a pg_trgm GIN index on the vocabulary for correcting misspelled
words. Other databases get no index and ``codesets.search`` falls back to plain LIKE.

Caution: SQLite alters a table by rebuilding it, which drops its triggers; a later
migration that alters ``codesets_code`` must create the triggers again.
"""

from django.db import migrations

# A row written without a search order (0: created outside the import service and its
# save()) still gets a unique rowid, after every ordered row.
_SQLITE_ROWID = "CASE WHEN {row}.search_order = 0 THEN 900000000000000000 + {row}.id ELSE {row}.search_order END"
_NEW = _SQLITE_ROWID.format(row="new")
_OLD = _SQLITE_ROWID.format(row="old")

SQLITE_FORWARD = [
    # The index keeps its own copy of the text and uses Code.search_order as its rowid:
    # MATCH ... ORDER BY rowid LIMIT n then yields the best candidates of a common word
    # without visiting all of its matches.
    """CREATE VIRTUAL TABLE codesets_code_fts USING fts5(
        search_text, tokenize='unicode61 remove_diacritics 2', prefix='1 2 3')""",
    f"""CREATE TRIGGER codesets_code_fts_insert AFTER INSERT ON codesets_code BEGIN
        INSERT INTO codesets_code_fts(rowid, search_text) VALUES ({_NEW}, new.search_text);
    END""",
    f"""CREATE TRIGGER codesets_code_fts_delete AFTER DELETE ON codesets_code BEGIN
        DELETE FROM codesets_code_fts WHERE rowid = {_OLD};
    END""",
    f"""CREATE TRIGGER codesets_code_fts_update
    AFTER UPDATE OF search_text, search_order ON codesets_code BEGIN
        DELETE FROM codesets_code_fts WHERE rowid = {_OLD};
        INSERT INTO codesets_code_fts(rowid, search_text) VALUES ({_NEW}, new.search_text);
    END""",
    # Rows imported before this migration (none on a fresh database) enter the index.
    f"""INSERT INTO codesets_code_fts(rowid, search_text)
        SELECT {_SQLITE_ROWID.format(row="codesets_code")}, search_text FROM codesets_code""",
]
SQLITE_BACKWARD = [
    "DROP TRIGGER IF EXISTS codesets_code_fts_update",
    "DROP TRIGGER IF EXISTS codesets_code_fts_delete",
    "DROP TRIGGER IF EXISTS codesets_code_fts_insert",
    "DROP TABLE IF EXISTS codesets_code_fts",
]

POSTGRESQL_FORWARD = [
    "CREATE EXTENSION IF NOT EXISTS pg_trgm",
    # 'simple': lower-case words, no stemming and no stop words, so that "of" and "with"
    # still match and a prefix query sees the words as written.
    """ALTER TABLE codesets_code ADD COLUMN search_vector tsvector
        GENERATED ALWAYS AS (to_tsvector('simple', search_text)) STORED""",
    "CREATE INDEX codesets_code_search_vector_idx ON codesets_code USING gin (search_vector)",
    """CREATE INDEX codesets_code_key_pattern_idx
        ON codesets_code (release_id, code_key varchar_pattern_ops)""",
    """CREATE INDEX codesets_searchword_pattern_idx
        ON codesets_searchword (word varchar_pattern_ops)""",
    """CREATE INDEX codesets_searchword_trgm_idx
        ON codesets_searchword USING gin (word gin_trgm_ops)""",
]
POSTGRESQL_BACKWARD = [
    "DROP INDEX IF EXISTS codesets_searchword_trgm_idx",
    "DROP INDEX IF EXISTS codesets_searchword_pattern_idx",
    "DROP INDEX IF EXISTS codesets_code_key_pattern_idx",
    "DROP INDEX IF EXISTS codesets_code_search_vector_idx",
    "ALTER TABLE codesets_code DROP COLUMN IF EXISTS search_vector",
]

STATEMENTS = {
    "sqlite": (SQLITE_FORWARD, SQLITE_BACKWARD),
    "postgresql": (POSTGRESQL_FORWARD, POSTGRESQL_BACKWARD),
}


def _run(schema_editor, forward: bool) -> None:
    statements = STATEMENTS.get(schema_editor.connection.vendor)
    if statements is None:
        return
    for sql in statements[0 if forward else 1]:
        schema_editor.execute(sql)


def create_search_index(apps, schema_editor) -> None:
    _run(schema_editor, forward=True)


def drop_search_index(apps, schema_editor) -> None:
    _run(schema_editor, forward=False)


class Migration(migrations.Migration):
    dependencies = [("codesets", "0001_initial")]

    operations = [migrations.RunPython(create_search_index, drop_search_index)]
