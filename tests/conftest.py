"""Shared fixtures. Django is imported lazily so `pytest -p no:django tests/domain`
can load this file without Django configured.

Code sets in the test databases
-------------------------------
Every test database (one per xdist worker) starts with the SMALL ICD-10-CM set: the
bundled April 2026 release cut down to whole categories, those of every code the
encounter library and templates, the course, the application and the tests name, plus
the categories their Excludes1 notes point to (``tests/codeset_subset.py``: about 375
categories, 34,000 of the 98,186 codes). It is written from the bundled XML once per
worker process and imported under the real release's version, dates and source, with
the curated CPT and HCPCS sets unchanged, so printed releases stay the same and every
kept row is the real one (``tests/domain/test_small_codeset.py`` checks the rows and
that keys, distractors and exercises come out as on the full release).

A test that needs the whole release carries ``@pytest.mark.full_release`` (counts,
ranking over the release, importer parity). Before such a test is set up
(``pytest_runtest_setup``, ahead of every fixture, so never inside a test's
transaction) the worker's database is switched to the full release, and before the
next unmarked test back to the small set. A switch empties the code-set tables
(releases, codes, the search vocabulary) and imports afresh, so a database always
holds exactly what a fresh import of that set gives, whatever ran before it. The marked
tests form one ``xdist_group`` (``--dist loadgroup`` is in addopts) and come first in
the collection, so they run back to back on one worker, whose database starts with the
full release and switches once: the other worker never imports it.

``pytest --full-release`` gives every test the full release, as before this scheme. A
test that fails without the option but passes with it needs the mark, or names a code
in a way ``tests/codeset_subset.py`` does not pick up.

``ensure_bundled_codesets()`` imports the set the running test wants; it is also what
fixtures call after a transactional test's flush emptied the tables.
"""

from __future__ import annotations

import atexit
import shutil
import tempfile
from collections.abc import Generator
from pathlib import Path
from typing import TYPE_CHECKING

import pytest

if TYPE_CHECKING:
    from codesets.services import ImportResult

FULL = "full"
SMALL = "small"
FULL_RELEASE_GROUP = "full_release"


class _CodesetState:
    """This process's view of its test database: the set the current test wants and
    the set last imported (None before the first import)."""

    wanted: str = SMALL
    imported: str | None = None
    small_path: Path | None = None


_state = _CodesetState()


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.addoption(
        "--full-release",
        action="store_true",
        help="give every test the full ICD-10-CM release, not the small set",
    )


@pytest.hookimpl(wrapper=True)
def pytest_collection_modifyitems(items: list[pytest.Item]) -> Generator[None]:
    """Run the ``full_release`` tests first and together: one xdist group (marked
    before xdist reads the groups), and at the front of the order for a run without
    xdist, so a serial run switches sets twice at most too.

    pytest-xdist (3.8) sends a group to one worker by renaming each of its tests to
    ``<node id>@<group>`` through ``item._nodeid``, which pytest 9 no longer reads (a
    node id now lives in ``item._id``), so without the repair after ``yield`` every test
    of a group is scheduled on its own. Should that private detail change again, the
    group is merely spread over the workers: slower, not wrong.
    """
    full = [item for item in items if item.get_closest_marker("full_release")]
    items[:] = full + [item for item in items if not item.get_closest_marker("full_release")]
    for item in full:
        item.add_marker(pytest.mark.xdist_group(FULL_RELEASE_GROUP))
    yield
    for item in items:
        renamed = vars(item).get("_nodeid")
        if isinstance(renamed, str) and renamed != item.nodeid and hasattr(item, "_id"):
            from _pytest.nodeid import NodeId

            item._id = NodeId.parse(renamed)


