"""The curated search vocabulary (``codesets/data/search_vocabulary.yaml``).

Abbreviations, lay terms and drug brand names expand to the words the code sets use, and
``defaults`` name the code the ICD-10-CM Alphabetic Index gives an unqualified term.
Keys and expansions are kept as tuples of search words (folded like the index).
"""

from __future__ import annotations

import functools
from dataclasses import dataclass
from pathlib import Path

import yaml

VOCABULARY_PATH = Path(__file__).resolve().parent / "data" / "search_vocabulary.yaml"
EXPANSION_SECTIONS = ("abbreviations", "lay_terms", "brand_names")

Phrase = tuple[str, ...]


@dataclass(frozen=True, slots=True)
class Vocabulary:
    """Expansions and default codes by phrase; ``longest`` is the longest key, in words."""

    expansions: dict[Phrase, tuple[Phrase, ...]]
    defaults: dict[Phrase, str]
    longest: int

    def knows(self, phrase: Phrase) -> bool:
        return phrase in self.expansions or phrase in self.defaults


def _phrase(text: object) -> Phrase:
    from codesets.search import words_of

    return tuple(words_of(str(text)))


def parse_vocabulary(data: dict[str, object]) -> Vocabulary:
    expansions: dict[Phrase, tuple[Phrase, ...]] = {}
    for section in EXPANSION_SECTIONS:
        entries = data.get(section) or {}
        if not isinstance(entries, dict):
            raise ValueError(f"search vocabulary: {section} must be a mapping")
        for key, targets in entries.items():
            if not isinstance(targets, list) or not targets:
                raise ValueError(f"search vocabulary: {section}.{key} needs a list of terms")
            phrase = _phrase(key)
            merged = list(expansions.get(phrase, ()))
            merged += [_phrase(target) for target in targets if _phrase(target) != phrase]
            expansions[phrase] = tuple(dict.fromkeys(merged))
    raw_defaults = data.get("defaults") or {}
    if not isinstance(raw_defaults, dict):
        raise ValueError("search vocabulary: defaults must be a mapping")
    defaults = {_phrase(key): str(code).strip().upper() for key, code in raw_defaults.items()}
    keys = [*expansions, *defaults]
    return Vocabulary(expansions, defaults, max((len(key) for key in keys), default=1))


@functools.cache
def search_vocabulary() -> Vocabulary:
    loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
    with VOCABULARY_PATH.open(encoding="utf-8") as handle:
        return parse_vocabulary(yaml.load(handle, Loader=loader) or {})
