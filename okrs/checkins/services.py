"""Check-in services: the only code that writes CheckIn rows.

A check-in is append-only (a correction is a new check-in). The key result mirrors its
latest check-in: ``current_value``, ``done``, ``status`` and ``last_checkin_at`` are
written in the same transaction as the new row, under a row lock on the key result, so
two people checking in the same KR at the same moment are both recorded and the KR ends
with the value of the one that committed last.

Value rules (the form applies them too, the service is the last gate):

* metric and guardrail KRs need a finite value with ``|value| < 1e15``;
* **no negatives when the KR lives on the non-negative side**: if both the start and the
  target value are ``>= 0`` (tickets, %, macros, euros), a negative value is a typo and is
  refused. A KR whose start or target is negative (a temperature, a net balance) accepts
  negatives;
* milestone KRs take ``done`` (True/False) and no value;
* a KR linked to a KPI takes its value from the KPI's latest data point: the check-in
  only asks for status and comment (the value stored on the check-in is the KPI's latest
  value at that moment, so the history shows what the owner saw);
* a KR whose objective's cycle is closed, or whose objective or KR was deleted, cannot
  be checked in (``CheckInRefused``).

Issue 19: ``record_no_change`` (same value and status, confidence and comment kept from the
last check-in), ``checkin_many`` ("check in all": each row saved or refused on its own, the
figures refreshed once per touched objective at the end), ``checkin_edit`` / ``checkin_undo``
(the author, during the check-in's week: the old row is kept, marked replaced, and the change
audited) and the stale-page guard (``seen``: the last check-in id the page showed; a newer
one raises ``StaleCheckIn`` unless the person confirmed).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

from django.core.exceptions import ValidationError
from django.db import DatabaseError, transaction
from django.db.models import OuterRef, Subquery
from django.utils import timezone
from django.utils.translation import gettext as _

from accounts.audit import audit_record
from accounts.models import Membership, Organization, Role
from core.events import emit
from core.validators import validate_finite
from kpis.models import DataPoint, Kpi
from okrs import figures
from okrs.models import CheckIn, KeyResult, Objective, Status


class CheckInRefused(Exception):
    """The key result cannot take a check-in (closed cycle, deleted, draft...)."""


class StaleCheckIn(Exception):
    """Someone checked in since the page was loaded: `latest` is their check-in."""

    def __init__(self, latest: CheckIn | None):
        self.latest = latest
        who = latest.author.display_name if latest and latest.author else "Someone"
        super().__init__(f"{who} checked in since you loaded the page: the row now shows "
                         "their value. Check in again to replace it with yours.")


def week_start_for(org: Organization, when: dt.datetime | None = None) -> dt.date:
    """Monday of the ISO week containing `when` (default: now), in the org's time zone."""
    local = (when or timezone.now()).astimezone(org.tz)
    day = local.date()
    return day - dt.timedelta(days=day.weekday())


def allows_negative(kr: KeyResult) -> bool:
    """A KR whose start and target are both >= 0 counts on the non-negative side."""
    return (kr.start_value or 0) < 0 or (kr.target_value or 0) < 0


def check_value(kr: KeyResult, value: float | None) -> float:
    """Validate a new value for a metric/guardrail KR; return it as a float."""
    if value is None or (isinstance(value, str) and not value.strip()):
        raise ValidationError(_("Enter the new value."), code="required")
    validate_finite(value)
    number = float(value)
    if number < 0 and not allows_negative(kr):
        raise ValidationError(
            _("This key result cannot go below zero (its start and target are not negative)."),
            code="negative")
    return number


def refusal_reason(kr: KeyResult) -> str | None:
    """Why `kr` cannot take a check-in now, or None when it can."""
    objective = kr.objective
    if kr.deleted_at is not None or objective.deleted_at is not None:
        return _("This key result was deleted.")
    if objective.cycle.is_closed:
        return _("The cycle %(name)s is closed: its key results are frozen.") % {
            "name": objective.cycle.name}
    if objective.state == Objective.State.CLOSED:
        return _("This objective is closed.")
    if objective.state == Objective.State.DRAFT:
        return _("This objective is still a draft: check-ins start once it is active.")
    return None


