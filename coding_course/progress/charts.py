"""Charts drawn on the server as inline SVG, each with its text alternative.

The Content-Security-Policy allows no inline style or script, so shapes use SVG
presentation attributes (``x``, ``width``, ``fill`` by CSS class from
``static/css/progress.css``) and nothing runs in the browser. Every chart is a
``<figure>``: the SVG has ``role="img"`` named by its ``<title>`` and ``<desc>``, and a
visually hidden table carries the same numbers for screen readers. All text is escaped.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from django.utils.html import escape
from django.utils.safestring import SafeString, mark_safe

from coding_course.progress.analytics import AreaAccuracy, ProgressReport

# Accuracy below this is drawn in the warning colour.
LOW_ACCURACY_PERCENT = 60.0

# Horizontal bar charts: label column, bar track and value text, in SVG user units.
_WIDTH = 840
_LABEL_RIGHT = 330
_TRACK_LEFT = 340
_TRACK_WIDTH = 320
_ROW = 28
_BAR = 18
_LOW_STUB = 4

# The score chart's plot area.
_PLOT_LEFT = 56
_PLOT_RIGHT = 760
_PLOT_TOP = 16
_PLOT_BOTTOM = 196
_SCORE_HEIGHT = 236


@dataclass(frozen=True, slots=True)
class Bar:
    label: str
    value: float
    # What the value text and the table say, e.g. "62.5 % of 8 checks".
    text: str
    # Drawn in the warning colour (a weak area).
    low: bool = False


@dataclass(frozen=True, slots=True)
class Point:
    # Short axis label ("#3") and the table's full description of the point.
    axis_label: str
    description: str
    value: float


def _table(caption: str, headers: tuple[str, str], rows: Sequence[tuple[str, str]]) -> str:
    body = "".join(
        f'<tr><th scope="row">{escape(name)}</th><td>{escape(value)}</td></tr>'
        for name, value in rows
    )
    return (
        # The wrapper hides the table: a table ignores the 1px width of visually-hidden.
        f'<div class="visually-hidden"><table><caption>{escape(caption)}</caption>'
        f'<thead><tr><th scope="col">{escape(headers[0])}</th>'
        f'<th scope="col">{escape(headers[1])}</th></tr></thead><tbody>{body}</tbody>'
        "</table></div>"
    )


def _svg_open(chart_id: str, title: str, description: str, height: int) -> str:
    ident = escape(chart_id)
    return (
        f'<svg class="progress-chart-svg" role="img" aria-labelledby="{ident}-title '
        f'{ident}-desc" viewBox="0 0 {_WIDTH} {height}" width="100%" '
        f'preserveAspectRatio="xMinYMin meet" xmlns="http://www.w3.org/2000/svg">'
        f'<title id="{ident}-title">{escape(title)}</title>'
        f'<desc id="{ident}-desc">{escape(description)}</desc>'
    )


def bar_chart(
    *,
    chart_id: str,
    title: str,
    description: str,
    bars: Sequence[Bar],
    max_value: float,
    value_header: str,
) -> SafeString:
    """Horizontal bars, one row per item, scaled to ``max_value`` (at least 1)."""
    scale = max(max_value, 1.0)
    height = max(len(bars), 1) * _ROW + 8
    parts = [_svg_open(chart_id, title, description, height)]
    for index, bar in enumerate(bars):
        top = 4 + index * _ROW
        middle = top + _ROW / 2
        length = max(bar.value, 0.0) / scale * _TRACK_WIDTH
        if bar.low:
            # A weak area at 0 would draw nothing; a stub keeps the warning colour seen.
            length = max(length, _LOW_STUB)
        css = "chart-bar chart-bar-low" if bar.low else "chart-bar"
        parts.append(
            f'<text class="chart-label" x="{_LABEL_RIGHT}" y="{middle:.1f}" '
            f'text-anchor="end" dominant-baseline="middle">{escape(bar.label)}</text>'
            f'<rect class="chart-track" x="{_TRACK_LEFT}" y="{middle - _BAR / 2:.1f}" '
            f'width="{_TRACK_WIDTH}" height="{_BAR}" rx="3"/>'
            f'<rect class="{css}" x="{_TRACK_LEFT}" y="{middle - _BAR / 2:.1f}" '
            f'width="{length:.1f}" height="{_BAR}" rx="3"/>'
            f'<text class="chart-value" x="{_TRACK_LEFT + _TRACK_WIDTH + 8}" y="{middle:.1f}" '
            f'dominant-baseline="middle">{escape(bar.text)}</text>'
        )
    parts.append("</svg>")
    table = _table(title, ("Item", value_header), [(bar.label, bar.text) for bar in bars])
    # Safe: every text placed in the markup above went through escape().
    return mark_safe(f'<figure class="progress-chart">{"".join(parts)}{table}</figure>')


def score_chart(
    *, chart_id: str, title: str, description: str, points: Sequence[Point]
) -> SafeString:
    """Percent per attempt in time order: a line through the points, 0 to 100 %."""
    parts = [_svg_open(chart_id, title, description, _SCORE_HEIGHT)]
    plot_height = _PLOT_BOTTOM - _PLOT_TOP
    for percent in (0, 25, 50, 75, 100):
        y = _PLOT_BOTTOM - percent / 100 * plot_height
        parts.append(
            f'<line class="chart-grid" x1="{_PLOT_LEFT}" x2="{_PLOT_RIGHT}" '
            f'y1="{y:.1f}" y2="{y:.1f}"/>'
            f'<text class="chart-axis" x="{_PLOT_LEFT - 8}" y="{y:.1f}" text-anchor="end" '
            f'dominant-baseline="middle">{percent}%</text>'
        )
    count = len(points)
    step = (_PLOT_RIGHT - _PLOT_LEFT - 20) / max(count - 1, 1)
    # Every attempt is plotted; axis labels thin out so that they never overlap.
    label_every = max(1, -(-count // 14))
    coordinates = []
    for index, point in enumerate(points):
        x = _PLOT_LEFT + 10 + index * step if count > 1 else (_PLOT_LEFT + _PLOT_RIGHT) / 2
        y = _PLOT_BOTTOM - min(max(point.value, 0.0), 100.0) / 100 * plot_height
        coordinates.append((x, y))
        if index % label_every == 0 or index == count - 1:
            parts.append(
                f'<text class="chart-axis" x="{x:.1f}" y="{_PLOT_BOTTOM + 20}" '
                f'text-anchor="middle">{escape(point.axis_label)}</text>'
            )
    if len(coordinates) > 1:
        path = " ".join(f"{x:.1f},{y:.1f}" for x, y in coordinates)
        parts.append(f'<polyline class="chart-line" points="{path}"/>')
    for index, ((x, y), point) in enumerate(zip(coordinates, points, strict=True)):
        parts.append(
            f'<circle class="chart-point" cx="{x:.1f}" cy="{y:.1f}" r="5">'
            f"<title>{escape(point.description)}: {point.value:g}%</title></circle>"
        )
        if index % label_every == 0 or index == count - 1:
            parts.append(
                f'<text class="chart-value" x="{x:.1f}" y="{max(y - 10, 10):.1f}" '
                f'text-anchor="middle">{point.value:g}%</text>'
            )
    parts.append("</svg>")
    table = _table(
        title,
        ("Attempt", "Score"),
        [(point.description, f"{point.value:g}%") for point in points],
    )
    # Safe: every text placed in the markup above went through escape().
    return mark_safe(f'<figure class="progress-chart">{"".join(parts)}{table}</figure>')


# ---------------------------------------------------------------------------
# The progress page's charts


def _plural(count: int) -> str:
    return "" if count == 1 else "s"


def _accuracy_bars(accuracies: Sequence[AreaAccuracy]) -> list[Bar]:
    return [
        Bar(
            label=accuracy.area.label,
            value=accuracy.percent,
            text=f"{accuracy.percent:g}% of {accuracy.checks} check{_plural(accuracy.checks)}",
            low=accuracy.percent < LOW_ACCURACY_PERCENT,
        )
        for accuracy in accuracies
    ]


def _accuracy_chart(chart_id: str, title: str, accuracies: Sequence[AreaAccuracy]) -> SafeString:
    summary = "; ".join(f"{a.area.label} {a.percent:g}%" for a in accuracies)
    return bar_chart(
        chart_id=chart_id,
        title=title,
        description=f"Share of graded checks answered right. {summary}.",
        bars=_accuracy_bars(accuracies),
        max_value=100.0,
        value_header="Accuracy",
    )


def progress_charts(*, report: ProgressReport, prefix: str = "chart") -> dict[str, SafeString]:
    """The charts of one progress report, by name; an empty series has no chart."""
    charts: dict[str, SafeString] = {}
    if report.attempts:
        points = [
            Point(
                axis_label=f"#{index}",
                description=(
                    f"{score.attempt.quiz_title}, attempt {score.attempt.number}, "
                    f"{score.attempt.finished_at:%Y-%m-%d}"
                ),
                value=score.percent,
            )
            for index, score in enumerate(report.attempts, start=1)
        ]
        first, last = report.attempts[0], report.attempts[-1]
        charts["scores"] = score_chart(
            chart_id=f"{prefix}-scores",
            title="Scores over time",
            description=(
                f"{len(points)} submitted attempts, oldest first, from {first.percent:g}% "
                f"to {last.percent:g}%."
            ),
            points=points,
        )
    for name, title, series in (
        ("families", "Accuracy by code family", report.families),
        ("chapters", "Accuracy by ICD-10-CM chapter", report.chapters),
        ("sections", "Accuracy by CPT section", report.sections),
    ):
        if series:
            charts[name] = _accuracy_chart(f"{prefix}-{name}", title, series)
    if any(skill.errors for skill in report.skills):
        most = max(skill.errors for skill in report.skills)
        charts["errors"] = bar_chart(
            chart_id=f"{prefix}-errors",
            title="Error patterns",
            description="Errors found by the grader, by skill. "
            + "; ".join(f"{s.label} {s.errors}" for s in report.skills)
            + ".",
            bars=[
                Bar(
                    label=skill.label,
                    value=skill.errors,
                    text=f"{skill.errors} error{_plural(skill.errors)}",
                    low=skill.errors == most,
                )
                for skill in report.skills
            ],
            max_value=float(most),
            value_header="Errors",
        )
    return charts
