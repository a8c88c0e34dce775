"""mypy over the whole tree against a baseline that may only shrink.

    python tools/mypy_baseline.py            # fail on any error not in mypy-baseline.txt
    python tools/mypy_baseline.py --update   # rewrite mypy-baseline.txt (make typecheck-baseline)

The baseline holds each distinct error once, as ``path: [code] message`` with how
often it occurs, without line numbers, so moving code around does not break it. An
error is new when its entry is missing from the baseline or occurs more often than the
baseline says; new errors fail the check and are printed with their line numbers.
Entries that no longer occur are reported as fixed, with a reminder to run --update
so the baseline shrinks.

The strict packages (the [[tool.mypy.overrides]] with ``disallow_untyped_defs`` in
pyproject.toml) are never baselined: any error there fails both the check and --update.
"""

from __future__ import annotations

import argparse
import re
import subprocess
import sys
import time
import tomllib
from collections import Counter
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
BASELINE = ROOT / "mypy-baseline.txt"
MYPY_ARGS = [
    ".",
    "--no-pretty",
    "--no-color-output",
    "--no-error-summary",
    "--hide-error-context",
    "--hide-column-numbers",
]
ERROR = re.compile(
    r"^(?P<path>[^:\n]+?):(?P<line>\d+)(?::\d+)?: error: (?P<message>.*?)"
    r"(?:  \[(?P<code>[a-z0-9-]+)\])?$"
)
ENTRY = re.compile(r"^\s*(?P<count>\d+)\s+(?P<key>\S.*)$")
# Line numbers inside messages ('already defined on line 35') churn like the others.
LINE_IN_MESSAGE = re.compile(r"\bline \d+\b")
HEADER = """\
# mypy errors accepted in the tree, one distinct error a line: how many times it occurs,
# then `path: [code] message` (no line numbers). The baseline only shrinks: `make lint`
# fails on any error not listed here; fix it rather than adding it. After fixing errors
# or a refactor, regenerate with `make typecheck-baseline`.
"""


@dataclass(frozen=True)
class Error:
    path: str
    line: int
    code: str
    message: str

    @property
    def key(self) -> str:
        return f"{self.path}: [{self.code}] {LINE_IN_MESSAGE.sub('line N', self.message)}"

    def __str__(self) -> str:
        return f"{self.path}:{self.line}: error: {self.message}  [{self.code}]"


def strict_prefixes() -> tuple[str, ...]:
    """Path prefixes of the strict overrides in pyproject.toml ('quizzes/grading/')."""
    config = tomllib.loads((ROOT / "pyproject.toml").read_text())
    prefixes: list[str] = []
    for override in config.get("tool", {}).get("mypy", {}).get("overrides", []):
        if not override.get("disallow_untyped_defs"):
            continue
        modules = override.get("module", [])
        for module in [modules] if isinstance(modules, str) else modules:
            base = module.removesuffix(".*").replace(".", "/")
            prefixes += [base + "/", base + ".py"]
    return tuple(prefixes)


def run_mypy() -> list[Error]:
    started = time.monotonic()
    result = subprocess.run(
        [sys.executable, "-m", "mypy", *MYPY_ARGS],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=False,
    )
    errors = []
    for line in result.stdout.splitlines():
        match = ERROR.match(line)
        if match:
            errors.append(
                Error(
                    path=match["path"].replace("\\", "/"),
                    line=int(match["line"]),
                    code=match["code"] or "misc",
                    message=match["message"],
                )
            )
    if result.returncode not in (0, 1) or (result.returncode == 1 and not errors):
        # A crash, a bad configuration or an error mypy reports without a line.
        sys.stdout.write(result.stdout)
        sys.stderr.write(result.stderr)
        sys.exit(f"mypy failed (exit {result.returncode}); the baseline was not checked")
    print(f"mypy: {len(errors)} errors over the tree in {time.monotonic() - started:.1f}s")
    return errors


def read_baseline(path: Path) -> Counter[str]:
    counts: Counter[str] = Counter()
    if not path.exists():
        return counts
    for number, line in enumerate(path.read_text().splitlines(), start=1):
        if not line.strip() or line.startswith("#"):
            continue
        match = ENTRY.match(line)
        if not match:
            sys.exit(f"{path.name}:{number}: not `COUNT path: [code] message`: {line!r}")
        counts[match["key"]] += int(match["count"])
    return counts


def write_baseline(path: Path, counts: Counter[str]) -> None:
    lines = [f"{counts[key]:>4} {key}" for key in sorted(counts)]
    total = f"# {sum(counts.values())} errors, {len(counts)} distinct.\n"
    path.write_text(HEADER + total + "".join(line + "\n" for line in lines))


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--update", action="store_true", help="rewrite the baseline")
    parser.add_argument("--baseline", type=Path, default=BASELINE, help="%(default)s")
    options = parser.parse_args()

    errors = run_mypy()
    strict = strict_prefixes()
    in_strict = [error for error in errors if error.path.startswith(strict)]
    rest = [error for error in errors if not error.path.startswith(strict)]
    current = Counter(error.key for error in rest)
    baseline = read_baseline(options.baseline)

    if in_strict:
        print(f"\n{len(in_strict)} errors in the strict packages (never baselined):")
        for error in in_strict:
            print(f"  {error}")

    if options.update:
        if in_strict:
            print("\nNot updating the baseline: fix the strict packages first.")
            return 1
        write_baseline(options.baseline, current)
        removed = sum((baseline - current).values())
        added = sum((current - baseline).values())
        print(
            f"{options.baseline.name}: {sum(current.values())} errors "
            f"({len(current)} distinct); {removed} fewer and {added} more than before."
        )
        return 0

    grown = current - baseline
    fixed = baseline - current
    if grown:
        print(f"\n{sum(grown.values())} new mypy errors (not in {options.baseline.name}):")
        for error in sorted(rest, key=lambda error: (error.path, error.line, error.key)):
            if error.key not in grown:
                continue
            if baseline[error.key]:
                # The baseline allows fewer of these than there are: any may be the new one.
                print(f"  {error}  ({current[error.key]} now, {baseline[error.key]} allowed)")
            else:
                print(f"  {error}")
        print("Fix them; the baseline only shrinks.")
    if fixed:
        print(
            f"\n{sum(fixed.values())} baseline errors are fixed "
            f"({len(fixed)} distinct). Shrink the baseline with `make typecheck-baseline` "
            "(tools/mypy_baseline.py --update) and commit it."
        )
    if not grown and not in_strict:
        print(f"OK: no mypy errors beyond {options.baseline.name}.")
    return 1 if grown or in_strict else 0


if __name__ == "__main__":
    sys.exit(main())