def user_team_ids(user, org: Organization) -> set[int]:
    """Ids of the org's teams the user is a member of (one query)."""
    return set(user.teams.filter(organization=org).values_list("id", flat=True))


def can_check_in(*, user, membership: Membership | None, kr: KeyResult,
                 team_ids: set[int] | None = None) -> bool:
    """The KR's owner, a member of its objective's team, or a leader and above.

    A viewer never checks in, even on a KR they own (the viewer role only reads).
    `team_ids` (from `user_team_ids`) avoids a query per row on list pages.
    """
    if membership is None or membership.organization_id != kr.organization_id:
        return False
    if not membership.has_role(Role.MEMBER):
        return False
    if membership.has_role(Role.LEADER):
        return True
    if kr.owner_id is not None and kr.owner_id == user.id:
        return True
    team_id = kr.objective.team_id
    if team_id is None:
        return False
    if team_ids is None:
        return user.teams.filter(organization_id=kr.organization_id, pk=team_id).exists()
    return team_id in team_ids


def kpi_latest_value(kpi_id: int) -> float | None:
    point = DataPoint.objects.filter(kpi_id=kpi_id).order_by("-period_start").first()
    return point.value if point else None


def _locked_kr(key_result: KeyResult) -> KeyResult:
    # Lock the KR row: concurrent check-ins on one KR are serialised, none is lost, and the
    # KR ends up mirroring the one that commits last. (The last check-in is read by a
    # separate statement once the lock is held: a subquery of this one would see the
    # snapshot taken before waiting for the lock, on PostgreSQL, and miss the check-in of
    # the transaction it waited for.)
    return (KeyResult.objects.select_for_update(of=("self",))
            .select_related("objective", "objective__cycle", "organization")
            .get(pk=key_result.pk, organization_id=key_result.organization_id))


def latest_checkin(kr: KeyResult) -> CheckIn | None:
    """The KR's newest live (not edited away, not undone) check-in, with its author."""
    return (CheckIn.objects.filter(key_result_id=kr.pk, replaced_at__isnull=True)
            .select_related("author").order_by("-created_at", "-id").first())


_NO_SEEN = object()


def _prepare(kr: KeyResult, *, author, status: str, value, done, comment: str,
             confidence, moment: dt.datetime, revision_of: CheckIn | None = None,
             kpi_value=_NO_SEEN) -> tuple[CheckIn, dict]:
    """Validate one check-in of the locked `kr`; return it unsaved and the KR's new fields
    (`kpi_value`: the linked KPI's latest value, when the caller has read it already)."""
    reason = refusal_reason(kr)
    if reason:
        raise CheckInRefused(reason)
    if status not in Status.values:
        raise ValidationError({"status": _("Choose a status.")})
    if confidence is not None and not (0 <= int(confidence) <= 10):
        raise ValidationError({"confidence": _("Confidence goes from 0 to 10.")})
    comment = (comment or "").strip()

    kr_update: dict = {}
    if kr.kpi_id is not None:
        value = kpi_latest_value(kr.kpi_id) if kpi_value is _NO_SEEN else kpi_value
        done = False
        if value is not None:
            kr_update["current_value"] = value
    elif kr.kind == KeyResult.Kind.MILESTONE:
        done = bool(done)
        value = 1.0 if done else 0.0
        kr_update.update(done=done, current_value=value)
    else:
        try:
            value = check_value(kr, value)
        except ValidationError as exc:
            raise ValidationError({"value": exc.messages}) from None
        done = False
        kr_update["current_value"] = value

    if status == Status.ACCOMPLISHED and kr.kind == KeyResult.Kind.MILESTONE and not done:
        raise ValidationError({"status": _("Mark the milestone done to call it accomplished.")})

    checkin = CheckIn(
        organization=kr.organization, key_result=kr, value=value, done=bool(done),
        status=status, confidence=confidence, comment=comment, author=author,
        week_start=week_start_for(kr.organization, moment), revision_of=revision_of)
    # Constraints are checked above (status, confidence) and by the database on insert;
    # validating them here would cost six queries per check-in.
    checkin.full_clean(exclude=["organization", "key_result", "author", "revision_of"],
                       validate_constraints=False)
    return checkin, {"status": status, **kr_update}


