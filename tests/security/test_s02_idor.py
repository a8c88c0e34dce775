"""S2: the IDOR sweep (ASVS 8.2.2, 8.4.1).

Every URL pattern that takes a value is found by walking the resolver and must have an
entry in ``ROUTES`` (or sit in the admin, guarded as a whole by ``is_staff``); a new
route with an id that nobody listed fails ``test_every_route_with_an_id_is_in_the_table``.

Signed in as side A (a student, an instructor, an employer) and anonymous, each route
is requested with side B's object and with an id that does not exist:

* GET: the same status for both (no existence oracle), and a refusal: 404 for every
  role (a role the route does not serve included), 405 for a POST-only route;
  anonymous users are sent to the login page.
* POST: a refusal (403 / 404 / 405, or the login redirect) and no row changed in any
  table the site writes.

Site staff administer every area and legitimately see all objects, so they are not
swept. Shared content (lessons, the encounter library) and public code pages have no
"other user's" object; their entries say so and are checked for role refusal only.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

import pytest
from django.apps import apps
from django.test import Client
from django.urls import URLPattern, URLResolver, get_resolver, reverse

from tests.security.conftest import World, signed_in

pytestmark = pytest.mark.django_db

MISSING = 999_999
Kwargs = dict[str, Any]
Builder = Callable[[World], list[Kwargs]]

STUDENT, INSTRUCTOR, EMPLOYER = "student", "instructor", "employer"
SIGNED_IN_ROLES = (STUDENT, INSTRUCTOR, EMPLOYER)


@dataclass(frozen=True)
class Owned:
    """A route to an object with an owner: side B's objects, and who owns the first."""

    other: Builder
    missing: Kwargs
    audience: tuple[str, ...]
    owner: Callable[[World], Any]


@dataclass(frozen=True)
class Shared:
    """Content every member of ``audience`` may open (no per-user owner)."""

    sample: Kwargs
    missing: Kwargs
    audience: tuple[str, ...]
    reason: str


@dataclass(frozen=True)
class Public:
    """Open to everyone, anonymous included."""

    sample: Kwargs
    reason: str


@dataclass(frozen=True)
class Capability:
    """The URL value is itself a signed secret; a forged one grants nothing."""

    forged: Kwargs
    refused_statuses: tuple[int, ...]
    reason: str


def _candidate_pairs(world: World) -> list[Kwargs]:
    """B's candidates under B's assessment, and under A's own assessment."""
    pairs = []
    for candidate in world.b.candidates:
        for assessment in (world.b.assessment, world.a.assessment):
            pairs.append({"assessment_id": assessment.pk, "candidate_id": candidate.pk})
    return pairs


def _attempts(world: World) -> list[Kwargs]:
    """A classmate's attempts and side B's."""
    return [{"attempt_id": a.pk} for a in (world.a.attempts[1], *world.b.attempts)]


def _attempt_items(world: World) -> list[Kwargs]:
    return [
        {"attempt_id": kwargs["attempt_id"], "item_id": world.b.practice_quiz.items.get().pk}
        for kwargs in _attempts(world)
    ]


def _quizzes(world: World) -> list[Kwargs]:
    return [
        {"quiz_id": quiz.pk}
        for quiz in (world.b.practice_quiz, world.b.exam_quiz, world.b.assessment.quiz)
    ]


def _jobs(world: World) -> list[Kwargs]:
    return [{"job_id": job.pk} for job in (world.b.instructor_job, world.b.organisation_job)]


def _assessments(world: World) -> list[Kwargs]:
    return [{"assessment_id": world.b.assessment.pk}]


def _sittings(world: World) -> list[Kwargs]:
    return [{"candidate_id": candidate.pk} for candidate in world.b.candidates]


def _responses(world: World) -> list[Kwargs]:
    from quizzes.models import Response

    return [{"response_id": r.pk} for r in Response.objects.filter(attempt__in=world.b.attempts)]


EMPLOYERS = (EMPLOYER,)
INSTRUCTORS = (INSTRUCTOR,)
LEARNERS = (STUDENT, INSTRUCTOR)
ANYONE = SIGNED_IN_ROLES

