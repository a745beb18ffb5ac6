"""The leader dashboard (the organisation's home page): goal and pillars, company
objectives, KPI health, improvement candidates, this week's check-ins, recent changes."""
