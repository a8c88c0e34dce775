"""Code search: by code or code prefix, and by words in descriptions and inclusion terms.

A query shaped like a code or the start of one (``s52.52``, ``S5252``, ``992``,
``e0114``) lists that code first and then its descendants in code order; word hits
fill the rest of the page. Any other query is split into words that must ALL occur in the
code's ``search_text`` (description plus inclusion terms), in any order, each word
matching a whole word or the start of one. Ranking, best first:

1. every query word matches a whole word (not only the start of one);
2. billable codes before categories and headers;
3. the text starts with the first query word;
4. shorter descriptions (the more general entry) first, then tabular order (a code's
   7th-character expansions rank by the length of the code they expand, so they stay
   together: initial encounter, subsequent encounter, sequela).

Matching is done by each database's own full-text index (created in migration 0002):
SQLite FTS5 with prefix indexes, PostgreSQL ``tsvector`` with ``:*`` prefix queries. The
index hands over at most a few hundred matches in the static order of keys 2 and 4
(``Code.search_order``), and those are ranked in full; a common word therefore costs no
more than a rare one, and its ranking is exact among its best-placed matches.

When a word query finds nothing, words that start no word of the vocabulary are taken
for misspellings and replaced by the closest vocabulary word (PostgreSQL adds trigram
similarity candidates), and the query runs once more.
"""

from __future__ import annotations

import bisect
import datetime as dt
import difflib
import re
import threading
import unicodedata
from collections.abc import Sequence
from dataclasses import asdict, dataclass
from typing import Any

from django.db import connection
from django.db.models import Max

from codesets.domain.shapes import compact
from codesets.domain.systems import System
from codesets.models import Code, Release, SearchWord
from codesets.selectors import releases_for_search

# A code or the start of one: ICD-10-CM letter, digit and more, CPT digits (and the
# Category II/III letter), HCPCS letter and digits (covered by the ICD-10-CM shape).
# A lone letter counts too: it is how typing a code starts, and as a word prefix it would
# match most of the index.
_CODE_PREFIX = re.compile(r"^(?:[A-Z](?:[0-9][0-9A-Z]{0,5})?|[0-9]{1,5}|[0-9]{4}[FT])$")
_WORD = re.compile(r"[0-9a-z]+")
# Words shorter than this are never taken for misspellings.
_MIN_CORRECTABLE = 4
_MIN_SIMILARITY = 0.75
# Matches a word query takes from the index before ranking them (see _word_hits).
_CANDIDATES = 400
_SYSTEM_ORDER = (System.ICD10CM, System.CPT, System.HCPCS)


@dataclass(frozen=True, slots=True)
class SearchHit:
    """One search result, in the shape of the ``search_codes`` contract."""

    code: str
    system: str
    description: str
    billable: bool

    def as_dict(self) -> dict[str, str | bool]:
        return asdict(self)


def fold(text: str) -> str:
    """Lower-case ASCII: diacritics removed, so that "Ménière" is found by "meniere"."""
    decomposed = unicodedata.normalize("NFKD", text)
    return "".join(ch for ch in decomposed if not unicodedata.combining(ch)).lower()


def words_of(text: str) -> list[str]:
    """The search words of a text, as the indexes see them."""
    return _WORD.findall(fold(text))


def code_prefix_of(query: str) -> str | None:
    """The compact code prefix a query stands for, or None when it is not code-shaped."""
    key = compact(query)
    return key if _CODE_PREFIX.match(key) else None


def search_codes(
    *, query: str, system: System | None = None, limit: int = 10, day: dt.date | None = None
) -> list[SearchHit]:
    """Ranked hits among the releases in force on ``day`` (without a day: today's, or
    each system's newest when none is in force today; see ``releases_for_search``).

    Raises NoReleaseInForce when ``day`` is given and ``system`` (or every system) has no
    release in force on it.
    """
    return search_releases(releases_for_search(day=day, system=system), query, limit)


def search_releases(releases: Sequence[Release], query: str, limit: int = 10) -> list[SearchHit]:
    """Ranked hits for ``query`` among the codes of ``releases`` (see the module doc)."""
    if limit <= 0 or not releases or not query.strip():
        return []
    release_ids = [release.id for release in releases]
    hits: list[SearchHit] = []
    key = code_prefix_of(query)
    if key is not None:
        hits = _code_prefix_hits(release_ids, key, limit)
        if len(hits) >= limit:
            return hits
    tokens = _distinct(words_of(query))
    if not tokens:
        return hits
    words = _word_hits(release_ids, tokens, limit)
    if not words and not hits:
        corrected = _corrected(tokens)
        if corrected != tokens:
            words = _word_hits(release_ids, corrected, limit)
    seen = {(hit.system, hit.code) for hit in hits}
    hits.extend(hit for hit in words if (hit.system, hit.code) not in seen)
    return hits[:limit]


