"""A team's page: its objectives, check-in completion, KPIs and members."""