ROUTES: dict[str, Owned | Shared | Public | Capability] = {
    # Quizzes: learners reach only assigned quizzes and their own attempts.
    "quizzes:quiz_detail": Owned(_quizzes, {"quiz_id": MISSING}, ANYONE, lambda w: w.b.students[0]),
    "quizzes:attempt_take": Owned(
        _attempts, {"attempt_id": MISSING}, ANYONE, lambda w: w.a.students[1]
    ),
    "quizzes:response_save": Owned(
        _attempt_items,
        {"attempt_id": MISSING, "item_id": MISSING},
        ANYONE,
        lambda w: w.a.students[1],
    ),
    "quizzes:response_check": Owned(
        _attempt_items,
        {"attempt_id": MISSING, "item_id": MISSING},
        ANYONE,
        lambda w: w.a.students[1],
    ),
    "quizzes:attempt_submit": Owned(
        _attempts, {"attempt_id": MISSING}, ANYONE, lambda w: w.a.students[1]
    ),
    "quizzes:attempt_review": Owned(
        _attempts, {"attempt_id": MISSING}, ANYONE, lambda w: w.a.students[1]
    ),
    "quizzes:gradebook": Owned(
        _quizzes, {"quiz_id": MISSING}, INSTRUCTORS, lambda w: w.b.instructor
    ),
    "quizzes:gradebook_csv": Owned(
        _quizzes, {"quiz_id": MISSING}, INSTRUCTORS, lambda w: w.b.instructor
    ),
    "quizzes:score_override": Owned(
        _responses, {"response_id": MISSING}, INSTRUCTORS, lambda w: w.b.instructor
    ),
    "quizzes:quiz_manage": Owned(
        _quizzes, {"quiz_id": MISSING}, INSTRUCTORS, lambda w: w.b.instructor
    ),
    "quizzes:encounter_edit": Shared(
        {"slug": "a-pc-acute-cystitis-hematuria"},
        {"slug": "no-such-encounter"},
        INSTRUCTORS,
        "the encounter library is shared by every instructor",
    ),
    "quizzes:encounter_exercises": Shared(
        {"slug": "a-pc-acute-cystitis-hematuria"},
        {"slug": "no-such-encounter"},
        INSTRUCTORS,
        "the encounter library is shared by every instructor",
    ),
    "quizzes:encounter_export": Shared(
        {"slug": "a-pc-acute-cystitis-hematuria"},
        {"slug": "no-such-encounter"},
        INSTRUCTORS,
        "the encounter library is shared by every instructor",
    ),
    # Bulk jobs: instructors reach their own quizzes, employers their organisation's.
    "bulk:quiz": Owned(
        _quizzes, {"quiz_id": MISSING}, (INSTRUCTOR, EMPLOYER), lambda w: w.b.instructor
    ),
    "bulk:import": Owned(
        _quizzes, {"quiz_id": MISSING}, (INSTRUCTOR, EMPLOYER), lambda w: w.b.instructor
    ),
    "bulk:job_detail": Owned(
        _jobs, {"job_id": MISSING}, (INSTRUCTOR, EMPLOYER), lambda w: w.b.instructor
    ),
    "bulk:job_progress": Owned(
        _jobs, {"job_id": MISSING}, (INSTRUCTOR, EMPLOYER), lambda w: w.b.instructor
    ),
    "bulk:job_changes_csv": Owned(
        _jobs, {"job_id": MISSING}, (INSTRUCTOR, EMPLOYER), lambda w: w.b.instructor
    ),
    "bulk:job_cancel": Owned(
        _jobs, {"job_id": MISSING}, (INSTRUCTOR, EMPLOYER), lambda w: w.b.instructor
    ),
    "bulk:job_apply": Owned(
        _jobs, {"job_id": MISSING}, (INSTRUCTOR, EMPLOYER), lambda w: w.b.instructor
    ),
    # Progress: instructors reach learners only through their own groups.
    "progress:group_detail": Owned(
        lambda w: [{"group_id": w.b.group.pk}],
        {"group_id": MISSING},
        INSTRUCTORS,
        lambda w: w.b.instructor,
    ),
    "progress:group_student_remove": Owned(
        lambda w: [{"group_id": w.b.group.pk, "student_id": s.pk} for s in w.b.students],
        {"group_id": MISSING, "student_id": MISSING},
        INSTRUCTORS,
        lambda w: w.b.instructor,
    ),
    "progress:learner": Owned(
        lambda w: [{"learner_id": s.pk} for s in w.b.students],
        {"learner_id": MISSING},
        INSTRUCTORS,
        lambda w: w.b.instructor,
    ),
    # Assessments: managers reach their organisation's; candidates their own sitting.
    **{
        f"assessments:{name}": Owned(
            _assessments, {"assessment_id": MISSING}, EMPLOYERS, lambda w: w.b.manager
        )
        for name in (
            "detail",
            "invite",
            "invite_list",
            "score_cohort",
            "rescore_preview",
            "results",
            "results_csv",
        )
    },
    **{
        f"assessments:{name}": Owned(
            _candidate_pairs,
            {"assessment_id": MISSING, "candidate_id": MISSING},
            EMPLOYERS,
            lambda w: w.b.manager,
        )
        for name in ("resend", "accommodation", "candidate_report")
    },
    **{
        f"assessments:{name}": Owned(
            _sittings, {"candidate_id": MISSING}, ANYONE, lambda w: w.b.candidates[0].user
        )
        for name in ("sitting", "sitting_take", "sitting_event", "sitting_submit")
    },
    "assessments:invitation": Capability(
        {"signed": "forged-invitation-value"},
        (400,),
        "the value is a signed, single-use invitation token",
    ),
    "accounts:password_reset_confirm": Capability(
        {"uidb64": "MQ", "token": "forged-token"},
        (200,),
        "Django's signed reset token; a forged one shows the 'invalid link' page",
    ),
    # Lessons: one catalogue for every learner; progress lives on pages without ids.
    "lessons:course_detail": Shared(
        {"course_slug": "any-course"},
        {"course_slug": "no-such-course"},
        LEARNERS,
        "the course catalogue is the same for every learner",
    ),
    "lessons:enrol": Shared(
        {"course_slug": "any-course"},
        {"course_slug": "no-such-course"},
        LEARNERS,
        "anyone may enrol themselves; there is no other user's object",
    ),
    "lessons:lesson_detail": Shared(
        {"course_slug": "any-course", "lesson_slug": "any-lesson"},
        {"course_slug": "no-such-course", "lesson_slug": "no-such-lesson"},
        LEARNERS,
        "lessons are shared content",
    ),
    "lessons:lesson_complete": Shared(
        {"course_slug": "any-course", "lesson_slug": "any-lesson"},
        {"course_slug": "no-such-course", "lesson_slug": "no-such-lesson"},
        LEARNERS,
        "completion is recorded for the signed-in user only",
    ),
    "lessons:practice_answer": Shared(
        {"course_slug": "any-course", "lesson_slug": "any-lesson", "position": 1},
        {"course_slug": "no-such-course", "lesson_slug": "no-such-lesson", "position": 9},
        LEARNERS,
        "answers are recorded for the signed-in user only",
    ),
    "codesets:code_detail": Public(
        {"system": "ICD-10-CM", "code": "E11.9"}, "code pages are public reference"
    ),
}

