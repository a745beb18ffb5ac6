"""Limit periods, excluded points and the moving range method (issue 20).

A KPI's single rebase date becomes its first limit period (the reason says so); the
field stays for the forms that still set it and is read as one more division.
"""

import django.db.models.deletion
from django.conf import settings
from django.db import migrations, models


def rebase_dates_to_periods(apps, schema_editor):
    Kpi = apps.get_model("kpis", "Kpi")
    LimitPeriod = apps.get_model("kpis", "LimitPeriod")
    LimitPeriod.objects.bulk_create([
        LimitPeriod(kpi_id=pk, start=day, reason="Rebase date set before limit periods existed.")
        for pk, day in Kpi.objects.filter(rebase_date__isnull=False).values_list("pk", "rebase_date")
    ], ignore_conflicts=True)


class Migration(migrations.Migration):

    dependencies = [
        ('kpis', '0003_point_source_ref'),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.AddField(
            model_name='kpi',
            name='limit_method',
            field=models.CharField(choices=[('average', 'Average moving range'), ('median', 'Median moving range')], default='average', help_text='The median moving range suits a series with occasional spikes.', max_length=10),
        ),
        migrations.CreateModel(
            name='ExcludedPoint',
            fields=[
                ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                ('period_start', models.DateField()),
                ('reason', models.TextField()),
                ('created_at', models.DateTimeField(auto_now_add=True)),
                ('created_by', models.ForeignKey(blank=True, null=True, on_delete=django.db.models.deletion.SET_NULL, related_name='+', to=settings.AUTH_USER_MODEL)),
                ('kpi', models.ForeignKey(on_delete=django.db.models.deletion.CASCADE, related_name='excluded_points', to='kpis.kpi')),
            ],
            options={
                'ordering': ['kpi', 'period_start'],
                'constraints': [models.UniqueConstraint(fields=('kpi', 'period_start'), name='excludedpoint_unique_period')],
            },
        ),
        migrations.CreateModel(
            name='LimitPeriod',
            fields=[
                ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                ('start', models.DateField()),
                ('reason', models.TextField()),
                ('status', models.CharField(choices=[('active', 'Active'), ('declined', 'Declined suggestion')], default='active', max_length=10)),
                ('locked_center', models.FloatField(blank=True, null=True)),
                ('locked_moving_range', models.FloatField(blank=True, null=True)),
                ('locked_at', models.DateTimeField(blank=True, null=True)),
                ('created_at', models.DateTimeField(auto_now_add=True)),
                ('created_by', models.ForeignKey(blank=True, null=True, on_delete=django.db.models.deletion.SET_NULL, related_name='+', to=settings.AUTH_USER_MODEL)),
                ('kpi', models.ForeignKey(on_delete=django.db.models.deletion.CASCADE, related_name='limit_periods', to='kpis.kpi')),
            ],
            options={
                'ordering': ['kpi', 'start'],
                'constraints': [models.UniqueConstraint(fields=('kpi', 'start'), name='limitperiod_unique_start'), models.CheckConstraint(condition=models.Q(models.Q(('locked_center__isnull', True), ('locked_moving_range__isnull', True)), models.Q(('locked_center__isnull', False), ('locked_moving_range__gte', 0)), _connector='OR'), name='limitperiod_lock_complete')],
            },
        ),
        migrations.RunPython(rebase_dates_to_periods, migrations.RunPython.noop),
    ]
