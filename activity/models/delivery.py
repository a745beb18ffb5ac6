"""Chat connections, webhook subscriptions and their deliveries (issue 18)."""

__all__: list[str] = []