def _event(checkin: CheckIn) -> tuple[int, str, dict]:
    """reach_out's "checkin.created" event of a saved check-in."""
    kr, author, revision_of = checkin.key_result, checkin.author, checkin.revision_of
    return (kr.organization_id, "checkin.created", {"checkin_id": checkin.pk, "key_result_id": kr.pk, "key_result_title": kr.title, "objective_id": kr.objective_id, "team_id": kr.objective.team_id, "status": checkin.status, "value": checkin.value, "done": checkin.done, "confidence": checkin.confidence, "note": checkin.comment, "author_id": getattr(author, "pk", None), "author_name": getattr(author, "name", ""), "revision_of": revision_of.pk if revision_of else None, "created_at": checkin.created_at})


def _record(kr: KeyResult, *, author, status: str, value, done, comment: str,
            confidence, moment: dt.datetime, now: dt.datetime | None,
            revision_of: CheckIn | None = None) -> tuple[CheckIn, dict]:
    """Validate and insert one check-in of the locked `kr`; return it and the KR's new
    fields (the caller writes them). With `checkin_many`'s batch, the one place a CheckIn
    row is created."""
    checkin, fields = _prepare(kr, author=author, status=status, value=value, done=done,
                               comment=comment, confidence=confidence, moment=moment,
                               revision_of=revision_of)
    checkin.save()
    if now is not None:  # created_at is auto_now_add; tests and imports may pin the moment
        CheckIn.objects.filter(pk=checkin.pk).update(created_at=now)
        checkin.created_at = now
    emit(*_event(checkin))
    return checkin, {**fields, "last_checkin_at": checkin.created_at}


def _mirror(kr: KeyResult, key_result: KeyResult, fields: dict) -> None:
    """Write the KR's mirrored fields and copy them onto the caller's instance."""
    KeyResult.objects.filter(pk=kr.pk).update(updated_at=timezone.now(), **fields)
    for name, new in fields.items():
        setattr(key_result, name, new)


def _check_seen(kr: KeyResult, seen) -> CheckIn | None:
    """The locked KR's last live check-in (read after the lock); StaleCheckIn when the page
    saw an older one (`seen`: its id, 0 or None for "none yet"; `_NO_SEEN`: no check)."""
    latest = latest_checkin(kr)
    if seen is not _NO_SEEN and (latest.pk if latest else 0) != int(seen or 0):
        raise StaleCheckIn(latest)
    return latest


@transaction.atomic
def checkin_create(
    *,
    key_result: KeyResult,
    author,
    status: str,
    value: float | None = None,
    done: bool | None = None,
    comment: str = "",
    confidence: int | None = None,
    now: dt.datetime | None = None,
    seen=_NO_SEEN,
    refresh: bool = True,
) -> CheckIn:
    """Record a check-in and make it the KR's current state, atomically.

    Raises ValidationError (bad value/status/confidence), CheckInRefused, or StaleCheckIn
    when `seen` (the last check-in id the page showed) is given and is no longer the
    latest. The caller checks permissions (`can_check_in`). `refresh=False` leaves the
    figures to the caller (checkin_many refreshes each objective once).
    """
    kr = _locked_kr(key_result)
    if seen is not _NO_SEEN:
        _check_seen(kr, seen)
    moment = now or timezone.now()
    checkin, fields = _record(kr, author=author, status=status, value=value, done=done,
                              comment=comment, confidence=confidence, moment=moment, now=now)
    _mirror(kr, key_result, fields)
    if refresh:
        figures.refresh_many([kr.objective_id])  # the KR moved through an UPDATE: its objective, parents and pillars, now
    return checkin


