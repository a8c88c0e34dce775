"""Code search: by code or code prefix, and by words in descriptions and inclusion terms.

A query shaped like a code or the start of one (``s52.52``, ``S5252``, ``992``,
``e0114``) lists that code first and then its descendants in code order; a code written
exactly as typed comes before a look-alike of another family (``G0439``: HCPCS G0439
before ICD-10-CM G04.39; ``G04.39`` the other way round). Word hits fill the rest of the
page. Any other query is split into words that must ALL occur in the code's
``search_text`` (description plus inclusion terms), in any order, each word matching a
whole word or the start of one.

The curated vocabulary (``codesets/data/search_vocabulary.yaml``, loaded by
``codesets.search_vocabulary``) expands words and known phrases, longest first:
abbreviations (``htn``), lay terms (``pink eye``) and drug brand names (``toradol``) may
match their expansions instead, and the original words still count. Its ``defaults`` name
the code the ICD-10-CM Alphabetic Index gives an unqualified term (hypertension: I10).
Ranking, best first:

1. the default code of a query term (the query's own phrase above its expansions');
2. every query word matches a whole word (not only the start of one);
3. billable codes before categories and headers;
4. codes in the category of a default code (``diabetes ckd``: E11.22 before E10.22);
5. every query word found in the description itself, not only in inclusion terms;
6. fewer qualifying words in the description that the query did not ask for
   ("secondary", "pulmonary"; "unspecified", "essential", "without complications" and
   the like do not count), then descriptions saying "unspecified" or NOS;
7. the text starts with the first query word;
8. shorter descriptions (the more general entry) first, then tabular order (a code's
   7th-character expansions rank by the length of the code they expand, so they stay
   together: initial encounter, subsequent encounter, sequela).

Matching is done by each database's own full-text index (created in migration 0002):
SQLite FTS5 with prefix indexes, PostgreSQL ``tsvector`` with ``:*`` prefix queries. The
index hands over at most a few hundred matches in the static order of keys 2 and 4
(``Code.search_order``), and those are ranked in full; a common word therefore costs no
more than a rare one, and its ranking is exact among its best-placed matches. The
categories of the query's default codes are read besides (by code, a few dozen rows), so
the code a coder picks is ranked even when the static order leaves it out.

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
from codesets.search_vocabulary import search_vocabulary
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
        hits = _code_prefix_hits(release_ids, key, limit, "".join(query.split()).upper())
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


def _in_list(values: Sequence[object]) -> str:
    return ", ".join(["%s"] * len(values))


def _rows_to_hits(rows: Sequence[tuple[str, str, str, object]]) -> list[SearchHit]:
    return [
        SearchHit(code, system, description, bool(billable))
        for code, system, description, billable in rows
    ]


def _code_prefix_hits(
    release_ids: list[int], key: str, limit: int, typed: str = ""
) -> list[SearchHit]:
    """The codes starting with ``key``: the exact code first, then in code order.

    A code written exactly as typed (``typed``, upper-cased) comes before a code of
    another family that only has the same key: G0439 (HCPCS) before G04.39 (ICD-10-CM).

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
    rows.sort(
        key=lambda row: (
            row[0].upper() != typed,
            row[4] != key,
            _SYSTEM_ORDER.index(System(row[1])),
            row[4],
        )
    )
    return _rows_to_hits([row[:4] for row in rows[:limit]])


@dataclass(frozen=True, slots=True)
class _Group:
    """A query word or known phrase: matched when any alternative is (each of its words
    the start of a word of the text); ``defaults`` are the codes the vocabulary gives it."""

    alternatives: tuple[tuple[str, ...], ...]
    # The phrase's own default code first, then those of its expansions.
    defaults: tuple[str, ...]


