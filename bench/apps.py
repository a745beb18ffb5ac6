from django.apps import AppConfig


class BenchConfig(AppConfig):
    """Installed only with HEADWAY_BENCH=1: production has neither its URL nor its command."""

    name = "bench"
    verbose_name = "Benchmark"