def record_no_change(kr: KeyResult, user, *, when: dt.datetime | None = None,
                     confidence=_NO_SEEN, comment: str | None = None, seen=_NO_SEEN,
                     refresh: bool = True) -> CheckIn:
    """A check-in with the KR's current value (or done) and status; confidence and comment
    are kept from the last check-in unless given. A KR never checked in takes the
    suggested status. Used by the row's "No change" button and the e-mail's one-click link
    (the caller checks permissions)."""
    from okrs.checkins.suggest import suggest_for_kr

    with transaction.atomic():
        locked = _locked_kr(kr)
        last = _check_seen(locked, seen)
        status = locked.status or suggest_for_kr(locked, when=when).status
        if confidence is _NO_SEEN:
            confidence = last.confidence if last else None
        if not comment:
            comment = last.comment if last else ""
        checkin, fields = _record(
            locked, author=user, status=status, value=locked.current_value, done=locked.done,
            comment=comment, confidence=confidence, moment=when or timezone.now(), now=when)
        _mirror(locked, kr, fields)
        if refresh:
            figures.refresh_many([locked.objective_id])
    return checkin


# --------------------------------------------------------------------------
# Check in all


@dataclass
class RowInput:
    """One row of a "check in all" POST, already parsed by its form."""

    key_result: KeyResult
    status: str = ""
    value: float | None = None
    done: bool | None = None
    comment: str = ""
    confidence: int | None = None
    no_change: bool = False
    seen: object = _NO_SEEN


@dataclass
class RowOutcome:
    key_result: KeyResult
    checkin: CheckIn | None = None
    errors: dict = field(default_factory=dict)   # field -> messages ("" for the row)
    stale: CheckIn | None = None                 # the newer check-in, when refused as stale
    stale_seen: bool = False                     # refused as stale (someone checked in since)

    @property
    def saved(self) -> bool:
        return self.checkin is not None


@transaction.atomic
def checkin_many(rows: list[RowInput], author, *, now: dt.datetime | None = None
                 ) -> list[RowOutcome]:
    """Save each row on its own (a refused row leaves the others saved) in a number of
    queries that does not grow with the rows: the key results locked by one statement in id
    order (the order every writer takes them), their last check-ins read by one statement
    after the lock (the stale-page guard), each row validated in Python, the check-ins and
    their events inserted by one statement each, the key results updated by one, then the
    figures refreshed once for every touched objective (`okrs.figures.refresh_many`).

    Should the batch's insert fail in the database, it is undone and each row is saved on
    its own through `checkin_create` / `record_no_change` (a savepoint per row)."""
    outcomes = {id(r): RowOutcome(key_result=r.key_result) for r in rows}
    ordered = sorted(rows, key=lambda r: r.key_result.pk)
    pks = [r.key_result.pk for r in ordered]
    if len(set(pks)) != len(pks):  # the same key result twice: in order, one at a time
        _checkin_each(ordered, outcomes, author, now=now)
        return [outcomes[id(r)] for r in rows]
    try:
        with transaction.atomic():
            _checkin_batch(ordered, outcomes, author, now=now)
    except DatabaseError:
        outcomes = {id(r): RowOutcome(key_result=r.key_result) for r in rows}
        _checkin_each(ordered, outcomes, author, now=now)
    return [outcomes[id(r)] for r in rows]


def _refused(out: RowOutcome, exc: Exception) -> None:
    if isinstance(exc, StaleCheckIn):
        out.stale, out.stale_seen = exc.latest, True
        out.errors = {"": [str(exc)]}
    elif isinstance(exc, CheckInRefused):
        out.errors = {"": [str(exc)]}
    else:
        out.errors = ({k: list(v) for k, v in exc.message_dict.items()}
                      if hasattr(exc, "error_dict") else {"": exc.messages})


