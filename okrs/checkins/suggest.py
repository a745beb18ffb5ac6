"""The status a check-in row suggests, and whether a person's status disagrees with pace.

One function decides the suggestion (`suggest`), from plain inputs, so it is tested at
its edges (tests/test_checkin_suggest.py, tables and Hypothesis):

* accomplished: a milestone done, or a metric at (or past) its target;
* a guardrail: on track while it holds, off track when it does not;
* a milestone not done: on track until 75 % of the cycle has passed, then needs
  attention, off track once the cycle's time is up;
* a metric, by its progress against the expected progress (the time elapsed): within
  10 points behind (the tolerance of okrs.progress.pace) is on track, up to 25 points
  behind needs attention, further behind is off track;
* a KPI-linked key result also reads the KPI's current signals: an off-target KPI or an
  unfavourable signal lowers an "on track" to "needs attention" (never raises anything).

`disagreement` says, in words, when a status set by a person contradicts the pace
("set Off track by Mark on 23 Nov — pace says ahead").
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from django.utils import timezone
from django.utils.formats import date_format
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, pgettext

from okrs import progress as P

TOLERANCE = 0.10        # okrs.progress.pace's tolerance: "on pace" within 10 points
ATTENTION_GAP = 0.25    # up to 25 points behind: needs attention; further: off track
MILESTONE_LATE = 0.75   # a milestone not done once 75 % of the cycle has passed


LABELS = {P.ON_TRACK: gettext_lazy("On track"), P.NEEDS_ATTENTION: gettext_lazy("Needs attention"),
          P.OFF_TRACK: gettext_lazy("Off track"), P.ACCOMPLISHED: gettext_lazy("Accomplished")}


@dataclass(frozen=True)
class Suggestion:
    status: str
    reason: str          # why, in words ("18 points behind the expected 67 %")

    @property
    def label(self) -> str:
        return LABELS[self.status]


def suggest(*, kind: str, progress: float, expected: float, done: bool = False,
            kpi_off_target: bool = False, kpi_unfavourable: bool = False) -> Suggestion:
    """The suggested status of a key result (see the module's docstring)."""
    progress = P.clamp(float(progress), 0.0, 1.0)
    expected = P.clamp(float(expected), 0.0, 1.0)
    if kind == P.MILESTONE:
        if done:
            return Suggestion(P.ACCOMPLISHED, _("the milestone is done"))
        if expected >= 1.0:
            result = Suggestion(P.OFF_TRACK, _("the cycle's time is up and it is not done"))
        elif expected >= MILESTONE_LATE:
            result = Suggestion(P.NEEDS_ATTENTION,
                                _("%(pct)s %% of the cycle has passed") % {
                                    "pct": round(expected * 100)})
        else:
            result = Suggestion(P.ON_TRACK, _("not due yet"))
    elif kind == P.GUARDRAIL:
        result = (Suggestion(P.ON_TRACK, _("the guardrail holds")) if progress >= 1.0
                  else Suggestion(P.OFF_TRACK, _("the guardrail is not held")))
    else:
        if progress >= 1.0:
            return Suggestion(P.ACCOMPLISHED, _("the target is reached"))
        gap = round(expected - progress, 9)  # 0.67 - 0.57 is 0.1 exactly, as meant
        points = round(gap * 100)
        if gap <= TOLERANCE:
            words = (_("ahead of the expected %(pct)s %%") if gap < -TOLERANCE
                     else _("on pace with the expected %(pct)s %%"))
            result = Suggestion(P.ON_TRACK, words % {"pct": round(expected * 100)})
        elif gap <= ATTENTION_GAP:
            result = Suggestion(P.NEEDS_ATTENTION, _behind(points, expected))
        else:
            result = Suggestion(P.OFF_TRACK, _behind(points, expected))
    if result.status == P.ON_TRACK and (kpi_off_target or kpi_unfavourable):
        sentence = (_("%(reason)s, but the KPI is off target") if kpi_off_target
                    else _("%(reason)s, but the KPI shows an unfavourable signal"))
        return Suggestion(P.NEEDS_ATTENTION, sentence % {"reason": result.reason})
    return result


def _behind(points: int, expected: float) -> str:
    return _("%(points)s points behind the expected %(pct)s %%") % {
        "points": points, "pct": round(expected * 100)}


def _kpi_flags(kr) -> tuple[bool, bool]:
    if kr.kpi_id is None:
        return False, False
    health = getattr(kr.kpi, "health", None) if kr.kpi is not None else None
    if health is None:
        return False, False
    return health.status == "off_target", bool(health.has_unfavourable_signal)


def suggest_for_kr(kr, *, when: dt.datetime | None = None, progress: float | None = None,
                   expected: float | None = None) -> Suggestion:
    """`suggest` for a KeyResult (its objective's cycle loaded); progress and expected
    default to the KR's own value and today's expected progress."""
    from okrs.selectors import kr_input

    if progress is None:
        progress = P.kr_progress(kr_input(kr))
    if expected is None:
        cycle = kr.objective.cycle
        today = (when or timezone.now()).astimezone(kr.organization.tz).date()
        expected = P.expected_progress(cycle.start, cycle.end, today)
    off, unfavourable = _kpi_flags(kr)
    return suggest(kind=kr.kind, progress=progress, expected=expected, done=bool(kr.done),
                   kpi_off_target=off, kpi_unfavourable=unfavourable)


# Pace in words, as the hint says it.
PACE_WORDS = {"ahead": gettext_lazy("pace says ahead"), "on_pace": gettext_lazy("pace says on pace"),
              "behind": gettext_lazy("pace says behind")}


def disagrees(status: str | None, pace: str) -> bool:
    """A person's status that contradicts the pace: 'on track' (or accomplished) while
    behind, 'off track' while on pace or ahead, 'needs attention' while ahead."""
    if status in (P.ON_TRACK, P.ACCOMPLISHED):
        return pace == "behind"
    if status == P.OFF_TRACK:
        return pace in ("ahead", "on_pace")
    if status == P.NEEDS_ATTENTION:
        return pace == "ahead"
    return False


def disagreement(status: str | None, pace: str, *, label: str, author: str | None,
                 on: dt.date | None) -> str:
    """'set Off track by Mark on 23 Nov — pace says ahead', or '' when they agree."""
    if not disagrees(status, pace):
        return ""
    pace_words = PACE_WORDS.get(pace, pace)
    # One whole sentence for each of: with or without the author, with or without the day.
    values = {"label": label, "author": author, "pace": pace_words,
              "date": date_format(on, pgettext("date format: day and short month", "j M"))
              if on else ""}
    if author and on:
        return _("set %(label)s by %(author)s on %(date)s — %(pace)s") % values
    if author:
        return _("set %(label)s by %(author)s — %(pace)s") % values
    if on:
        return _("set %(label)s on %(date)s — %(pace)s") % values
    return _("set %(label)s — %(pace)s") % values
