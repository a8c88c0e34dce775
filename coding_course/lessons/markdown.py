"""Lesson Markdown to safe HTML, with live links for the codes a lesson cites.

The order matters (security test S11): Markdown is rendered to HTML first and the HTML
is then sanitised with nh3, because a ``javascript:`` link or an ``onerror`` attribute
only exists once Markdown has produced it. Code markers (``[[S93.401A]]``) are turned
into links last, after sanitising, and the links are built with Django's escaping; the
sanitiser strips marker brackets from attribute values, so a marker can only ever be
replaced in text, never inside a tag.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass

import markdown as markdown_lib
import nh3
from django.urls import reverse
from django.utils.html import format_html
from django.utils.safestring import SafeString, mark_safe

from codesets.domain.shapes import canonical, family_of, has_shape
from codesets.domain.systems import System

CODE_MARKER = re.compile(r"\[\[([A-Z0-9.]{3,9})\]\]")

_MARKDOWN_EXTENSIONS = ["tables", "fenced_code", "sane_lists"]
# What lesson prose needs, nothing that runs or embeds: no script, style, svg, math,
# iframe, object, form or img (images would also let a lesson track its readers).
ALLOWED_TAGS = frozenset(
    {
        "p", "br", "hr", "h2", "h3", "h4", "h5", "h6", "strong", "em", "b", "i", "u",
        "s", "del", "code", "pre", "kbd", "samp", "sub", "sup", "small", "mark", "abbr",
        "blockquote", "ul", "ol", "li", "dl", "dt", "dd", "a", "table", "caption",
        "thead", "tbody", "tfoot", "tr", "th", "td",
    }
)  # fmt: skip
ALLOWED_ATTRIBUTES = {
    "a": {"href", "title"},
    "abbr": {"title"},
    "ol": {"start"},
    "th": {"colspan", "rowspan", "scope"},
    "td": {"colspan", "rowspan"},
}
# Tags removed together with their content (the rest keep their text).
_REMOVED_WITH_CONTENT = {"script", "style", "iframe", "object", "embed", "template", "svg", "math"}
_URL_SCHEMES = {"http", "https"}
# Classes added to the sanitised HTML (authors cannot set class themselves): Bootstrap
# table styling, and lesson headings sized below the page's own title.
_ADDED_CLASSES = {
    "table": {"class": "table table-sm table-bordered"},
    "h2": {"class": "h4 mt-4"},
    "h3": {"class": "h5 mt-3"},
    "h4": {"class": "h6"},
}


@dataclass(frozen=True, slots=True)
class CodeMarker:
    """A ``[[code]]`` in lesson text: ``system`` None when it is shaped like no code."""

    text: str
    system: System | None
    code: str


def code_markers(text: str) -> list[CodeMarker]:
    """The code markers in ``text``, in order, with the family each one's shape names
    (a dotted or three-character code is ICD-10-CM, five digits or four and F/T CPT, a
    letter and four digits HCPCS Level II)."""
    return [_marker(match.group(1)) for match in CODE_MARKER.finditer(text)]


def _marker(text: str) -> CodeMarker:
    system = family_of(text)
    if system is None or not has_shape(text, system):
        return CodeMarker(text=text, system=None, code=text)
    return CodeMarker(text=text, system=system, code=canonical(text, system))


def _strip_markers(element: str, attribute: str, value: str) -> str:
    return value.replace("[[", "").replace("]]", "")


def sanitize_html(html: str) -> str:
    """Keep only the whitelisted tags and attributes; links only to http(s) or relative
    URLs; script-like content removed together with its text."""
    return nh3.clean(
        html,
        tags=set(ALLOWED_TAGS),
        clean_content_tags=_REMOVED_WITH_CONTENT,
        attributes={tag: set(names) for tag, names in ALLOWED_ATTRIBUTES.items()},
        attribute_filter=_strip_markers,
        url_schemes=_URL_SCHEMES,
        set_tag_attribute_values=_ADDED_CLASSES,
        strip_comments=True,
    )


def markdown_to_safe_html(text: str) -> str:
    """Markdown rendered, then sanitised (code markers are still plain text)."""
    return sanitize_html(markdown_lib.markdown(text, extensions=_MARKDOWN_EXTENSIONS))


Describe = Callable[[System, str], "str | None"]


def link_code_markers(html: str, describe: Describe) -> SafeString:
    """Replace each code marker in sanitised ``html`` with a link to the code's page,
    titled with its descriptor; a code ``describe`` does not know is marked as such."""

    def replace(match: re.Match[str]) -> str:
        marker = _marker(match.group(1))
        if marker.system is None:
            return match.group(0)
        description = describe(marker.system, marker.code)
        if description is None:
            return format_html(
                '<span class="code text-danger" title="{}">{}</span>',
                f"{marker.code} is not in the {marker.system.value} release of this course",
                marker.code,
            )
        return format_html(
            '<a class="code code-link" href="{}" title="{}">{}</a>',
            reverse("codesets:code_detail", args=[marker.system.value, marker.code]),
            f"{marker.system.value} {marker.code}: {description}",
            marker.code,
        )

    # Safe: the HTML was sanitised and every replacement is built by format_html.
    return mark_safe(CODE_MARKER.sub(replace, html))


def render_lesson_markdown(text: str, describe: Describe) -> SafeString:
    """The whole pipeline: Markdown, sanitise, then code links."""
    return link_code_markers(markdown_to_safe_html(text), describe)


def marker_codes(texts: Iterable[str]) -> list[str]:
    """The canonical codes of every well-formed marker in ``texts`` (for prefetching)."""
    return [marker.code for text in texts for marker in code_markers(text) if marker.system]


@dataclass(frozen=True, slots=True)
class CodeProblem:
    """A code marker that would not link: shaped like no code, or not in the release."""

    lesson: str
    marker: str
    reason: str

    def __str__(self) -> str:
        return f"{self.lesson}: [[{self.marker}]] {self.reason}"


def code_problems(lessons: Iterable[tuple[str, str]], describe: Describe) -> list[CodeProblem]:
    """Every marker in ``(lesson name, Markdown)`` pairs that names no code of the
    releases ``describe`` reads."""
    problems: list[CodeProblem] = []
    for name, text in lessons:
        for marker in code_markers(text):
            if marker.system is None:
                problems.append(CodeProblem(name, marker.text, "is not shaped like a code"))
            elif describe(marker.system, marker.code) is None:
                problems.append(
                    CodeProblem(
                        name,
                        marker.text,
                        f"is not in the {marker.system.value} release in force",
                    )
                )
    return problems
