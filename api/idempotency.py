"""Idempotency-Key on POSTs: the same key again returns the first answer, writes nothing.

The key's row is inserted in the same transaction as the write: a request that fails
(4xx) rolls both back, so a retry runs again; two concurrent requests with one key meet
at the unique constraint, and the second replays the first's answer once it commits.
The same key with a different request is a 409: it conflicts with what the key already
stands for (a script's bug, not a retry).
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable

from django.core.serializers.json import DjangoJSONEncoder
from django.db import IntegrityError, transaction
from ninja import Header, Status
from ninja.errors import HttpError
from pydantic import BaseModel

from .models import IdempotentRequest

KEY_HEADER = Header(None, alias="Idempotency-Key", max_length=200,
                    pattern=r"^[\x21-\x7e]{1,200}$",
                    description="Any unique string (e.g. a UUID): a retry with the same key "
                                "gets the first answer and writes nothing twice")


def _fingerprint(request) -> str:
    h = hashlib.sha256()
    for part in (request.method.encode(), request.get_full_path().encode(), request.body):
        h.update(part + b"\x00")
    return h.hexdigest()


def _plain(value):
    if isinstance(value, BaseModel):
        value = value.model_dump()
    return json.loads(json.dumps(value, cls=DjangoJSONEncoder))


def run_once(request, key: str | None, write: Callable[[], object]):
    """``write()``'s answer, or the stored answer when ``key`` was used before."""
    if not key:
        return write()
    fingerprint = _fingerprint(request)
    token = request.api_token
    try:
        with transaction.atomic():
            done = IdempotentRequest.objects.filter(token=token, key=key).first()
            if done is None:
                answer = write()
                status, value = ((answer.status_code, answer.value)
                                 if isinstance(answer, Status) else (200, answer))
                IdempotentRequest.objects.create(token=token, key=key,
                                                 fingerprint=fingerprint, status=status,
                                                 body=_plain(value))
                return answer
    except IntegrityError:
        # A concurrent twin committed the key first: this write rolled back whole.
        done = IdempotentRequest.objects.filter(token=token, key=key).first()
        if done is None:
            raise
    if done.fingerprint != fingerprint:
        raise HttpError(409, "This Idempotency-Key was used for a different request.")
    return Status(done.status, done.body)
