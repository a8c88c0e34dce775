"""Grading throughput: three-line answer sheets graded per second on one core.

Builds an in-memory catalog of real ICD-10-CM, CPT and HCPCS codes (the grading test
catalog), a dozen answer keys, and ``--sheets`` varied three-line answer sheets from a
fixed seed: exact answers, other spellings, near misses, extras, invalid texts, wrong
modifiers, units and pointers. Generation is not timed; grading is. Prints one JSON
object: ``{"n", "seconds", "sheets_per_s", "catalog_codes", "keys"}``.

Run from the repository root: ``.venv/bin/python benchmarks/grading.py``.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import random
import sys
import time
from pathlib import Path

# The script runs from a checkout, not an installed package.
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from quizzes.grading.engine import Grader
from quizzes.grading.types import (
    AnswerKey,
    AnswerProcedure,
    AnswerSheet,
    Encounter,
    KeyDiagnosis,
    KeyProcedure,
    Patient,
)
from tests.domain.grading_catalog import build_catalog

KEYS = [
    AnswerKey(
        (KeyDiagnosis("J02.0"), KeyDiagnosis("R50.9")),
        (KeyProcedure("99213", ("25",), 1, (1, 2)), KeyProcedure("87880", (), 1, (1,))),
    ),
    AnswerKey(
        (KeyDiagnosis("S93.491A"), KeyDiagnosis("Y93.67", optional=True)),
        (
            KeyProcedure("99203", (), 1, (1,)),
            KeyProcedure("73610", ("RT",), 1, (1,)),
            KeyProcedure("E0114", ("NU",), 1, (1,)),
        ),
    ),
    AnswerKey((KeyDiagnosis("E11.65"), KeyDiagnosis("E78.5"), KeyDiagnosis("I10")), ()),
    AnswerKey((KeyDiagnosis("H66.91"),), (KeyProcedure("99213", (), 1, (1,)),)),
    AnswerKey(
        (KeyDiagnosis("S06.0X0A"), KeyDiagnosis("R50.9", alternatives=("R50.81",))),
        (KeyProcedure("J1885", (), 4, (1,)), KeyProcedure("96372", (), 1, (1,))),
    ),
    AnswerKey((KeyDiagnosis("N39.0"), KeyDiagnosis("R50.9")), (KeyProcedure("99214"),)),
    AnswerKey((KeyDiagnosis("T36.0X1A"), KeyDiagnosis("J06.9")), ()),
    AnswerKey((KeyDiagnosis("O80"),), ()),
    AnswerKey((KeyDiagnosis("G00.1"), KeyDiagnosis("G01")), (KeyProcedure("99213"),)),
    AnswerKey(
        (KeyDiagnosis("S93.402A"),),
        (KeyProcedure("L1906", ("LT",), 1, (1,)), KeyProcedure("E0114", ("NU",), 1, (1,))),
    ),
    AnswerKey((KeyDiagnosis("E10.9"), KeyDiagnosis("Z00.00")), (KeyProcedure("99214"),)),
    AnswerKey((KeyDiagnosis("P07.30"), KeyDiagnosis("R50.9")), ()),
]

# What learners type besides the key: near misses, unrelated codes, invalid texts.
OTHER_DIAGNOSES = [
    "J02.9",
    "R50.81",
    "E11.9",
    "E10.9",
    "S93.492A",
    "S93.491D",
    "S93.401A",
    "H66.92",
    "N30.00",
    "R73.9",
    "E75.22",
    "N40.0",
    "J02",
    "S93.491",
    "T3601A",
    "S060A",
    "99213",
    "E0114",
    "sore throat",
    "Z99.999",
    "I10",
    "J06.0",
]
OTHER_PROCEDURES = ["99213", "99214", "87880", "73610", "E0110", "J0696", "J02.0", "9921"]
MODIFIER_CHOICES = [(), ("25",), ("RT",), ("LT",), ("NU",), ("rt",), ("59",), ("RTX",)]


def spell(code: str, rng: random.Random) -> str:
    """A spelling a learner might type for a code."""
    choice = rng.randrange(4)
    if choice == 0:
        return code
    if choice == 1:
        return code.lower()
    if choice == 2:
        return code.replace(".", "")
    return f" {code} "


def answer_for(key: AnswerKey, rng: random.Random) -> AnswerSheet:
    """A three-line answer sheet near the key (diagnosis and procedure lines mixed)."""
    dx_lines = rng.choice((1, 2, 2, 3)) if key.procedures else 3
    diagnoses = []
    for position in range(dx_lines):
        if position < len(key.diagnoses) and rng.random() < 0.7:
            diagnoses.append(spell(key.diagnoses[position].code, rng))
        else:
            diagnoses.append(spell(rng.choice(OTHER_DIAGNOSES), rng))
    if len(diagnoses) > 1 and rng.random() < 0.2:
        rng.shuffle(diagnoses)
    procedures = []
    for position in range(3 - dx_lines):
        if position < len(key.procedures) and rng.random() < 0.7:
            line = key.procedures[position]
            procedures.append(
                AnswerProcedure(
                    line.code,
                    line.modifiers if rng.random() < 0.7 else rng.choice(MODIFIER_CHOICES),
                    line.units if rng.random() < 0.8 else rng.randrange(0, 5),
                    line.dx_pointers if rng.random() < 0.7 else (rng.randrange(1, 4),),
                )
            )
        else:
            procedures.append(
                AnswerProcedure(
                    rng.choice(OTHER_PROCEDURES),
                    rng.choice(MODIFIER_CHOICES),
                    rng.randrange(1, 3),
                    (1,),
                )
            )
    return AnswerSheet(tuple(diagnoses), tuple(procedures))


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description="Grading throughput on one core.")
    parser.add_argument("--sheets", type=int, default=50_000, help="answer sheets to grade")
    parser.add_argument("--seed", type=int, default=20260515, help="generation seed")
    args = parser.parse_args(argv)

    catalog = build_catalog()
    rng = random.Random(args.seed)
    work = []
    for _ in range(args.sheets):
        key = rng.choice(KEYS)
        work.append((key, answer_for(key, rng)))
    encounter = Encounter(dt.date(2026, 5, 15), Patient(age_years=34, sex="F"))

    grader = Grader(catalog)
    started = time.perf_counter()
    for key, sheet in work:
        grader.grade(key, sheet, encounter)
    seconds = time.perf_counter() - started
    print(
        json.dumps(
            {
                "n": len(work),
                "seconds": round(seconds, 3),
                "sheets_per_s": round(len(work) / seconds),
                "catalog_codes": sum(len(table) for table in catalog.entries.values()),
                "keys": len(KEYS),
            }
        )
    )


if __name__ == "__main__":
    main()
