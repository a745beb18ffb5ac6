"""Reach's tables, one module per side (the event outbox itself is core's):

- delivery.py: chat connections (Slack, Teams), webhook subscriptions and their deliveries.
- inbox.py: comments, mentions, inbox entries and each person's preferences.
"""

from .delivery import *  # noqa: F401,F403
from .inbox import *  # noqa: F401,F403
