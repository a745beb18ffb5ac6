"""@mentions in a comment: who is named, and only members of the comment's organisation.

A mention is ``@`` followed by a member's name as Headway shows it (``@Mark Weber``, what the
autocomplete inserts) or by their e-mail address (``@mark@example.com``). Matching is
case-insensitive and takes the longest name that fits, so ``@Mark Weber`` is Mark Weber and
not a Mark. A name that is no member of the organisation matches nobody: it stays plain text
and notifies nobody.
"""

from __future__ import annotations

from dataclasses import dataclass

from accounts.models import Membership


@dataclass(frozen=True)
class Member:
    id: int
    name: str
    email: str


def org_members(organization_id: int) -> list[Member]:
    """The active members of the organisation (one query), any role."""
    rows = (Membership.objects.filter(organization_id=organization_id,
                                      suspended_at__isnull=True, user__is_active=True)
            .values_list("user_id", "user__name", "user__email")
            .order_by("user__name", "user__email"))
    return [Member(id=uid, name=(name or email.split("@")[0]), email=email)
            for uid, name, email in rows]


def _ends_word(text: str, end: int) -> bool:
    return end >= len(text) or not (text[end].isalnum() or text[end] in "_-")


def find_mentions(text: str, members: list[Member]) -> list[int]:
    """The ids of the members named with @ in `text`, in order of first mention, each once."""
    if "@" not in text:
        return []
    lowered = text.casefold()
    keys = sorted(((key.casefold(), m.id) for m in members for key in (m.email, m.name) if key),
                  key=lambda pair: -len(pair[0]))
    found: list[int] = []
    start = lowered.find("@")
    while start != -1:
        if start == 0 or not (text[start - 1].isalnum() or text[start - 1] in "_.-"):
            rest = lowered[start + 1:]
            for key, uid in keys:
                if rest.startswith(key) and _ends_word(text, start + 1 + len(key)):
                    if uid not in found:
                        found.append(uid)
                    break
        start = lowered.find("@", start + 1)
    return found


def search_members(members: list[Member], query: str, limit: int = 8) -> list[Member]:
    """Members whose name or e-mail starts with (then contains) `query`: the autocomplete."""
    q = query.strip().casefold()
    if not q:
        return members[:limit]
    starts = [m for m in members if m.name.casefold().startswith(q)
              or m.email.casefold().startswith(q)
              or any(part.startswith(q) for part in m.name.casefold().split())]
    contains = [m for m in members if m not in starts
                and (q in m.name.casefold() or q in m.email.casefold())]
    return (starts + contains)[:limit]
