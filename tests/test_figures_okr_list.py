"""The OKR list reads stored figures and never the whole organisation (issue 16): a long
list shows its team groups from one aggregate, a team opened reads that team's rows, and
the owner is picked by an autocomplete of at most 20 suggestions instead of one <option>
per member."""

from __future__ import annotations

import pytest

from accounts.models import Role
from okrs.models import Objective
from tests.conftest import page_queries, url
from tests.factories import (
    CycleFactory,
    KeyResultFactory,
    ObjectiveFactory,
    TeamFactory,
    UserFactory,
)

pytestmark = pytest.mark.django_db


def _objectives(org, cycle, team, n, **kw):
    Objective.objects.bulk_create([Objective(organization=org, cycle=cycle, team=team,
                                             title=f"{team.name if team else 'Co'} {i}",
                                             progress=0.5, **kw) for i in range(n)])


def test_a_long_list_reads_team_summaries_only_at_any_size(org, owner, as_user):
    cycle = CycleFactory(organization=org)
    teams = [TeamFactory(organization=org, name=f"Team {i}") for i in range(3)]
    for t in teams:
        _objectives(org, cycle, t, 30)
    _objectives(org, cycle, None, 10)
    client = as_user(owner)
    client.get(url("okrs:list"))
    small = page_queries(client, url("okrs:list"))
    for t in teams:
        _objectives(org, cycle, t, 200)
    response = client.get(url("okrs:list"))
    html = response.content.decode()
    large = page_queries(client, url("okrs:list"))
    assert small == large
    # session, user, membership (3); cycles, teams, pillars (3); the team summaries (1);
    # nav (1)
    assert small == 8, small
    assert "Team 0 5" not in html  # no objective row: the groups are closed
    groups = response.context["groups"]
    assert [(g.name, g.count) for g in groups] == [("Company", 10), ("Team 0", 230),
                                                   ("Team 1", 230), ("Team 2", 230)]
    assert groups[1].pct == 50
    assert "700 of 700 objectives" in html


def test_a_team_opened_reads_that_team_only(org, owner, as_user):
    cycle = CycleFactory(organization=org)
    mine, other = TeamFactory(organization=org, name="Mine"), TeamFactory(organization=org)
    _objectives(org, cycle, other, 80)
    _objectives(org, cycle, mine, 3)
    client = as_user(owner)
    path = url("okrs:list") + f"?cycle={cycle.pk}&team={mine.pk}&part=table"
    client.get(path, HTTP_HX_REQUEST="true")
    small = page_queries(client, path, HTTP_HX_REQUEST="true")
    _objectives(org, cycle, other, 300)
    _objectives(org, cycle, mine, 20)
    response = client.get(path, HTTP_HX_REQUEST="true")
    assert page_queries(client, path, HTTP_HX_REQUEST="true") == small
    html = response.content.decode()
    assert html.count("<tr>") == 1 + 23  # the header and the team's own objectives
    assert "<html" not in html


def test_the_owner_field_suggests_at_most_twenty_members(org, owner, member_of, as_user):
    CycleFactory(organization=org)
    for i in range(30):
        member_of(Role.MEMBER, name=f"Person {i:02d}", email=f"p{i:02d}@acme.test")
    member_of(Role.MEMBER, name="Zoë Quist", email="zoe@acme.test")
    client = as_user(owner)
    page = client.get(url("okrs:list")).content.decode()
    assert 'id="f-owner"' in page and 'list="owner-options"' in page
    assert "p17@acme.test" not in page  # no <option> per member on the page
    some = client.get(url("okrs:owner_options") + "?owner=person").content.decode()
    assert some.count("<option") == 20
    one = client.get(url("okrs:owner_options") + "?owner=QUIST").content.decode()
    assert one == '<option value="zoe@acme.test">Zoë Quist</option>'
    outsider = UserFactory(name="Quentin Outside", email="q@else.test")
    assert outsider.email not in client.get(url("okrs:owner_options") + "?owner=q").content.decode()


def test_filtering_by_the_owner_picked(org, owner, member_of, as_user):
    cycle = CycleFactory(organization=org)
    mia = member_of(Role.MEMBER, name="Mia Member", email="mia@acme.test")
    ObjectiveFactory(organization=org, cycle=cycle, title="Owned by Mia", owner=mia)
    via_kr = ObjectiveFactory(organization=org, cycle=cycle, title="A KR of Mia's")
    KeyResultFactory(objective=via_kr, owner=mia)
    ObjectiveFactory(organization=org, cycle=cycle, title="Someone else's", owner=owner)
    client = as_user(owner)
    for value in ("mia@acme.test", "MIA@acme.test", "Mia Member", str(mia.pk)):
        response = client.get(url("okrs:list") + f"?cycle={cycle.pk}&owner={value}")
        html = response.content.decode()
        assert "Owned by Mia" in html and "A KR of Mia&#x27;s" in html, value
        assert "Someone else" not in html, value
        assert 'value="mia@acme.test"' in html  # the field shows who was picked
    html = client.get(url("okrs:list") + f"?cycle={cycle.pk}&owner=nobody@x.test").content.decode()
    assert "No objective matches these filters" in html
    assert 'value="nobody@x.test"' in html


def test_an_opened_team_group_is_paged(org, owner, as_user):
    """A team group opened with htmx shows GROUP_PAGE objectives; "Show more" loads the next
    page (the same query count), the last page offers no more."""
    from okrs.views import GROUP_PAGE

    cycle = CycleFactory(organization=org)
    team = TeamFactory(organization=org, name="Big")
    Objective.objects.bulk_create([Objective(organization=org, cycle=cycle, team=team,
                                             title=f"Big objective {i:03d}", order=i,
                                             progress=0.5) for i in range(GROUP_PAGE + 7)])
    client = as_user(owner)
    base = url("okrs:list") + f"?cycle={cycle.pk}&team={team.pk}&part=table"
    first = client.get(base, HTTP_HX_REQUEST="true").content.decode()
    assert first.count("<strong>Big objective ") == GROUP_PAGE
    assert "Big objective 000" in first and f"Big objective {GROUP_PAGE:03d}" not in first
    assert f"offset={GROUP_PAGE}" in first and "Show more" in first
    second = client.get(base + f"&offset={GROUP_PAGE}", HTTP_HX_REQUEST="true")
    html = second.content.decode()
    assert html.count("<strong>Big objective ") == 7
    assert f"Big objective {GROUP_PAGE:03d}" in html and "Show more" not in html
    assert (page_queries(client, base, HTTP_HX_REQUEST="true")
            == page_queries(client, base + f"&offset={GROUP_PAGE}", HTTP_HX_REQUEST="true"))
    # A bad offset is the first page, not an error.
    assert client.get(base + "&offset=x", HTTP_HX_REQUEST="true").status_code == 200
