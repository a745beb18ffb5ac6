"""Which KPIs a derived KPI's formula reads (kpis.derived keeps these rows in step with
``Kpi.formula``).

One row per (derived KPI, input KPI). Deleting the derived KPI deletes its rows; deleting
an input KPI while a derived KPI reads it is refused (``RESTRICT``: an organisation that is
deleted as a whole still goes, derived KPIs and all).
"""

from __future__ import annotations

from django.db import models
from django.utils.translation import gettext_lazy


class KpiInput(models.Model):
    derived = models.ForeignKey("kpis.Kpi", on_delete=models.CASCADE, related_name="inputs")
    input = models.ForeignKey("kpis.Kpi", on_delete=models.RESTRICT, related_name="used_by")

    class Meta:
        verbose_name = gettext_lazy("derived KPI input")
        constraints = [
            models.UniqueConstraint(fields=["derived", "input"], name="kpi_input_unique"),
            models.CheckConstraint(name="kpi_input_not_itself",
                                   condition=~models.Q(derived=models.F("input"))),
        ]

    def __str__(self) -> str:
        return f"{self.derived_id} ← {self.input_id}"