def _distinct(tokens: list[str]) -> list[str]:
    return list(dict.fromkeys(tokens))


def _in_list(values: Sequence[int]) -> str:
    return ", ".join(["%s"] * len(values))


def _rows_to_hits(rows: Sequence[tuple[str, str, str, object]]) -> list[SearchHit]:
    return [
        SearchHit(code, system, description, bool(billable))
        for code, system, description, billable in rows
    ]


def _code_prefix_hits(release_ids: list[int], key: str, limit: int) -> list[SearchHit]:
    """The codes starting with ``key``: the exact code first, then in code order.

    One index range scan per release, each stopping after ``limit`` rows (``S`` alone
    matches 40,000 ICD-10-CM codes), joined in one statement.
    """
    if connection.vendor == "sqlite":
        # GLOB is case-sensitive, so SQLite answers it from the (release, code_key)
        # index; the key holds only letters and digits, no GLOB wildcards.
        match, pattern = "c.code_key GLOB %s", key + "*"
    else:
        match, pattern = "c.code_key LIKE %s", key + "%"
    per_release = f"""
        SELECT * FROM (
            SELECT c.code, r.system, c.description, c.billable, c.code_key
            FROM codesets_code c JOIN codesets_release r ON r.id = c.release_id
            WHERE c.release_id = %s AND {match}
            ORDER BY c.code_key
            LIMIT %s
        ) AS release_{{index}}"""
    sql = " UNION ALL ".join(per_release.format(index=index) for index in range(len(release_ids)))
    params: list[object] = []
    for release_id in release_ids:
        params += [release_id, pattern, limit]
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        rows = cursor.fetchall()
    rows.sort(key=lambda row: (row[4] != key, _SYSTEM_ORDER.index(System(row[1])), row[4]))
    return _rows_to_hits([row[:4] for row in rows[:limit]])


def _word_hits(release_ids: list[int], tokens: list[str], limit: int) -> list[SearchHit]:
    """Candidates from the database index in static order, then the full ranking.

    The index returns at most ``_CANDIDATES`` matches, best static order first, so a
    common word ("fracture", "left") costs no more than a rare one; when a query has more
    matches than that, the ranking is exact among the best-placed ones.
    """
    vendor = connection.vendor
    if vendor == "sqlite":
        sql = f"""
            SELECT c.code, r.system, c.description, c.billable, c.search_text,
                   c.rank_length, c.position
            FROM (SELECT rowid AS search_order FROM codesets_code_fts
                  WHERE codesets_code_fts MATCH %s ORDER BY rowid LIMIT %s) AS hits
            JOIN codesets_code c ON c.search_order = hits.search_order
            JOIN codesets_release r ON r.id = c.release_id
            WHERE c.release_id IN ({_in_list(release_ids)})"""
        match = " ".join(f'"{token}"*' for token in tokens)
        params: list[object] = [match, _CANDIDATES, *release_ids]
    elif vendor == "postgresql":
        sql = f"""
            SELECT c.code, r.system, c.description, c.billable, c.search_text,
                   c.rank_length, c.position
            FROM codesets_code c JOIN codesets_release r ON r.id = c.release_id
            WHERE c.release_id IN ({_in_list(release_ids)})
              AND c.search_vector @@ to_tsquery('simple', %s)
            ORDER BY c.search_order
            LIMIT %s"""
        params = [*release_ids, " & ".join(f"{token}:*" for token in tokens), _CANDIDATES]
    else:
        return _word_hits_portable(release_ids, tokens, limit)
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        rows = cursor.fetchall()
    ranked = sorted(rows, key=lambda row: _rank_key(row, tokens))
    return _rows_to_hits([row[:4] for row in ranked[:limit]])


def _rank_key(row: Sequence[Any], tokens: list[str]) -> tuple[int, int, int, int, int, int]:
    """The ranking of the module docstring, best first."""
    _, system, _, billable, text, rank_length, position = row
    whole_words = set(_WORD.findall(text)).issuperset(tokens)
    return (
        0 if whole_words else 1,
        0 if billable else 1,
        0 if text.startswith(tokens[0]) else 1,
        rank_length,
        _SYSTEM_ORDER.index(System(system)),
        position,
    )