# Every admin route sits behind admin_view (is_staff); its values, by group name.
ADMIN_PREFIX = "admin:"


def _admin_kwargs(world: World, names: list[str]) -> Kwargs:
    from django.contrib.contenttypes.models import ContentType

    victim = world.b.students[0]
    values = {
        "object_id": str(victim.pk),
        "id": str(victim.pk),
        "app_label": "accounts",
        "content_type_id": str(ContentType.objects.get_for_model(victim).pk),
    }
    return {name: values[name] for name in names}


def _walk(resolvers: list[Any], prefix: str = "", has_value: bool = False) -> Iterator[Any]:
    for entry in resolvers:
        pattern = entry.pattern
        takes_value = has_value or bool(
            getattr(pattern, "converters", None) or pattern.regex.groups
        )
        if isinstance(entry, URLResolver):
            namespace = f"{prefix}{entry.namespace}:" if entry.namespace else prefix
            yield from _walk(entry.url_patterns, namespace, takes_value)
        elif isinstance(entry, URLPattern) and takes_value and entry.name:
            yield f"{prefix}{entry.name}", list(entry.pattern.regex.groupindex)


def routes_with_values() -> dict[str, list[str]]:
    return dict(_walk(get_resolver().url_patterns))


def test_every_route_with_an_id_is_in_the_table():
    found = routes_with_values()
    assert "quizzes:attempt_take" in found  # the walk reaches included apps
    uncovered = sorted(
        name for name in found if name not in ROUTES and not name.startswith(ADMIN_PREFIX)
    )
    assert uncovered == [], f"add these routes to ROUTES in {__name__}: {uncovered}"
    stale = sorted(set(ROUTES) - set(found))
    assert stale == [], f"ROUTES lists routes that no longer exist: {stale}"


# --- database snapshot: every table the site writes, as one digest per table -------

_WATCHED_APPS = ("accounts", "quizzes", "assessments", "progress", "lessons")


def snapshot() -> dict[str, str]:
    digests = {}
    for app_label in _WATCHED_APPS:
        for model in apps.get_app_config(app_label).get_models():
            rows = list(model.objects.order_by("pk").values())
            for through in (f.remote_field.through for f in model._meta.local_many_to_many):
                rows += list(through.objects.order_by("pk").values())
            digests[model._meta.label] = hashlib.sha256(
                json.dumps(rows, default=str, sort_keys=True).encode()
            ).hexdigest()
    return digests


POST_DATA = {
    "action": "settings",
    "title": "Taken over",
    "name": "Taken over",
    "username": "student-a1",
    "email": "intruder@example.test",
    "kind": "cohort",
    "score": "1",
    "reason": "intruder",
    "extra_minutes": "30",
    "choice": "A",
    "item": "x",
    "answer": "{}",
}


def _client(world: World, role: str | None) -> Client:
    users = {
        STUDENT: world.a.students[0],
        INSTRUCTOR: world.a.instructor,
        EMPLOYER: world.a.manager,
    }
    return Client() if role is None else signed_in(users[role])


