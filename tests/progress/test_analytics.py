"""The pure analytics, table-driven: areas of codes, checks, skills, speed, weak areas."""

from __future__ import annotations

import datetime as dt

import pytest

from coding_course.progress import analytics as a
from coding_course.progress.analytics import FindingRow, GradedResponse, Skill


def _response(
    findings: list[FindingRow],
    *,
    labels: tuple[str, ...] = (),
    exercise_type: str = "full_coding",
    score: float = 1.0,
    max_score: float = 2.0,
    override: float | None = None,
    attempt_id: int = 1,
) -> GradedResponse:
    return GradedResponse(
        response_id=1,
        attempt_id=attempt_id,
        encounter_id=1,
        exercise_type=exercise_type,
        labels=labels,
        score=score,
        max_score=max_score,
        findings=tuple(findings),
        override=override,
    )


@pytest.mark.parametrize(
    ("code", "chapter"),
    [
        ("A09", 1),
        ("C50.911", 2),
        ("D3A.00", 2),
        ("D50.0", 3),
        ("E11.9", 4),
        ("H53.9", 7),
        ("H66.90", 8),
        ("J02.0", 10),
        ("M1A.00X0", 13),
        ("O9A.11", 15),
        ("R50.9", 18),
        ("S93.401A", 19),
        ("T78.40XA", 19),
        ("U07.1", 22),
        ("W10.9XXA", 20),
        ("Y92.009", 20),
        ("Z23", 21),
        ("99213", None),
        ("", None),
    ],
)
def test_icd10cm_chapter_of_a_code(code, chapter):
    assert a.icd10cm_chapter(code) == chapter


@pytest.mark.parametrize(
    ("code", "section"),
    [
        ("00790", "cpt-anesthesia"),
        ("10060", "cpt-surgery"),
        ("29540", "cpt-surgery"),
        ("71046", "cpt-radiology"),
        ("87880", "cpt-lab"),
        ("90471", "cpt-medicine"),
        ("99173", "cpt-medicine"),
        ("99213", "cpt-em"),
        ("99497", "cpt-em"),
        ("99503", "cpt-medicine"),
        ("3074F", "cpt-category-ii"),
        ("0042T", "cpt-category-iii"),
        ("J1885", None),
        ("J02.0", None),
    ],
)
def test_cpt_section_of_a_code(code, section):
    assert a.cpt_section(code) == section


@pytest.mark.parametrize(
    ("finding", "keys"),
    [
        (FindingRow("correct", "diagnoses[0]", "S93.401A"), ["icd-10-cm", "chapter-19"]),
        (FindingRow("missing", "key.diagnoses[1]", "J02.0"), ["icd-10-cm", "chapter-10"]),
        # A CPT code in a diagnosis line is an ICD-10-CM error with no chapter.
        (FindingRow("wrong_family", "diagnoses[0]", "99213"), ["icd-10-cm"]),
        (FindingRow("invalid_format", "diagnoses[2]", None), ["icd-10-cm"]),
        (FindingRow("correct", "procedures[0]", "99213"), ["cpt", "cpt-em"]),
        (FindingRow("units_error", "procedures[1]", "J1885"), ["hcpcs"]),
        (FindingRow("missing", "key.procedures[0]", "E0114"), ["hcpcs"]),
        (FindingRow("invalid_format", "procedures[0]", "XYZ"), []),
        (FindingRow("correct", "answer", "J02.0"), []),
    ],
)
def test_line_areas(finding, keys):
    assert [area.key for area in a.line_areas(finding)] == keys


@pytest.mark.parametrize(
    ("finding", "skill"),
    [
        (
            FindingRow("partial_match", "diagnoses[0]", "S52.521D", ("S52.521A",)),
            Skill.SEVENTH_CHARACTER,
        ),
        (
            FindingRow(
                "partial_match",
                "diagnoses[0]",
                "S93.402A",
                ("S93.401A",),
                "Right condition, wrong side.",
            ),
            Skill.LATERALITY,
        ),
        (
            FindingRow("partial_match", "diagnoses[0]", "E11.9", ("E11.65",), "most specific code"),
            Skill.SPECIFICITY,
        ),
        (
            FindingRow("missing_seventh_character", "diagnoses[0]", "S93.401"),
            Skill.SEVENTH_CHARACTER,
        ),
        (FindingRow("sequence_error", "diagnoses[0]", "R50.9"), Skill.SEQUENCING),
        (FindingRow("excludes1_conflict", "diagnoses[1]", "J45.909"), Skill.EXCLUDES1),
        (FindingRow("modifier_error", "procedures[0]", "99213"), Skill.MODIFIERS),
        (FindingRow("linkage_error", "procedures[0]", "87880"), Skill.LINKAGE),
        (FindingRow("units_error", "procedures[0]", "J1885"), Skill.UNITS),
        (FindingRow("extra", "diagnoses[2]", "R05.9"), None),
        (FindingRow("correct", "diagnoses[0]", "J02.0"), None),
    ],
)
def test_skill_of_a_finding(finding, skill):
    assert a.skill_of(finding) == skill


@pytest.mark.parametrize(
    ("findings", "kinds"),
    [
        # The missing key line a near miss stands for is not counted twice.
        (
            [
                FindingRow("partial_match", "diagnoses[0]", "S52.521D", ("S52.521A",)),
                FindingRow("missing", "key.diagnoses[0]", "S52.521A"),
            ],
            ["partial_match"],
        ),
        (
            [
                FindingRow("partial_match", "diagnoses[0]", "S52.521D", ("S52.521A",)),
                FindingRow("missing", "key.diagnoses[1]", "W19.XXXA"),
            ],
            ["partial_match", "missing"],
        ),
        ([FindingRow("sex_conflict", "diagnoses[0]", "N40.0", advisory=True)], []),
    ],
)
def test_counted_findings(findings, kinds):
    assert [f.kind for f in a.counted_findings(findings)] == kinds


