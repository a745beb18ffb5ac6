"""Comments, mentions, inbox entries and preferences (issue 18)."""

__all__: list[str] = []