def _checkin_batch(ordered: list[RowInput], outcomes: dict, author, *,
                   now: dt.datetime | None) -> None:
    from core.events import emit_many
    from okrs.checkins.suggest import suggest_for_kr

    org_ids = {r.key_result.organization_id for r in ordered}
    locked = {kr.pk: kr for kr in (
        KeyResult.objects.select_for_update(of=("self",))
        .select_related("objective", "objective__cycle", "organization")
        .filter(pk__in=[r.key_result.pk for r in ordered], organization_id__in=org_ids)
        .order_by("id"))}
    # After the lock, by a statement of its own (see _locked_kr): each KR's last live check-in.
    last_ids = (KeyResult.objects.filter(pk__in=list(locked))
                .annotate(last=Subquery(CheckIn.objects.filter(
                    key_result_id=OuterRef("pk"), replaced_at__isnull=True)
                    .order_by("-created_at", "-id").values("id")[:1]))
                .values("last"))
    lasts = {c.key_result_id: c for c in
             CheckIn.objects.filter(pk__in=last_ids).select_related("author")} if locked else {}
    kpi_ids = {kr.kpi_id for kr in locked.values() if kr.kpi_id is not None}
    kpi_values = dict(
        Kpi.objects.filter(pk__in=kpi_ids).annotate(latest=Subquery(
            DataPoint.objects.filter(kpi_id=OuterRef("pk")).order_by("-period_start")
            .values("value")[:1])).values_list("id", "latest")) if kpi_ids else {}
    moment = now or timezone.now()
    done: list[tuple[RowInput, KeyResult, CheckIn, dict]] = []
    for row in ordered:
        out = outcomes[id(row)]
        kr = locked.get(row.key_result.pk)
        try:
            if kr is None or kr.organization_id != row.key_result.organization_id:
                raise CheckInRefused(_("This key result was deleted."))
            last = lasts.get(kr.pk)
            if row.seen is not _NO_SEEN and (last.pk if last else 0) != int(row.seen or 0):
                raise StaleCheckIn(last)
            if row.no_change:  # as record_no_change
                status = kr.status or suggest_for_kr(kr, when=now).status
                confidence = (row.confidence if row.confidence is not None
                              else last.confidence if last else None)
                comment = row.comment or (last.comment if last else "")
                value, is_done = kr.current_value, kr.done
            else:
                status, confidence, comment = row.status, row.confidence, row.comment
                value, is_done = row.value, row.done
            checkin, fields = _prepare(
                kr, author=author, status=status, value=value, done=is_done, comment=comment,
                confidence=confidence, moment=moment, kpi_value=kpi_values.get(kr.kpi_id))
        except (StaleCheckIn, CheckInRefused, ValidationError) as exc:
            _refused(out, exc)
        else:
            done.append((row, kr, checkin, fields))
    if not done:
        return
    checkins = CheckIn.objects.bulk_create([c for _, _, c, _ in done])  # the same instances
    if now is not None:  # created_at is auto_now_add; tests and imports may pin the moment
        CheckIn.objects.filter(pk__in=[c.pk for c in checkins]).update(created_at=now)
    stamp = timezone.now()
    for row, kr, checkin, fields in done:
        if now is not None:
            checkin.created_at = now
        fields = {**fields, "last_checkin_at": checkin.created_at}
        for name, new in {**fields, "updated_at": stamp}.items():
            setattr(kr, name, new)
        for name, new in fields.items():  # the caller's instance follows, as _mirror does
            setattr(row.key_result, name, new)
        outcomes[id(row)].checkin = checkin
    emit_many([_event(c) for c in checkins])
    figures.bulk_set(KeyResult, [kr for _, kr, _, _ in done],
                     ["status", "last_checkin_at", "current_value", "done", "updated_at"])
    figures.refresh_many({kr.objective_id for _, kr, _, _ in done})


def _checkin_each(ordered: list[RowInput], outcomes: dict, author, *,
                  now: dt.datetime | None) -> None:
    """One row at a time (a savepoint each: both services are atomic), then the figures
    once: for a POST naming a key result twice, or when the batch's insert failed."""
    touched: set[int] = set()
    for row in ordered:
        out = outcomes[id(row)]
        try:
            if row.no_change:
                out.checkin = record_no_change(
                    row.key_result, author, when=now, comment=row.comment or None,
                    confidence=row.confidence if row.confidence is not None else _NO_SEEN,
                    seen=row.seen, refresh=False)
            else:
                out.checkin = checkin_create(
                    key_result=row.key_result, author=author, status=row.status,
                    value=row.value, done=row.done, comment=row.comment,
                    confidence=row.confidence, now=now, seen=row.seen, refresh=False)
        except (StaleCheckIn, CheckInRefused, ValidationError) as exc:
            _refused(out, exc)
        else:
            touched.add(row.key_result.objective_id)
    figures.refresh_many(touched)