def _word_hits_portable(release_ids: list[int], tokens: list[str], limit: int) -> list[SearchHit]:
    """Substring matching for databases without a full-text index (slow, but correct)."""
    rows = Code.objects.filter(release_id__in=release_ids)
    for token in tokens:
        rows = rows.filter(search_text__contains=token)
    rows = rows.order_by("-billable", "position")
    return [
        SearchHit(code, system, description, billable)
        for code, system, description, billable in rows.values_list(
            "code", "release__system", "description", "billable"
        )[:limit]
    ]


def _corrected(tokens: list[str]) -> list[str]:
    """Tokens with each misspelled word replaced by its closest vocabulary word."""
    vocabulary = _vocabulary()
    corrected: list[str] = []
    for token in tokens:
        if len(token) < _MIN_CORRECTABLE or token.isdigit() or _starts_a_word(vocabulary, token):
            corrected.append(token)
            continue
        corrected.append(_closest_word(vocabulary, token) or token)
    return corrected


# The vocabulary, sorted, with the highest SearchWord id it was read at: words are only
# ever added, so a higher id means the cached copy is stale.
_vocabulary_cache: tuple[int, tuple[str, ...]] = (0, ())
_vocabulary_lock = threading.Lock()


def _vocabulary() -> tuple[str, ...]:
    global _vocabulary_cache
    newest = SearchWord.objects.aggregate(newest=Max("id"))["newest"] or 0
    with _vocabulary_lock:
        if _vocabulary_cache[0] != newest:
            words = tuple(sorted(SearchWord.objects.values_list("word", flat=True)))
            _vocabulary_cache = (newest, words)
        return _vocabulary_cache[1]


def _words_starting(vocabulary: tuple[str, ...], prefix: str) -> tuple[str, ...]:
    first = bisect.bisect_left(vocabulary, prefix)
    last = bisect.bisect_left(vocabulary, prefix + "\x7f", lo=first)
    return vocabulary[first:last]


def _starts_a_word(vocabulary: tuple[str, ...], token: str) -> bool:
    index = bisect.bisect_left(vocabulary, token)
    return index < len(vocabulary) and vocabulary[index].startswith(token)


def _closest_word(vocabulary: tuple[str, ...], token: str) -> str | None:
    """The vocabulary word nearest to ``token``, read as a (possibly partial) word."""
    candidates = {
        word for word in _words_starting(vocabulary, token[0]) if len(word) >= len(token) - 2
    }
    if connection.vendor == "postgresql":
        # Trigram similarity also reaches words whose first letter was mistyped.
        with connection.cursor() as cursor:
            cursor.execute(
                "SELECT word FROM codesets_searchword WHERE word %% %s "
                "ORDER BY similarity(word, %s) DESC LIMIT 20",
                [token, token],
            )
            candidates.update(word for (word,) in cursor.fetchall())
    best, best_score = None, _MIN_SIMILARITY
    matcher = difflib.SequenceMatcher(None, "", token)
    letters = set(token)
    # On equal similarity the word sharing the longer start with the token wins.
    for word in sorted(candidates, key=lambda w: (-_common_start(w, token), w)):
        # A word that lacks several of the token's letters near its start cannot come
        # close; the set test is far cheaper than the sequence comparison.
        if len(letters.difference(word[: len(token) + 2])) > 2:
            continue
        score = _prefix_similarity(matcher, token, word, best_score)
        if score > best_score:
            best, best_score = word, score
    return best


def _common_start(word: str, token: str) -> int:
    length = 0
    for left, right in zip(word, token, strict=False):
        if left != right:
            break
        length += 1
    return length


def _prefix_similarity(
    matcher: difflib.SequenceMatcher[str], token: str, word: str, floor: float
) -> float:
    """Similarity of ``token`` to ``word`` or to a start of it about as long as the token
    (0 when it cannot beat ``floor``; the quick upper bounds skip most words)."""
    best = floor
    for length in {len(token) - 1, len(token), len(token) + 1, len(word)}:
        if length <= 0:
            continue
        matcher.set_seq1(word[:length])
        if matcher.real_quick_ratio() > best and matcher.quick_ratio() > best:
            best = max(best, matcher.ratio())
    return best if best > floor else 0.0
