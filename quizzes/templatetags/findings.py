"""Template filters that show findings the way the grader's table of kinds names them."""

from django import template

from quizzes.grading.kinds import kind_label

register = template.Library()


@register.filter(name="kind_label")
def kind_label_filter(kind: object) -> str:
    """``missing_seventh_character`` -> "Missing 7th character"."""
    return kind_label(kind)
