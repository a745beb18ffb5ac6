"""The stored KPI status counts also count the stale KPIs by status (the dashboards show
stale KPIs apart from their status, issue 16). Existing rows are dropped: the next read
counts them again (kpis.status_counts.status_counts counts a missing row)."""

from django.db import migrations, models


def drop_counts(apps, schema_editor):
    apps.get_model("kpis", "KpiStatusCount").objects.all().delete()


class Migration(migrations.Migration):

    dependencies = [
        ('kpis', '0010_kpi_status_count'),
    ]

    operations = [
        migrations.AddField(model_name='kpistatuscount', name='stale_on_target',
                            field=models.PositiveIntegerField(default=0)),
        migrations.AddField(model_name='kpistatuscount', name='stale_off_target',
                            field=models.PositiveIntegerField(default=0)),
        migrations.AddField(model_name='kpistatuscount', name='stale_no_target',
                            field=models.PositiveIntegerField(default=0)),
        migrations.AddField(model_name='kpistatuscount', name='stale_no_data',
                            field=models.PositiveIntegerField(default=0)),
        migrations.RunPython(drop_counts, migrations.RunPython.noop),
    ]
