"""Signals sent by kpis for apps to its right (okrs keeps linked key results in step).

``points_changed(sender=Kpi, kpi_ids=[...])`` is sent inside the writing transaction
after data points of these KPIs were added or replaced.
"""

from django.dispatch import Signal

points_changed = Signal()
