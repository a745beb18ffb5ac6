"""The loop as one state machine (kpis.loop): the state is KpiHealth.candidate, labelled
"Sustain" when a KPI is not in the loop, and Kpi.intent becomes its mirror.

Existing rows are derived once: a KPI the sweep had sent back to sustain (intent sustain)
while its health still read "in improvement" is in sustain; then every KPI's intent follows
its state (improve exactly while in improvement). The next sweep re-decides every state
with kpis.evaluation.next_state.
"""

from django.db import migrations, models


def derive(apps, schema_editor):
    Kpi = apps.get_model("kpis", "Kpi")
    KpiHealth = apps.get_model("kpis", "KpiHealth")
    KpiHealth.objects.filter(candidate="in_improvement", kpi__intent="sustain").update(
        candidate="none")
    improving = KpiHealth.objects.filter(candidate="in_improvement").values("kpi_id")
    Kpi.objects.filter(pk__in=improving).exclude(intent="improve").update(intent="improve")
    Kpi.objects.exclude(pk__in=improving).exclude(intent="sustain").update(intent="sustain")


class Migration(migrations.Migration):
    dependencies = [("kpis", "0004_limit_periods_excluded_points_median")]

    operations = [
        migrations.AlterField(
            model_name="kpihealth",
            name="candidate",
            field=models.CharField(
                choices=[("none", "Sustain"), ("candidate", "Improvement candidate"),
                         ("dismissed", "Dismissed candidate"),
                         ("in_improvement", "In improvement")],
                default="none", max_length=16),
        ),
        migrations.RunPython(derive, migrations.RunPython.noop),
    ]
