"""In the browser: a member updates three key results on the team check-in page without a
reload (each row swaps in place with its new progress, phone-sized screen); issue 19: no
change, check in all with one bad row, a keyboard-only check-in, edit and undo of one's own
check-in, and the suggested status with the hint when a person's status disagrees."""

from __future__ import annotations

import datetime as dt

import pytest
from django.utils import timezone

from accounts.models import Role
from okrs.models import CheckIn, KeyResult
from tests.factories import (
    CycleFactory,
    KeyResultFactory,
    MembershipFactory,
    ObjectiveFactory,
    OrganizationFactory,
    TeamFactory,
    UserFactory,
)

pytestmark = pytest.mark.e2e


def test_member_checks_in_three_krs_without_a_reload(open_page):
    org = OrganizationFactory(slug="e2e")
    user = UserFactory()
    MembershipFactory(user=user, organization=org, role=Role.MEMBER)
    team = TeamFactory(organization=org, slug="support")
    team.members.add(user)
    objective = ObjectiveFactory(organization=org, cycle=CycleFactory(organization=org),
                                 team=team)
    krs = [KeyResultFactory(objective=objective, start_value=0, target_value=100,
                            current_value=10, owner=user) for _ in range(3)]
    ids = [kr.pk for kr in krs]
    w = open_page(viewport={"width": 390, "height": 844})
    w.enter_as(user)
    w.goto(f"/o/{org.slug}/teams/{team.slug}/check-in/")
    page = w.page
    page.evaluate("window.__noReload = 'still here'")
    pct = []
    for i, pk in enumerate(ids):
        row = page.locator(f"#kr-row-{pk}")
        row.locator(f"input[name=kr{pk}-value]").fill(str(40 + 10 * i))
        row.locator(f"select[name=kr{pk}-status]").select_option("needs_attention")
        row.locator(f"#ci-go-{pk}").click()
        page.locator(f"#kr-row-{pk}.ci-row--saved").wait_for(timeout=10_000)
        pct.append(page.locator(f"#kr-row-{pk} .pct").inner_text())
    # A bad value is refused in the row, the typed text kept.
    first = page.locator(f"#kr-row-{ids[0]}")
    first.locator(f"input[name=kr{ids[0]}-value]").fill("lots")
    first.locator(f"#ci-go-{ids[0]}").click()
    page.locator(f"#kr-row-{ids[0]}.ci-row--error").wait_for(timeout=10_000)
    error_row = page.locator(f"#kr-row-{ids[0]}").inner_text()
    kept = page.locator(f"input[name=kr{ids[0]}-value]").input_value()
    # (not wait_for_function: it evaluates a string, which the CSP's script-src refuses)
    page.locator("#ci-summary", has_text="3 of 3").wait_for(timeout=10_000)
    still_here = page.evaluate("window.__noReload")
    w.assert_clean()

    assert pct == ["40%", "50%", "60%"]
    assert "is not a number" in error_row and kept == "lots"
    assert still_here == "still here"
    assert CheckIn.objects.filter(key_result__in=krs).count() == 3
    assert sorted(KeyResult.objects.filter(pk__in=ids)
                  .values_list("current_value", flat=True)) == [40, 50, 60]


def _team(n=3, *, current=40, cycle_days=(60, 30), **kr):
    """A member on a team with `n` metric KRs at `current` of 0 → 100; the cycle started
    `cycle_days[0]` days ago and ends in `cycle_days[1]` (expected progress ~ 2/3)."""
    org = OrganizationFactory(slug="e2e")
    user = UserFactory(name="Mark Member")
    MembershipFactory(user=user, organization=org, role=Role.MEMBER)
    team = TeamFactory(organization=org, slug="support")
    team.members.add(user)
    today = timezone.localdate()
    cycle = CycleFactory(organization=org, start=today - dt.timedelta(days=cycle_days[0]),
                         end=today + dt.timedelta(days=cycle_days[1]))
    objective = ObjectiveFactory(organization=org, cycle=cycle, team=team)
    krs = [KeyResultFactory(objective=objective, title=f"KR {i}", start_value=0,
                            target_value=100, current_value=current, owner=user, **kr)
           for i in range(n)]
    return org, user, team, krs


