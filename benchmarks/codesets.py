"""Code-set import and search timings on SQLite and PostgreSQL; prints ONE JSON object.

    .venv/bin/python benchmarks/codesets.py

For each database the script starts a worker process with its own ``DATABASE_URL``: a
temporary SQLite file, and a PostgreSQL database ``cc_bench`` that it creates and drops
(server from ``BENCH_POSTGRES_URL``, default ``postgres://postgres@127.0.0.1:5432``).
The worker migrates, imports the bundled sets (timing the full ICD-10-CM import: XML
parse, MCE attributes, inserts, search index), then times ``search_codes`` over a fixed
set of varied queries built from the imported codes with a fixed seed: exact codes, code
prefixes, one to four words (some cut to prefixes) and misspelled word prefixes.

Output: ``{"import_s": ..., "queries": N, "sqlite": {"import_s", "p50_ms", "p95_ms",
"max_ms"}, "postgresql": {...}}``; ``import_s`` at the top is the slower of the two
imports. Targets: import under 60 s, search p95 under 30 ms.
"""

from __future__ import annotations

import json
import os
import random
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
BENCH_DATABASE = "cc_bench"
SEED = 2026
QUERIES_PER_KIND = 60


def main() -> None:
    sqlite = _sqlite_run()
    postgresql = _postgresql_run()
    imports = [run["import_s"] for run in (sqlite, postgresql) if "import_s" in run]
    print(
        json.dumps(
            {
                "import_s": max(imports) if imports else None,
                "queries": sqlite.get("queries", postgresql.get("queries")),
                "sqlite": sqlite,
                "postgresql": postgresql,
            }
        )
    )


def _worker(database_url: str) -> dict[str, Any]:
    env = {
        **os.environ,
        "DATABASE_URL": database_url,
        "DJANGO_SETTINGS_MODULE": "coding_course.settings.base",
        "DEBUG": "false",
    }
    completed = subprocess.run(
        [sys.executable, __file__, "--worker"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        check=False,
    )
    if completed.returncode != 0:
        return {"error": completed.stderr.strip().splitlines()[-1:]}
    result: dict[str, Any] = json.loads(completed.stdout)
    return result


def _sqlite_run() -> dict[str, Any]:
    with tempfile.TemporaryDirectory(prefix="cc_bench_") as folder:
        return _worker(f"sqlite:///{folder}/bench.sqlite3")


def _postgresql_run() -> dict[str, Any]:
    import psycopg

    server = os.environ.get("BENCH_POSTGRES_URL", "postgres://postgres@127.0.0.1:5432")
    try:
        admin = psycopg.connect(f"{server}/postgres", autocommit=True)
    except psycopg.Error as error:
        return {"error": f"PostgreSQL unavailable: {error}".splitlines()[0]}
    with admin:
        admin.execute(f"DROP DATABASE IF EXISTS {BENCH_DATABASE} WITH (FORCE)")
        admin.execute(f"CREATE DATABASE {BENCH_DATABASE}")
        try:
            return _worker(f"{server}/{BENCH_DATABASE}")
        finally:
            admin.execute(f"DROP DATABASE IF EXISTS {BENCH_DATABASE} WITH (FORCE)")


# ---------------------------------------------------------------------------- worker


def _run_worker() -> None:
    import django

    sys.path.insert(0, str(ROOT))
    django.setup()
    from django.core.management import call_command

    from codesets.services import import_bundled

    call_command("migrate", verbosity=0)
    results = import_bundled()
    icd = next(result for result in results if result.system == "ICD-10-CM")
    queries = _queries()
    timings = _time_queries(queries)
    print(
        json.dumps(
            {
                "import_s": round(icd.seconds, 2),
                "queries": len(queries),
                "p50_ms": round(statistics.median(timings), 2),
                "p95_ms": round(_percentile(timings, 95), 2),
                "max_ms": round(max(timings), 2),
            }
        )
    )


def _queries() -> list[str]:
    from codesets.models import Code

    rng = random.Random(SEED)
    rows = list(Code.objects.order_by("release__system", "code").values_list("code", "description"))
    codes = [code for code, _ in rows]
    words = sorted(
        {
            word
            for _, description in rows
            for word in description.lower().replace(",", " ").split()
            if word.isalpha() and len(word) >= 5
        }
    )
    queries: list[str] = []
    for _ in range(QUERIES_PER_KIND // 2):
        code = rng.choice(codes)
        queries.append(code)
        queries.append(code.replace(".", "").lower())
    for _ in range(QUERIES_PER_KIND):
        code = rng.choice(codes).replace(".", "")
        queries.append(code[: rng.randint(1, max(1, len(code) - 1))])
    for _ in range(QUERIES_PER_KIND):
        _, description = rng.choice(rows)
        picked = [w for w in description.lower().replace(",", " ").split() if w.isalpha()]
        if not picked:
            continue
        chosen = rng.sample(picked, k=min(len(picked), rng.randint(1, 4)))
        queries.append(" ".join(w[: rng.randint(3, len(w))] if len(w) > 3 else w for w in chosen))
    for _ in range(QUERIES_PER_KIND):
        word = rng.choice(words)
        position = rng.randint(1, len(word) - 2)
        swapped = word[:position] + word[position + 1] + word[position] + word[position + 2 :]
        queries.append(swapped[: rng.randint(4, len(swapped))])
    return queries


def _time_queries(queries: list[str]) -> list[float]:
    import datetime as dt

    from codesets.search import search_codes

    day = dt.date(2026, 5, 1)
    for query in queries[:20]:  # warm the caches and the connection
        search_codes(query=query, day=day)
    timings: list[float] = []
    for query in queries:
        started = time.perf_counter()
        search_codes(query=query, day=day)
        timings.append((time.perf_counter() - started) * 1000)
    return timings


def _percentile(values: list[float], percent: int) -> float:
    ordered = sorted(values)
    index = max(0, min(len(ordered) - 1, round(percent / 100 * len(ordered)) - 1))
    return ordered[index]


if __name__ == "__main__":
    if "--worker" in sys.argv:
        _run_worker()
    else:
        main()