def _is_login_redirect(response) -> bool:
    return response.status_code == 302 and response["Location"].startswith("/accounts/login/")


def _expected_refusals(method: str) -> set[int]:
    """Reads of another's object are 404 for every role (405 where the route takes no
    GET); writes may also be refused with 403."""
    return {404, 405} if method == "GET" else {403, 404, 405}


def _check_owned(
    world: World, client: Client, role: str | None, name: str, entry: Owned
) -> list[str]:
    problems = []
    missing_url = reverse(name, kwargs=entry.missing)
    missing_get = client.get(missing_url)
    missing_post = client.post(missing_url, POST_DATA)
    for kwargs in entry.other(world):
        url = reverse(name, kwargs=kwargs)
        before = snapshot()
        got, posted = client.get(url), client.post(url, POST_DATA)
        if snapshot() != before:
            problems.append(f"{url}: a POST changed the database")
        for method, response, baseline in (
            ("GET", got, missing_get),
            ("POST", posted, missing_post),
        ):
            if role is None:
                refused = _is_login_redirect(response)
            else:
                refused = response.status_code in _expected_refusals(method)
            if not refused:
                problems.append(f"{method} {url}: {response.status_code} is not a refusal")
            elif response.status_code != baseline.status_code:
                problems.append(
                    f"{method} {url}: {response.status_code}, but {baseline.status_code} "
                    "for a missing id (an existence oracle)"
                )
    return problems


def _check_shared(client: Client, role: str | None, name: str, entry: Shared) -> list[str]:
    problems = []
    for kwargs in (entry.sample, entry.missing):
        url = reverse(name, kwargs=kwargs)
        if role is None:
            for response in (client.get(url), client.post(url, POST_DATA)):
                if not _is_login_redirect(response):
                    problems.append(f"{url}: anonymous got {response.status_code}")
        elif role not in entry.audience:
            for response in (client.get(url), client.post(url, POST_DATA)):
                if response.status_code not in (404, 405):
                    problems.append(f"{url}: {role} got {response.status_code}")
    return problems


def _check_capability(client: Client, name: str, entry: Capability) -> list[str]:
    url = reverse(name, kwargs=entry.forged)
    before = snapshot()
    statuses = {client.get(url).status_code, client.post(url, POST_DATA).status_code}
    problems = [] if statuses <= set(entry.refused_statuses) else [f"{url}: {statuses}"]
    if snapshot() != before:
        problems.append(f"{url}: a forged value changed the database")
    return problems


def _check_admin(world: World, client: Client, found: dict[str, list[str]]) -> list[str]:
    problems = []
    before = snapshot()
    for name, groups in found.items():
        if not name.startswith(ADMIN_PREFIX):
            continue
        url = reverse(name, kwargs=_admin_kwargs(world, groups))
        for response in (client.get(url), client.post(url, POST_DATA)):
            location = response.get("Location", "")
            if response.status_code != 302 or not location.startswith("/admin/login/"):
                problems.append(f"{url}: {response.status_code} {location}")
    if snapshot() != before:
        problems.append("a POST to the admin changed the database")
    return problems


@pytest.mark.parametrize("role", [None, *SIGNED_IN_ROLES], ids=lambda r: r or "anonymous")
def test_no_role_reaches_another_users_objects(world, role):
    client = _client(world, role)
    problems: list[str] = []
    for name, entry in ROUTES.items():
        if isinstance(entry, Owned):
            problems += _check_owned(world, client, role, name, entry)
        elif isinstance(entry, Shared):
            problems += _check_shared(client, role, name, entry)
        elif isinstance(entry, Capability):
            problems += _check_capability(client, name, entry)
        else:
            response = client.get(reverse(name, kwargs=entry.sample))
            if response.status_code != 200:
                problems.append(f"public {name}: {response.status_code}")
    problems += _check_admin(world, client, routes_with_values())
    assert problems == []


def test_the_owners_reach_the_same_urls(world):
    """The control: each URL the sweep refuses opens for its owner, so a refusal above
    comes from the access check and not from a wrong id in the table."""
    problems = []
    for name, entry in ROUTES.items():
        if not isinstance(entry, Owned):
            continue
        owner = entry.owner(world)
        url = reverse(name, kwargs=entry.other(world)[0])
        status = signed_in(owner).get(url).status_code
        if status not in (200, 302, 405):
            problems.append(f"{name}: its owner {owner.username} got {status}")
    assert problems == []


def test_staff_are_not_swept_because_they_see_everything(world):
    client = signed_in(world.staff)
    assert (
        client.get(reverse("quizzes:gradebook", args=[world.b.practice_quiz.pk])).status_code == 200
    )
    url = reverse("assessments:results", args=[world.b.assessment.pk])
    assert client.get(url).status_code == 200