@pytest.mark.parametrize(
    ("responses", "expected"),
    [
        # Full coding: each line toward its own family (ICD right, CPT wrong).
        (
            [
                _response(
                    [
                        FindingRow("correct", "diagnoses[0]", "J02.0"),
                        FindingRow("modifier_error", "procedures[0]", "99213"),
                    ]
                )
            ],
            {"icd-10-cm": (1, 1), "chapter-10": (1, 1), "cpt": (0, 1), "cpt-em": (0, 1)},
        ),
        # Another type: every area of the encounter's labels.
        (
            [
                _response(
                    [FindingRow("incorrect", "answer", "J20.9")],
                    labels=("icd-10-cm", "chapter-10", "type-best_code", "difficulty-2"),
                    exercise_type="best_code",
                )
            ],
            {"icd-10-cm": (0, 1), "chapter-10": (0, 1)},
        ),
        # An override of 1.5 of 2 turns the two checks into 1.5 right.
        (
            [
                _response(
                    [
                        FindingRow("extra", "diagnoses[1]", "R05.9"),
                        FindingRow("correct", "diagnoses[0]", "J02.0"),
                    ],
                    override=1.5,
                )
            ],
            {"icd-10-cm": (1.5, 2), "chapter-10": (0.75, 1), "chapter-18": (0.75, 1)},
        ),
    ],
)
def test_accuracy_by_area(responses, expected):
    result = {
        area.key: (acc.right, acc.checks) for area, acc in a.accuracy_by_area(responses).items()
    }
    assert result == expected


def test_error_patterns_list_every_skill_in_order():
    response = _response(
        [
            FindingRow("linkage_error", "procedures[0]", "87880"),
            FindingRow("linkage_error", "procedures[1]", "99213"),
            FindingRow("units_error", "procedures[2]", "J1885"),
        ]
    )
    patterns = a.error_patterns([response])
    assert [p.skill for p in patterns] == list(Skill)
    assert {p.skill: p.errors for p in patterns if p.errors} == {Skill.LINKAGE: 2, Skill.UNITS: 1}


_START = dt.datetime(2026, 6, 1, 10, 0, tzinfo=dt.UTC)


def _attempt(attempt_id: int, minutes: float | None) -> a.AttemptRow:
    finished = _START + dt.timedelta(minutes=minutes) if minutes is not None else None
    return a.AttemptRow(attempt_id, "Quiz", attempt_id, _START, finished)


@pytest.mark.parametrize(
    ("attempts", "encounters", "median"),
    [
        ([], {}, None),
        ([_attempt(1, 20)], {1: 2}, 10.0),
        # Each encounter counts once: 10, 10, 15, 15 minutes.
        ([_attempt(1, 20), _attempt(2, 30)], {1: 2, 2: 2}, 12.5),
        # 4 encounters at 3 minutes outweigh one at 30.
        ([_attempt(1, 12), _attempt(2, 30)], {1: 4, 2: 1}, 3.0),
        # Unfinished attempts and attempts without responses say nothing.
        ([_attempt(1, None), _attempt(2, 8), _attempt(3, 50)], {1: 3, 2: 1}, 8.0),
    ],
)
def test_median_minutes_per_encounter(attempts, encounters, median):
    assert a.median_minutes_per_encounter(attempts, encounters) == median


def test_attempt_scores_honour_overrides_and_run_oldest_first():
    later, earlier = _attempt(2, 30), _attempt(1, 10)
    responses = [
        _response([], attempt_id=1, score=1.0, max_score=2.0),
        _response([], attempt_id=2, score=0.0, max_score=4.0, override=3.0),
    ]
    scores = a.attempt_scores([later, earlier], responses)
    assert [(s.attempt.attempt_id, s.percent) for s in scores] == [(1, 50.0), (2, 75.0)]


@pytest.mark.parametrize(
    ("findings", "weakest"),
    [
        # Lowest accuracy first; one check is too little evidence (chapter 18 left out).
        (
            [
                FindingRow(
                    "partial_match", "diagnoses[0]", "S93.402A", ("S93.401A",), "wrong side"
                ),
                FindingRow("missing_seventh_character", "diagnoses[1]", "S52.521"),
                FindingRow("correct", "diagnoses[2]", "S00.81XA"),
                FindingRow("extra", "diagnoses[3]", "R05.9"),
                FindingRow("correct", "procedures[0]", "99213"),
                FindingRow("units_error", "procedures[1]", "96372"),
                FindingRow("units_error", "procedures[2]", "J1885"),
                FindingRow("correct", "procedures[3]", "J3301"),
            ],
            [
                (
                    "chapter-19",
                    33.3,
                    ("chapter-19", "laterality", "7th-character", "missing_seventh_character"),
                ),
                ("hcpcs", 50.0, ("hcpcs", "units", "units_error")),
            ],
        ),
        # Umbrella families (ICD-10-CM, CPT) are never the weak area themselves.
        (
            [FindingRow("extra", "diagnoses[0]", None), FindingRow("extra", "diagnoses[1]", None)],
            [],
        ),
    ],
)
def test_weakest_areas(findings, weakest):
    responses = [_response(findings)]
    result = a.weakest_areas(a.accuracy_by_area(responses).values(), responses)
    assert [(w.accuracy.area.key, w.accuracy.percent, w.tags) for w in result] == weakest


def test_progress_report_of_nothing_is_empty():
    report = a.progress_report(attempts=[], responses=[])
    assert (report.responses, report.overall, report.families, report.weakest) == (0, None, (), ())
    assert report.median_minutes_per_encounter is None