@pytest.hookimpl(tryfirst=True)
def pytest_runtest_setup(item: pytest.Item) -> None:
    """Record which ICD-10-CM set the test wants; switch the database when it already
    holds the other one."""
    full = item.config.getoption("full_release") or item.get_closest_marker("full_release")
    _state.wanted = FULL if full else SMALL
    if _state.imported not in (None, _state.wanted):
        from pytest_django.plugin import blocking_manager_key

        with item.config.stash[blocking_manager_key].unblock():
            ensure_bundled_codesets()


@pytest.fixture
def student(db):
    from tests.factories import StudentFactory

    return StudentFactory()


@pytest.fixture
def instructor(db):
    from tests.factories import InstructorFactory

    return InstructorFactory()


@pytest.fixture
def employer(db):
    from tests.factories import EmployerFactory

    return EmployerFactory()


@pytest.fixture
def staff_user(db):
    from tests.factories import StaffFactory

    return StaffFactory()


def ensure_bundled_codesets() -> None:
    """Make the database hold the bundled code sets with the ICD-10-CM set the running
    test wants (small unless it is marked ``full_release``).

    An import of what is already there reports ``unchanged`` and costs little, so
    callers need no memory of their own; after a transactional test's flush emptied
    the tables this simply imports again. Switching sets empties the tables first.
    """
    from codesets.adapters import clear_memory_catalogs

    wanted = _state.wanted
    changed = False
    if _state.imported not in (None, wanted):
        _empty_codeset_tables()
        changed = True
    results = _import_codesets(wanted)
    if results[0].status == "replaced":
        # A reused database held the other set: start again from empty tables.
        _empty_codeset_tables()
        results = _import_codesets(wanted)
    _state.imported = wanted
    if changed or any(result.status != "unchanged" for result in results):
        clear_memory_catalogs()


def _import_codesets(which: str) -> list[ImportResult]:
    from codesets import services
    from codesets.importers.curated import bundled_cpt_path, bundled_hcpcs_path

    if which == FULL:
        return services.import_bundled()
    return [
        services.release_import_icd10cm(
            path=small_tabular_path(),
            version=services.BUNDLED_ICD10CM_VERSION,
            effective_from=services.BUNDLED_ICD10CM_FROM,
            effective_to=services.BUNDLED_ICD10CM_TO,
            source=services.BUNDLED_ICD10CM_SOURCE,
        ),
        services.release_import_curated(path=bundled_cpt_path()),
        services.release_import_curated(path=bundled_hcpcs_path()),
    ]


def _empty_codeset_tables() -> None:
    from django.db import transaction

    from codesets.models import Chapter, Code, Modifier, Release, SearchWord, Section

    with transaction.atomic():
        for model in (Code, Chapter, Section, Modifier, SearchWord, Release):
            model.objects.all().delete()


def small_tabular_path() -> Path:
    """The small ICD-10-CM tabular, written once per process to a temporary folder."""
    if _state.small_path is None:
        from codesets.importers.icd10cm_tabular import bundled_tabular_path
        from tests.codeset_subset import named_codes, write_small_tabular

        folder = Path(tempfile.mkdtemp(prefix="icd10cm-small-"))
        atexit.register(shutil.rmtree, folder, ignore_errors=True)
        path = folder / "icd10cm-tabular-small.xml"
        write_small_tabular(bundled_tabular_path(), path, named_codes())
        _state.small_path = path
    return _state.small_path


@pytest.fixture(scope="session")
def django_db_setup(django_db_setup, django_db_blocker):
    """Every test database starts with the bundled code sets, the ICD-10-CM set the
    first test wants (see the module docstring), imported once."""
    with django_db_blocker.unblock():
        ensure_bundled_codesets()


@pytest.fixture
def codesets(django_db_blocker):
    """For transactional tests (browser, integration): their flush empties the tables,
    so re-import when needed. Plain tests already have the session import."""
    with django_db_blocker.unblock():
        ensure_bundled_codesets()


@pytest.fixture(autouse=True)
def _fresh_cache():
    """Rate-limit counters and cached pages live in the cache: start each test clean."""
    from django.conf import settings

    if settings.configured:
        from django.core.cache import cache

        cache.clear()
    return
