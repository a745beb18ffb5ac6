"""A guardrail key result always has a side (issue 14): the rows saved without one get the
side the old code guessed for them (at or above when the start is not below the
threshold), so nothing reads differently, then the database refuses a guardrail without one."""

from django.db import migrations, models
from django.db.models import F, Q


def fill_sides(apps, schema_editor):
    KeyResult = apps.get_model("okrs", "KeyResult")
    unsided = KeyResult.objects.filter(kind="guardrail").exclude(guard__in=["at_least",
                                                                            "at_most"])
    unsided.filter(start_value__gte=F("target_value")).update(guard="at_least")
    unsided.filter(start_value__lt=F("target_value")).update(guard="at_most")


class Migration(migrations.Migration):
    dependencies = [("okrs", "0002_stored_figures")]

    operations = [
        migrations.RunPython(fill_sides, migrations.RunPython.noop),
        migrations.AddConstraint(
            model_name="keyresult",
            constraint=models.CheckConstraint(
                condition=~Q(kind="guardrail") | Q(guard__in=["at_least", "at_most"]),
                name="kr_guardrail_has_side"),
        ),
    ]