def _groups(tokens: list[str]) -> list[_Group]:
    """The query's words, known phrases (longest first) joined into one group each and
    expanded through the curated vocabulary; the original words always still count."""
    vocabulary = search_vocabulary()
    groups: list[_Group] = []
    index = 0
    while index < len(tokens):
        for size in range(min(vocabulary.longest, len(tokens) - index), 0, -1):
            phrase = tuple(tokens[index : index + size])
            if size == 1 or vocabulary.knows(phrase):
                break
        alternatives = (phrase, *vocabulary.expansions.get(phrase, ()))
        defaults = [vocabulary.defaults.get(alternative) for alternative in alternatives]
        # An expansion's little words ("fracture of wrist") add nothing but cost: as
        # prefixes they match most of the index.
        distinct: dict[frozenset[str], tuple[str, ...]] = {}
        for words in (phrase, *(_content_words(words) for words in alternatives[1:])):
            distinct.setdefault(frozenset(words), words)
        alternatives = tuple(distinct.values())
        groups.append(_Group(alternatives, tuple(dict.fromkeys(code for code in defaults if code))))
        index += size
    return groups


_LITTLE_WORDS = frozenset(_WORD.findall("a an and by for in of on or the to with"))


def _content_words(words: tuple[str, ...]) -> tuple[str, ...]:
    return tuple(word for word in words if word not in _LITTLE_WORDS) or words


def _fts_match(groups: list[_Group]) -> str:
    def alternative(words: tuple[str, ...]) -> str:
        return "(" + " AND ".join(f'"{word}"*' for word in words) + ")"

    return " AND ".join(
        "(" + " OR ".join(alternative(words) for words in group.alternatives) + ")"
        for group in groups
    )


def _tsquery(groups: list[_Group]) -> str:
    def alternative(words: tuple[str, ...]) -> str:
        return "(" + " & ".join(f"{word}:*" for word in words) + ")"

    return " & ".join(
        "(" + " | ".join(alternative(words) for words in group.alternatives) + ")"
        for group in groups
    )


_ROW_COLUMNS = """c.code, r.system, c.description, c.billable, c.search_text,
                   c.rank_length, c.position"""


def _word_hits(release_ids: list[int], tokens: list[str], limit: int) -> list[SearchHit]:
    """Candidates from the database index in static order, then the full ranking.

    The index returns at most ``_CANDIDATES`` matches, best static order first, so a
    common word ("fracture", "left") costs no more than a rare one; when a query has more
    matches than that, the ranking is exact among the best-placed ones. The categories
    of the vocabulary's default codes for the query's terms are read as well (a few
    dozen rows by code), so the code a coder picks is ranked even when the index's
    static order leaves it out.
    """
    vendor = connection.vendor
    groups = _groups(tokens)
    if vendor == "sqlite":
        sql = f"""
            SELECT {_ROW_COLUMNS}
            FROM (SELECT rowid AS search_order FROM codesets_code_fts
                  WHERE codesets_code_fts MATCH %s ORDER BY rowid LIMIT %s) AS hits
            JOIN codesets_code c ON c.search_order = hits.search_order
            JOIN codesets_release r ON r.id = c.release_id
            WHERE c.release_id IN ({_in_list(release_ids)})"""
        params: list[object] = [_fts_match(groups), _CANDIDATES, *release_ids]
    elif vendor == "postgresql":
        sql = f"""
            SELECT {_ROW_COLUMNS}
            FROM codesets_code c JOIN codesets_release r ON r.id = c.release_id
            WHERE c.release_id IN ({_in_list(release_ids)})
              AND c.search_vector @@ to_tsquery('simple', %s)
            ORDER BY c.search_order
            LIMIT %s"""
        params = [*release_ids, _tsquery(groups), _CANDIDATES]
    else:
        return _word_hits_portable(release_ids, tokens, limit)
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        rows = cursor.fetchall()
    defaults = {
        code: 3 if index == 0 and group.alternatives[0] in search_vocabulary().defaults else 2
        for group in groups
        for index, code in reversed(list(enumerate(group.defaults)))
    }
    if defaults:
        seen = {(row[1], row[0]) for row in rows}
        for row in _category_rows(release_ids, defaults):
            if (row[1], row[0]) not in seen and _matches(
                set(_WORD.findall(row[4])), groups, code=row[0]
            ):
                seen.add((row[1], row[0]))
                rows.append(row)
    query_words = {word for group in groups for words in group.alternatives for word in words}
    qualifying: dict[str, bool] = {}
    ranked = sorted(rows, key=lambda row: _rank_key(row, groups, defaults, query_words, qualifying))
    return _rows_to_hits([row[:4] for row in ranked[:limit]])


