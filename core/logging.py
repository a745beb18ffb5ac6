"""Logging filters.

Django's ``django.request`` logger reports every PermissionDenied as a warning with the
exception attached, so each 403 printed a full traceback in the server log (issue 14) and
real faults drowned among refusals. The record is kept (one line: who was refused where),
its traceback dropped.
"""

from __future__ import annotations

import logging


class ForbiddenWithoutTraceback(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        if getattr(record, "status_code", None) == 403 and record.exc_info:
            record.exc_info = None
            record.exc_text = None
        return True
