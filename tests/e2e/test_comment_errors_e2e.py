"""In the browser: a comment that cannot be posted through htmx says why in the form, with
what was typed kept — a NUL byte (refused by core's middleware, 400) and 100,000 characters
(the thread view's 422, swapped) — and nothing is stored."""

from __future__ import annotations

import os

import pytest
from playwright.sync_api import expect

from accounts.models import Role
from activity.models import Comment
from tests.factories import (
    CycleFactory,
    KeyResultFactory,
    MembershipFactory,
    ObjectiveFactory,
    OrganizationFactory,
    UserFactory,
)

pytestmark = pytest.mark.e2e
SHOTS = "/tmp/reach"


@pytest.fixture
def world(transactional_db):
    org = OrganizationFactory(name="E2E Co", slug="e2e")
    mark = UserFactory(name="Mark Weber", email="mark@example.com")
    MembershipFactory(user=mark, organization=org, role=Role.MEMBER)
    objective = ObjectiveFactory(organization=org, cycle=CycleFactory(organization=org),
                                 title="Answer faster")
    kr = KeyResultFactory(objective=objective, owner=mark, title="Backlog under 50")
    return {"org": org, "mark": mark, "kr": kr}


@pytest.mark.parametrize("width", [1280, 390])
def test_a_refused_comment_shows_its_message_in_the_form(open_page, world, width):
    org, kr = world["org"], world["kr"]
    w = open_page(viewport={"width": width, "height": 900})
    w.enter_as(world["mark"])
    w.goto(f"/o/{org.slug}/check-ins/kr/{kr.pk}/")
    page = w.page
    box = page.locator(f"#comment-body-key_result-{kr.pk}")
    box.wait_for(timeout=10_000)  # the thread came by htmx
    form = page.locator("form.comment-form")

    # A NUL byte (pasted): core's middleware answers 400 before the view; the form says so.
    box.evaluate("(ta) => { ta.value = 'before\\u0000after'; }")
    form.get_by_role("button", name="Comment").click()
    error = form.locator("ul.errorlist[role=alert]")
    expect(error).to_contain_text("NUL character", timeout=10_000)
    assert box.input_value() == "before\x00after"  # nothing typed is lost
    assert box.get_attribute("aria-invalid") == "true"
    if os.path.isdir(SHOTS):
        page.screenshot(path=f"{SHOTS}/comment-nul-{width}.png", full_page=True)

    # 100,000 characters: the thread view's 422, swapped in, the text back to shorten.
    box.evaluate("(ta) => { ta.value = 'x'.repeat(100000); }")
    form.get_by_role("button", name="Comment").click()
    expect(page.locator("form.comment-form ul.errorlist")).to_contain_text(
        "at most 10,000 characters", timeout=10_000)
    assert len(page.locator(f"#comment-body-key_result-{kr.pk}").input_value()) == 100_000
    if os.path.isdir(SHOTS):
        page.screenshot(path=f"{SHOTS}/comment-long-{width}.png", full_page=True)

    # The two refusals were expected (the watcher lists every 4xx of an xhr): only those.
    expected = [p for p in w.problems if p.startswith(("400 for xhr", "422 for xhr"))
                or "the server responded with a status of 4" in p]
    assert len(expected) == 4, w.problems
    w.problems[:] = [p for p in w.problems if p not in expected]

    # And a good one still posts in place.
    page.locator(f"#comment-body-key_result-{kr.pk}").fill("Looks fine now")
    page.locator("form.comment-form").get_by_role("button", name="Comment").click()
    page.locator(".comment-body", has_text="Looks fine now").wait_for(timeout=10_000)
    assert list(Comment.objects.values_list("body", flat=True)) == ["Looks fine now"]
    w.assert_clean()