def test_no_change_and_check_in_all_with_one_bad_row(open_page):
    org, user, team, krs = _team(4)
    a, b, c, d = (kr.pk for kr in krs)
    w = open_page(viewport={"width": 1280, "height": 900})
    w.enter_as(user)
    w.goto(f"/o/{org.slug}/teams/{team.slug}/check-in/")
    page = w.page
    page.locator(f"#ci-same-{a}").click()                       # no change on the first row
    page.locator(f"#kr-row-{a}.ci-row--saved").wait_for()
    assert "✓ This week" in page.locator(f"#kr-row-{a}").inner_text()
    page.locator(f"#id_kr{b}-value").fill("55")
    page.locator(f"#id_kr{c}-value").fill("fifty")              # the bad row
    page.locator(f"#id_kr{c}-comment").fill("kept as typed")
    page.locator("#ci-all-go").click()
    page.locator("#ci-all-summary").wait_for()
    summary = page.locator("#ci-all-summary").inner_text()
    bad = page.locator(f"#kr-row-{c}")
    message = bad.inner_text()
    kept = (page.locator(f"#id_kr{c}-value").input_value(),
            page.locator(f"#id_kr{c}-comment").input_value())
    focused = page.evaluate("document.activeElement.id")
    w.assert_clean()
    assert summary == "1 checked in, 1 needs fixing."
    assert "is not a number" in message and kept == ("fifty", "kept as typed")
    assert focused == f"id_kr{c}-value"                          # straight to what needs fixing
    values = dict(KeyResult.objects.filter(pk__in=[a, b, c, d])
                  .values_list("pk", "current_value"))
    assert values == {a: 40, b: 55, c: 40, d: 40}
    assert CheckIn.objects.filter(key_result_id=a).get().value == 40   # no change: same value
    assert not CheckIn.objects.filter(key_result_id__in=[c, d]).exists()


def test_keyboard_only_check_in(open_page):
    org, user, team, krs = _team(3)
    w = open_page(viewport={"width": 1280, "height": 900})
    w.enter_as(user)
    w.goto(f"/o/{org.slug}/teams/{team.slug}/check-in/")
    page = w.page
    kb = page.keyboard
    kb.press("Alt+ArrowDown")                                   # the first open row
    assert page.evaluate("document.activeElement.id") == f"id_kr{krs[0].pk}-value"
    kb.type("61")
    kb.press("Tab")                                             # status
    assert page.evaluate("document.activeElement.id") == f"id_kr{krs[0].pk}-status"
    kb.press("Tab")                                             # confidence
    kb.press("Tab")                                             # comment
    assert page.evaluate("document.activeElement.id") == f"id_kr{krs[0].pk}-comment"
    kb.type("keyboard only")
    kb.press("Enter")                                           # checks this row in
    page.locator(f"#kr-row-{krs[0].pk}.ci-row--saved").wait_for()
    page.wait_for_timeout(150)
    assert page.evaluate("document.activeElement.id") == f"id_kr{krs[0].pk}-comment"
    kb.press("Alt+ArrowDown")                                   # skips the row just done
    assert page.evaluate("document.activeElement.id") == f"id_kr{krs[1].pk}-value"
    kb.type("62")
    kb.press("Enter")
    page.locator(f"#kr-row-{krs[1].pk}.ci-row--saved").wait_for()
    w.assert_clean()
    first = CheckIn.objects.get(key_result=krs[0])
    assert (first.value, first.comment) == (61, "keyboard only")
    assert CheckIn.objects.get(key_result=krs[1]).value == 62
    assert not CheckIn.objects.filter(key_result=krs[2]).exists()


