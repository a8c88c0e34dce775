"""Stored exercise payloads take one schema: a full-coding key lists every diagnosis and
procedure line as an object (items added from the authoring page stored bare codes,
which grading could not read). The conversion is written out here rather than imported,
so the migration keeps meaning what it meant when it was written."""

from django.db import migrations


def _line(value, procedure):
    if isinstance(value, dict):
        return value
    line = {"code": str(value)}
    if procedure:
        line.update({"modifiers": [], "units": 1, "dx_pointers": []})
    return line


def canonical_keys(apps, schema_editor):
    QuizItem = apps.get_model("quizzes", "QuizItem")
    changed = []
    for item in QuizItem.objects.filter(exercise_type="full_coding").iterator():
        exercise = dict(item.exercise or {})
        key = exercise.get("answer")
        if not isinstance(key, dict):
            continue
        converted = {
            **key,
            "diagnoses": [_line(line, False) for line in key.get("diagnoses") or []],
            "procedures": [_line(line, True) for line in key.get("procedures") or []],
        }
        if converted != key:
            exercise["answer"] = converted
            item.exercise = exercise
            changed.append(item)
    QuizItem.objects.bulk_update(changed, ["exercise"], batch_size=500)


class Migration(migrations.Migration):
    dependencies = [("quizzes", "0003_bulk_jobs")]

    operations = [migrations.RunPython(canonical_keys, migrations.RunPython.noop)]