# Rows read per category of a default code (E11 has about 80 codes).
_CATEGORY_ROWS = 200


def _category_rows(release_ids: list[int], defaults: dict[str, int]) -> list[tuple[Any, ...]]:
    """The default codes themselves, then the first rows of their categories."""
    categories = sorted({compact(code)[:3] for code in defaults})
    if connection.vendor == "sqlite":
        match = "c.code_key GLOB %s"
        patterns = [category + "*" for category in categories]
    else:
        match = "c.code_key LIKE %s"
        patterns = [category + "%" for category in categories]
    per_category = f"""
        SELECT * FROM (
            SELECT {_ROW_COLUMNS}
            FROM codesets_code c JOIN codesets_release r ON r.id = c.release_id
            WHERE c.release_id IN ({_in_list(release_ids)}) AND r.system = %s AND {match}
            ORDER BY c.code_key
            LIMIT %s
        ) AS category_{{index}}"""
    named = f"""
        SELECT {_ROW_COLUMNS}
        FROM codesets_code c JOIN codesets_release r ON r.id = c.release_id
        WHERE c.release_id IN ({_in_list(release_ids)}) AND r.system = %s
          AND c.code IN ({_in_list(list(defaults))})"""
    sql = " UNION ALL ".join(
        [named, *(per_category.format(index=index) for index in range(len(categories)))]
    )
    params: list[Any] = [*release_ids, System.ICD10CM.value, *defaults]
    for pattern in patterns:
        params += [*release_ids, System.ICD10CM.value, pattern, _CATEGORY_ROWS]
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        return list(cursor.fetchall())


def _matches(
    text_words: set[str], groups: list[_Group], *, whole: bool = False, code: str = ""
) -> bool:
    """Whether every group has an alternative whose words all start (or, ``whole``,
    are) words of ``text_words``, or names ``code`` as its default."""

    def found(word: str) -> bool:
        if whole or word in text_words:
            return word in text_words
        return any(text_word.startswith(word) for text_word in text_words)

    return all(
        code in group.defaults
        or any(all(found(word) for word in words) for words in group.alternatives)
        for group in groups
    )


# Words of a description that do not qualify a term: a description made of the query's
# words and these is the unqualified (NOS) entry for it.
_NEUTRAL_WORDS = frozenset(
    _WORD.findall(
        "a an and by classified complications elsewhere essential for in mellitus nos not of on "
        "or organism primary site specified the to type uncomplicated unspecified with without"
    )
)
_UNSPECIFIED = re.compile(r"\b(?:unspecified|nos|not specified)\b")


def _rank_key(
    row: Sequence[Any],
    groups: list[_Group],
    defaults: dict[str, int],
    query_words: set[str],
    qualifying: dict[str, bool],
) -> tuple[int, ...]:
    """The ranking of the module docstring, best first. ``qualifying`` remembers, for
    the query, whether a description word qualifies it (see ``_NEUTRAL_WORDS``)."""
    code, system, description, billable, text, rank_length, position = row
    named = category = 0
    if system == System.ICD10CM.value:
        for default, weight in defaults.items():
            if code == default:
                named += weight
            elif code[:3] == default[:3]:
                category += 1
    folded = description.lower() if description.isascii() else fold(description)
    described = _WORD.findall(folded)
    qualifiers = 0
    previous = ""
    for word in _WORD.findall(folded[:rank_length]):
        # "unspecified ear", "unspecified site of unspecified breast": no qualifier.
        if previous != "unspecified":
            qualifies = qualifying.get(word)
            if qualifies is None:
                qualifies = word not in _NEUTRAL_WORDS and not any(
                    word.startswith(query_word) for query_word in query_words
                )
                qualifying[word] = qualifies
            qualifiers += qualifies
        previous = word
    first = groups[0].alternatives
    return (
        -named,
        0 if _matches(set(_WORD.findall(text)), groups, whole=True) else 1,
        0 if billable else 1,
        -category,
        0 if _matches(set(described), groups) else 1,
        qualifiers,
        0 if _UNSPECIFIED.search(folded) else 1,
        0 if any(text.startswith(words[0]) for words in first) else 1,
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