def test_edit_and_undo_my_check_in(open_page):
    org, user, team, krs = _team(1)
    pk = krs[0].pk
    w = open_page(viewport={"width": 390, "height": 844})
    w.enter_as(user)
    w.goto(f"/o/{org.slug}/teams/{team.slug}/check-in/")
    page = w.page
    page.locator(f"#id_kr{pk}-value").fill("45")
    page.locator(f"#ci-go-{pk}").click()
    page.locator(f"#ci-edit-{pk}").wait_for()
    page.locator(f"#id_kr{pk}-value").fill("47")                # a typo: it was 47
    page.locator(f"#ci-edit-{pk}").click()
    page.locator(f"#kr-row-{pk} .ci-value", has_text="47").wait_for()
    after_edit = KeyResult.objects.get(pk=pk).current_value
    w.goto(f"/o/{org.slug}/check-ins/kr/{pk}/")
    history = page.locator("#kr-history").inner_text()
    w.goto(f"/o/{org.slug}/teams/{team.slug}/check-in/")
    page.locator(f"#ci-undo-{pk}").click()
    page.locator(f"#kr-row-{pk}", has_text="Due this week").wait_for()
    w.assert_clean()
    assert after_edit == 47
    assert "edited" in history and "45" in history and "47" in history
    kr = KeyResult.objects.get(pk=pk)
    assert kr.current_value == 0 and kr.status == ""
    assert CheckIn.objects.filter(key_result_id=pk).count() == 2          # both kept
    assert CheckIn.objects.filter(key_result_id=pk, replaced_at__isnull=True).count() == 0


def test_the_suggested_status_and_the_hint(open_page):
    # 34 % of the way when about 67 % is expected: the row suggests Off track.
    org, user, team, krs = _team(2, current=34)
    lead = UserFactory(name="Leo Leader")
    MembershipFactory(user=lead, organization=org, role=Role.LEADER)
    from okrs.checkins.services import checkin_create

    checkin_create(key_result=krs[1], author=lead, status="on_track", value=34)
    w = open_page(viewport={"width": 1280, "height": 900})
    w.enter_as(user)
    w.goto(f"/o/{org.slug}/teams/{team.slug}/check-in/")
    page = w.page
    status = page.locator(f"#id_kr{krs[0].pk}-status")
    chosen = status.evaluate("s => s.options[s.selectedIndex].text")
    hint = page.locator(f"#kr-row-{krs[1].pk} .ci-hint").inner_text()
    status.select_option("on_track")                             # the person overrides it
    page.locator(f"#ci-go-{krs[0].pk}").click()
    page.locator(f"#kr-row-{krs[0].pk}.ci-row--saved").wait_for()
    w.assert_clean()
    today = timezone.localdate()
    assert chosen == "Off track (suggested)"
    assert hint == (f"On track: set On track by Leo Leader on {today.day} {today:%b} — "
                    "pace says behind.")
    assert KeyResult.objects.get(pk=krs[0].pk).status == "on_track"