# --------------------------------------------------------------------------
# Edit and undo (the author, during the check-in's week)


def edit_refusal(checkin: CheckIn, user, *, now: dt.datetime | None = None) -> str | None:
    """Why `user` may not edit or undo `checkin` now, or None."""
    if checkin.author_id is None or checkin.author_id != getattr(user, "pk", None):
        return _("Only the author of a check-in can change or undo it.")
    if checkin.replaced_at is not None:
        return _("This check-in was already changed or undone.")
    if checkin.week_start != week_start_for(checkin.organization, now):
        return _("A check-in can be changed or undone only during its own week.")
    return None


def _lock_for_edit(checkin: CheckIn, user, now) -> tuple[KeyResult, CheckIn]:
    kr = _locked_kr(checkin.key_result)
    fresh = CheckIn.objects.select_related("organization").get(pk=checkin.pk)
    reason = edit_refusal(fresh, user, now=now) or refusal_reason(kr)
    if reason:
        raise CheckInRefused(reason)
    return kr, fresh


_AUDITED = ("value", "done", "status", "confidence", "comment")


@transaction.atomic
def checkin_edit(checkin: CheckIn, user, *, status: str, value: float | None = None,
                 done: bool | None = None, comment: str = "", confidence: int | None = None,
                 now: dt.datetime | None = None, key_result: KeyResult | None = None
                 ) -> CheckIn:
    """Replace the author's check-in with a corrected one (a new row, `revision_of` the old
    one, which is kept and marked replaced). The KR follows when it was the latest
    (`key_result`: the caller's instance, updated in place)."""
    kr, old = _lock_for_edit(checkin, user, now)
    moment = now or timezone.now()
    CheckIn.objects.filter(pk=old.pk).update(replaced_at=moment)
    new, fields = _record(kr, author=user, status=status, value=value, done=done,
                          comment=comment, confidence=confidence, moment=moment, now=now,
                          revision_of=old)
    latest = latest_checkin(kr)
    if latest is not None and latest.pk == new.pk:
        _mirror(kr, key_result or checkin.key_result, fields)
    changes = {f: [getattr(old, f), getattr(new, f)] for f in _AUDITED
               if getattr(old, f) != getattr(new, f)}
    audit_record(organization=kr.organization, actor=user, action="checkin.edited", obj=new,
                 changes=changes, note=f"Replaces check-in {old.pk} of {kr.title}")
    figures.refresh_many([kr.objective_id])
    return new


@transaction.atomic
def checkin_undo(checkin: CheckIn, user, *, now: dt.datetime | None = None,
                 key_result: KeyResult | None = None) -> CheckIn | None:
    """Undo the author's check-in (kept, marked undone). The KR goes back to its previous
    live check-in (its value, done and status), or, with none, to its start value and no
    status. Returns the check-in the KR now mirrors."""
    kr, old = _lock_for_edit(checkin, user, now)
    moment = now or timezone.now()
    CheckIn.objects.filter(pk=old.pk).update(replaced_at=moment, undone=True)
    previous = latest_checkin(kr)
    if previous is not None:
        fields = {"status": previous.status, "last_checkin_at": previous.created_at,
                  "current_value": previous.value, "done": previous.done}
        if kr.kpi_id is not None and previous.value is None:
            del fields["current_value"]
    else:
        fields = {"status": "", "last_checkin_at": None, "done": False,
                  "current_value": None if kr.kpi_id else kr.start_value}
    _mirror(kr, key_result or checkin.key_result, fields)
    audit_record(organization=kr.organization, actor=user, action="checkin.undone", obj=old,
                 changes={"value": [old.value, fields.get("current_value")],
                          "status": [old.status, fields["status"]]},
                 note=f"Undid the check-in of {kr.title}")
    figures.refresh_many([kr.objective_id])
    return previous
