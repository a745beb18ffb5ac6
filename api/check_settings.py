"""Settings for the API contract run (.ci/schemathesis): production settings with the
API's rate limits raised, so thousands of generated requests reach the operations.
The 429 answer itself is covered by tests/test_ratelimit.py."""

from config.settings import *  # noqa: F403

HEADWAY_RATE_LIMITS = {"api": (1_000_000, 60), "api_write": (1_000_000, 60)}