@pytest.mark.parametrize("width", [1280, 390])
def test_the_key_result_form_and_the_check_in_row_fit_the_kind(open_page, width):
    """Issue 19: a metric asks start, target and unit; a milestone only done; a guardrail
    its side and threshold (both required); and each kind's check-in row asks only what it
    needs (a KPI-linked key result: only the status)."""
    from tests.factories import DataPointFactory, KpiFactory

    org, user, team, (metric,) = _team(1)
    leader = UserFactory(name="Lea Leader")
    MembershipFactory(user=leader, organization=org, role=Role.LEADER)
    team.members.add(leader)
    objective = metric.objective
    milestone = KeyResultFactory(objective=objective, title="Launch", kind="milestone",
                                 start_value=0, target_value=1, current_value=0, owner=user)
    guard = KeyResultFactory(objective=objective, title="CSAT", kind="guardrail", guard="at_least",
                             start_value=85, target_value=85, current_value=88, owner=user)
    kpi = KpiFactory(organization=org, name="Reply time")
    DataPointFactory(kpi=kpi, value=42)
    linked = KeyResultFactory(objective=objective, title="Reply time", kpi=kpi, start_value=60,
                              target_value=30, current_value=42, owner=user)
    w = open_page(viewport={"width": width, "height": 900})
    page = w.page

    # The key-result form (a leader adds one to the objective).
    w.enter_as(leader)
    w.goto(f"/o/{org.slug}/okrs/{objective.pk}/key-results/new/")
    fields = ("unit", "start_value", "target_value", "current_value", "guard", "done")

    def shown():
        return {f for f in fields if page.locator(f"#id_{f}").count()
                and page.locator(f"#id_{f}").is_visible()}

    page.select_option("#id_kind", "metric")
    assert shown() == {"unit", "start_value", "target_value", "current_value"}
    page.select_option("#id_kind", "milestone")
    assert shown() == {"done"}
    page.select_option("#id_kind", "guardrail")
    assert shown() == {"unit", "target_value", "current_value", "guard"}
    assert page.locator("label[for=id_target_value]").inner_text().startswith("Threshold")
    # checkin2: side and threshold are required (no "(optional)"), no threshold prefilled.
    assert "(optional)" not in page.locator("label[for=id_target_value]").inner_text()
    assert "(optional)" not in page.locator("label[for=id_guard]").inner_text()
    assert page.input_value("#id_target_value") == ""
    page.select_option("#id_kind", "metric")  # the metric's default target comes back
    assert page.input_value("#id_target_value") == "100"
    page.select_option("#id_kind", "guardrail")
    assert page.input_value("#id_target_value") == ""
    page.screenshot(path=f"/tmp/checkin2/kr-form-guardrail-{width}.png", full_page=True)
    page.fill("#id_title", "Keep CSAT up")
    page.fill("#id_current_value", "90")
    page.fill("#id_target_value", "")  # no threshold, no side: both are asked for
    page.get_by_role("button", name="Add key result").click()  # the page's own form (no htmx)
    page.get_by_text("Choose the side that must hold").wait_for()
    page.screenshot(path=f"/tmp/checkin/kr-form-errors-{width}.png", full_page=True)
    assert page.get_by_text("Enter the threshold.").is_visible()
    assert page.locator("#id_title").input_value() == "Keep CSAT up"  # what was typed is kept
    assert not KeyResult.objects.filter(title="Keep CSAT up").exists()
    w.assert_clean()

    # The check-in row asks only what each kind needs.
    w.enter_as(user)
    w.goto(f"/o/{org.slug}/teams/{team.slug}/check-in/")

    def asks(kr):
        return {f for f in ("value", "done", "status", "confidence", "comment")
                if page.locator(f"#id_kr{kr.pk}-{f}").count()}

    assert asks(metric) == {"value", "status", "confidence", "comment"}
    assert asks(guard) == {"value", "status", "confidence", "comment"}
    assert asks(milestone) == {"done", "status", "confidence", "comment"}
    assert asks(linked) == {"status", "confidence", "comment"}
    assert "42" in page.locator(f"#kr-row-{linked.pk}").inner_text()  # the KPI's value, shown
    page.screenshot(path=f"/tmp/checkin/checkin-kinds-{width}.png", full_page=True)
    page.check(f"#id_kr{milestone.pk}-done")
    page.select_option(f"#id_kr{linked.pk}-status", "needs_attention")
    page.locator("#ci-all-go").click()
    page.locator("#ci-all-summary").wait_for()
    assert page.locator("#ci-all-summary").inner_text() == "2 checked in."
    w.assert_clean()
    milestone.refresh_from_db()
    linked.refresh_from_db()
    assert milestone.done and linked.status == "needs_attention" and linked.current_value == 42
