"""The admin is scoped per organisation: an admin of A sees and changes nothing of B.

Every test is parametrised over ``admin.site._registry``: a model registered later
without the scoping base, or without a row builder here, fails
``test_every_registered_model_is_scoped_and_covered``; once it has a builder, every
other test runs on it too. The changelists also run a fixed number of queries, whatever
the number of rows.
"""

from __future__ import annotations

import datetime as dt
import re

import pytest
from django.contrib import admin
from django.contrib.auth.models import Group
from django.forms.models import model_to_dict
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from accounts.models import (
    ApiToken,
    AuditEntry,
    Invitation,
    Membership,
    Organization,
    Role,
    Team,
    User,
)
from core.admin_scoping import OrgScopedAdmin, OrgScopedInlineMixin, org_path_for
from goals.models import Cycle, StrategicPillar, UltimateGoal
from initiatives.models import Initiative
from kpis.models import DataPoint, HealthEvent, Kpi, KpiHealth
from okrs.models import CheckIn, KeyResult, Objective
from tests.conftest import count_queries
from tests.factories import (
    CheckInFactory,
    CycleFactory,
    DataPointFactory,
    InitiativeFactory,
    KeyResultFactory,
    KpiFactory,
    MembershipFactory,
    ObjectiveFactory,
    OrganizationFactory,
    PillarFactory,
    TeamFactory,
    UltimateGoalFactory,
    UserFactory,
)

MARK = "zqxb"  # every row of organisation B carries it in its text

# Models that belong to no organisation (accounts, Django's groups, axes' log-in records):
# only superusers may see them in the admin.
HEADWAY_APPS = {"accounts", "goals", "kpis", "okrs", "initiatives", "dashboards"}
NOT_TENANT = {User} | {m for m in admin.site._registry if m._meta.app_label not in HEADWAY_APPS}


def build_org(tag: str) -> dict:
    """One row of every registered tenant model in a new organisation."""
    org = OrganizationFactory(name=f"Org {tag}", slug=f"org-{tag}")
    user = UserFactory(name=f"Person {tag}", email=f"person-{tag}@example.com")
    membership = MembershipFactory(user=user, organization=org, role=Role.MEMBER)
    team = TeamFactory(organization=org, name=f"Team {tag}", slug=f"team-{tag}", lead=user)
    team.members.add(user)
    invitation = Invitation.objects.create(
        organization=org, email=f"invitee-{tag}@example.com", role=Role.MEMBER,
        token_hash=Invitation.new_token()[1], expires_at=timezone.now() + dt.timedelta(days=7))
    raw, prefix, digest = ApiToken.new_token()
    token = ApiToken.objects.create(organization=org, user=user, name=f"Token {tag}",
                                    prefix=prefix, token_hash=digest)
    audit = AuditEntry.objects.create(organization=org, actor=user, action="updated",
                                      object_type="x.y", object_id="1",
                                      object_repr=f"Thing {tag}")
    goal = UltimateGoalFactory(organization=org, title=f"Goal {tag}")
    pillar = PillarFactory(organization=org, goal=goal, name=f"Pillar {tag}")
    cycle = CycleFactory(organization=org, name=f"Cycle {tag}")
    kpi = KpiFactory(organization=org, name=f"Kpi {tag}", team=team, owner=user)
    point = DataPointFactory(kpi=kpi, period_start=dt.date(2026, 1, 5), value=25.0,
                             note=f"Note {tag}")
    health = KpiHealth.objects.create(kpi=kpi, status=KpiHealth.Status.ON_TARGET,
                                      latest_value=25.0, candidate_reason=f"Reason {tag}")
    event = HealthEvent.objects.create(kpi=kpi, kind="status", old="no_data", new="on_target",
                                       message=f"Event {tag}")
    objective = ObjectiveFactory(organization=org, cycle=cycle, title=f"Objective {tag}",
                                 team=team, owner=user, pillar=pillar)
    kr = KeyResultFactory(objective=objective, title=f"Key result {tag}", kpi=kpi, owner=user)
    checkin = CheckInFactory(key_result=kr, comment=f"Comment {tag}", author=user)
    initiative = InitiativeFactory(key_result=kr, title=f"Initiative {tag}", owner=user)
    return {
        "org": org, "user": user,
        Organization: org, Membership: membership, Team: team, Invitation: invitation,
        ApiToken: token, AuditEntry: audit, UltimateGoal: goal, StrategicPillar: pillar,
        Cycle: cycle, Kpi: kpi, DataPoint: point, KpiHealth: health, HealthEvent: event,
        Objective: objective, KeyResult: kr, CheckIn: checkin, Initiative: initiative,
    }


# No add form for an organisation's admin: the organisation itself (created by signing
# up) and the rows the app writes (invitations are sent from the members page, the audit
# trail by services, health and its events by the engine, check-ins from their page).
NO_ADD_FORM = {Organization, Invitation, AuditEntry, KpiHealth, HealthEvent, CheckIn}

TENANT_MODELS = sorted(
    (m for m in admin.site._registry if m not in NOT_TENANT), key=lambda m: m._meta.label)
ALL_MODELS = sorted(admin.site._registry, key=lambda m: m._meta.label)


def label(model) -> str:
    return model._meta.label_lower


def admin_url(model, view: str, *args) -> str:
    return reverse(f"admin:{model._meta.app_label}_{model._meta.model_name}_{view}", args=args)


@pytest.fixture
def world(db):
    a = build_org("acme")
    b = build_org(MARK)
    admin_a = UserFactory(name="Ada Admin", email="ada@acme.test", is_staff=True)
    MembershipFactory(user=admin_a, organization=a["org"], role=Role.ADMIN)
    return {"a": a, "b": b, "admin": admin_a}


@pytest.fixture
def admin_client(world, client):
    client.force_login(world["admin"])
    return client


def snapshot_b(b: dict) -> dict:
    """Every B row as stored, to prove nothing of B changed."""
    out = {}
    for model in TENANT_MODELS:
        row = model._default_manager.filter(pk=b[model].pk).first()
        out[model] = None if row is None else model_to_dict(row)
    return out


def no_b_in(content: bytes, b: dict) -> None:
    text = content.decode()
    assert MARK not in text.lower(), "a row of the other organisation leaked"
    for model in TENANT_MODELS:
        assert admin_url(model, "change", b[model].pk) not in text


# --- Coverage ----------------------------------------------------------------------------


def test_every_registered_model_is_scoped_and_covered(world):
    for model, model_admin in admin.site._registry.items():
        if model in NOT_TENANT:
            continue
        assert isinstance(model_admin, OrgScopedAdmin), (
            f"{label(model)} is registered without core.admin_scoping.OrgScopedAdmin")
        assert model in world["b"], f"add a {model.__name__} row to build_org() in this test"
        for inline in model_admin.inlines:
            assert issubclass(inline, OrgScopedInlineMixin), (
                f"inline {inline.__name__} of {label(model)} is not scoped")


# --- Changelists, change views, add forms --------------------------------------------------


@pytest.mark.parametrize("model", TENANT_MODELS, ids=label)
def test_changelist_shows_own_rows_only(admin_client, world, model):
    response = admin_client.get(admin_url(model, "changelist"))
    assert response.status_code == 200
    no_b_in(response.content, world["b"])
    assert admin_url(model, "change", world["a"][model].pk) in response.content.decode()


@pytest.mark.parametrize("model", TENANT_MODELS, ids=label)
def test_changelist_filtered_on_a_foreign_row_shows_nothing(admin_client, world, model):
    """A crafted search or filter naming B finds nothing (the term itself is echoed)."""
    b = world["b"]
    response = admin_client.get(admin_url(model, "changelist"), {"q": MARK})
    assert response.status_code == 200
    assert response.context["cl"].result_count == 0
    assert admin_url(model, "change", b[model].pk) not in response.content.decode()
    if model is not Organization and any(f.name == "organization" for f in model._meta.fields):
        response = admin_client.get(admin_url(model, "changelist"),
                                    {"organization__id__exact": b["org"].pk})
        if response.status_code == 200:  # ignored or applied: never B's rows
            assert b[model].pk not in [o.pk for o in response.context["cl"].result_list]
            no_b_in(response.content, b)
        else:  # an invalid filter value: Django redirects with ?e=1
            assert response.status_code == 302


@pytest.mark.parametrize("model", TENANT_MODELS, ids=label)
def test_change_view_of_a_foreign_row_is_404(admin_client, world, model):
    b_row, a_row = world["b"][model], world["a"][model]
    assert admin_client.get(admin_url(model, "change", a_row.pk)).status_code == 200
    assert admin_client.get(admin_url(model, "change", b_row.pk)).status_code == 404
    assert admin_client.get(admin_url(model, "history", b_row.pk)).status_code == 404
    assert admin_client.get(admin_url(model, "delete", b_row.pk)).status_code in (403, 404)
    before = snapshot_b(world["b"])
    response = admin_client.post(admin_url(model, "delete", b_row.pk), {"post": "yes"})
    assert response.status_code in (403, 404)
    assert snapshot_b(world["b"]) == before


@pytest.mark.parametrize("model", TENANT_MODELS, ids=label)
def test_forms_offer_no_foreign_choices(admin_client, world, model):
    """Add and change forms list no B row in any select (FK and many-to-many choices)."""
    response = admin_client.get(admin_url(model, "change", world["a"][model].pk))
    assert response.status_code == 200
    no_b_in(response.content, world["b"])
    response = admin_client.get(admin_url(model, "add"))
    assert response.status_code == (403 if model in NO_ADD_FORM else 200)
    if response.status_code == 200:
        no_b_in(response.content, world["b"])


# --- Autocomplete ---------------------------------------------------------------------------


def relation_fields():
    out = []
    for model in ALL_MODELS:
        for field in model._meta.get_fields():
            if (field.is_relation and field.concrete and (field.many_to_one or field.many_to_many
                                                           or field.one_to_one)
                    and field.related_model in admin.site._registry):
                out.append((model, field.name))
    return out


@pytest.mark.parametrize(("model", "field_name"), relation_fields(),
                         ids=lambda v: v if isinstance(v, str) else label(v))
def test_autocomplete_returns_no_foreign_rows(admin_client, world, model, field_name):
    field = model._meta.get_field(field_name)
    remote = field.related_model
    response = admin_client.get(reverse("admin:autocomplete"), {
        "app_label": model._meta.app_label, "model_name": model._meta.model_name,
        "field_name": field_name, "term": ""})
    if remote in NOT_TENANT:
        assert response.status_code in (403, 404)
        return
    if not admin.site._registry[remote].get_search_fields(None):
        assert response.status_code == 404  # the remote admin offers no search
        return
    assert response.status_code == 200
    ids = {str(r["id"]) for r in response.json()["results"]}
    assert str(world["b"][remote].pk) not in ids
    assert str(world["a"][remote].pk) in ids
    response = admin_client.get(reverse("admin:autocomplete"), {
        "app_label": model._meta.app_label, "model_name": model._meta.model_name,
        "field_name": field_name, "term": MARK})
    assert response.json()["results"] == []


# --- Actions on crafted ids -------------------------------------------------------------------


def actions_of_registered():
    out = []
    for model in TENANT_MODELS:
        model_admin = admin.site._registry[model]
        names = {"delete_selected"} | {
            a if isinstance(a, str) else a.__name__ for a in (model_admin.actions or [])}
        for name in sorted(names):
            out.append((model, name))
    return out


@pytest.mark.parametrize(("model", "action"), actions_of_registered(),
                         ids=lambda v: v if isinstance(v, str) else label(v))
def test_actions_on_a_foreign_id_do_nothing(admin_client, world, model, action):
    b = world["b"]
    before = snapshot_b(b)
    events_before = HealthEvent.objects.filter(kpi=b[Kpi]).count()
    health_before = model_to_dict(KpiHealth.objects.get(kpi=b[Kpi]))
    for data in (
        {"action": action, "_selected_action": [b[model].pk], "index": 0},  # first step
        {"action": action, "_selected_action": [b[model].pk], "post": "yes",  # confirmations
         "apply": "1"},
    ):
        response = admin_client.post(admin_url(model, "changelist"), data)
        assert response.status_code in (200, 302, 403)
        if response.status_code == 200:
            no_b_in(response.content, b)
    assert snapshot_b(b) == before
    assert HealthEvent.objects.filter(kpi=b[Kpi]).count() == events_before
    assert model_to_dict(KpiHealth.objects.get(kpi=b[Kpi])) == health_before


def test_export_of_a_foreign_kpi_is_empty(admin_client, world):
    response = admin_client.post(admin_url(Kpi, "changelist"), {
        "action": "export_points_csv", "index": 0,
        "_selected_action": [world["b"][Kpi].pk, world["a"][Kpi].pk]})
    body = response.content.decode()
    assert "Kpi acme" in body
    assert MARK not in body.lower()


def test_import_into_a_foreign_kpi_stores_nothing(admin_client, world):
    from django.core.files.uploadedfile import SimpleUploadedFile

    b_kpi = world["b"][Kpi]
    upload = SimpleUploadedFile("points.csv", b"period,value\n2026-02-02,99\n", "text/csv")
    response = admin_client.post(admin_url(Kpi, "changelist"), {
        "action": "import_points_csv", "_selected_action": [b_kpi.pk], "apply": "1",
        "file": upload})
    assert response.status_code in (200, 302)
    assert not DataPoint.objects.filter(kpi=b_kpi, value=99).exists()


# --- Posting foreign keys ------------------------------------------------------------------


def _hidden_management(html: str) -> dict:
    """The inline formsets' management fields of an admin form."""
    data = {}
    for name, value in re.findall(
            r'<input type="hidden" name="([^"]+-(?:TOTAL|INITIAL|MIN_NUM|MAX_NUM)_FORMS)"'
            r'[^>]*value="([^"]*)"', html):
        data[name] = value
    return data


def add_payloads(a: dict, other_member: User, second=None) -> dict:
    """A valid add form for every addable model (ids of organisation A)."""
    today = timezone.localdate()
    return {
        Membership: {"user": other_member.pk, "organization": a["org"].pk, "role": "member"},
        Team: {"organization": a["org"].pk, "name": "New team", "slug": "new-team",
               "parent": a[Team].pk, "lead": a["user"].pk, "members": [a["user"].pk]},
        ApiToken: {"organization": a["org"].pk, "name": "Sync"},
        # A's goal exists already (one active goal per organisation): the second org's.
        UltimateGoal: {"organization": (second or a["org"]).pk, "title": "New goal"},
        StrategicPillar: {"organization": a["org"].pk, "name": "New pillar", "order": 1},
        Cycle: {"organization": a["org"].pk, "name": "Sprint", "kind": "custom",
                "start": a[Cycle].start.isoformat(),  # inside its parent, like the app asks
                "end": (a[Cycle].start + dt.timedelta(days=13)).isoformat(),
                "parent": a[Cycle].pk},
        Objective: {"organization": a["org"].pk, "cycle": a[Cycle].pk, "title": "New obj",
                    "owner": a["user"].pk, "team": a[Team].pk, "pillar": a[StrategicPillar].pk,
                    "parent": a[Objective].pk, "kind": "committed", "state": "active",
                    "progress_from": "krs", "order": 0},
        KeyResult: {"objective": a[Objective].pk, "title": "New KR", "kind": "metric",
                    "start_value": 0, "target_value": 10, "current_value": 0, "weight": 1,
                    "owner": a["user"].pk, "kpi": a[Kpi].pk, "order": 0},
        Initiative: {"key_result": a[KeyResult].pk, "title": "New initiative",
                     "owner": a["user"].pk, "status": "planned", "percent_complete": 0,
                     "order": 0},
        Kpi: {"organization": a["org"].pk, "name": "New KPI", "unit": "h", "decimals": 1,
              "owner": a["user"].pk, "team": a[Team].pk, "frequency": "weekly",
              "intent": "sustain", "active": "on", "version": 1, "target_rule": "at_most",
              "target_value": 30, "baseline_size": 20},
        DataPoint: {"kpi": a[Kpi].pk, "period_start": (today - dt.timedelta(days=14))
                    .isoformat(), "value": 12},
    }


FOREIGN_FIELDS = {
    Membership: ["user", "organization"],
    Team: ["organization", "parent", "lead", "members"],
    ApiToken: ["organization"],  # the user is the admin themself
    UltimateGoal: ["organization"],
    StrategicPillar: ["organization"],
    Cycle: ["organization", "parent"],
    Objective: ["organization", "cycle", "owner", "team", "pillar", "parent"],
    KeyResult: ["objective", "owner", "kpi"],
    Initiative: ["key_result", "owner"],
    Kpi: ["organization", "owner", "team"],
    DataPoint: ["kpi"],
}


def _b_value(b: dict, model, field_name: str):
    field = model._meta.get_field(field_name)
    remote = field.related_model
    row = b["user"] if remote is User else b[remote]
    return [row.pk] if field.many_to_many else row.pk


def addable_models():
    return [m for m in TENANT_MODELS if m in FOREIGN_FIELDS]


def test_addable_models_are_all_covered(admin_client, world):
    """A model the org admin may add must be listed in FOREIGN_FIELDS above."""
    for model in TENANT_MODELS:
        if admin_client.get(admin_url(model, "add")).status_code == 200:
            assert model in FOREIGN_FIELDS, f"add {label(model)} to FOREIGN_FIELDS"


@pytest.mark.parametrize("model", addable_models(), ids=label)
def test_posting_a_foreign_key_is_an_error(admin_client, world, model):
    a, b = world["a"], world["b"]
    other = UserFactory(email="moved@example.com")
    second = OrganizationFactory(name="Acme two", slug="acme-two")
    MembershipFactory(user=world["admin"], organization=second, role=Role.ADMIN)
    MembershipFactory(user=other, organization=second, role=Role.MEMBER)
    page = admin_client.get(admin_url(model, "add"))
    assert page.status_code == 200
    management = _hidden_management(page.content.decode())
    payload = {**management, **add_payloads(a, other, second)[model]}
    before = snapshot_b(b)
    count = model._default_manager.count()
    for field_name in FOREIGN_FIELDS[model]:
        data = {**payload, field_name: _b_value(b, model, field_name)}
        response = admin_client.post(admin_url(model, "add"), data)
        assert response.status_code == 200, f"{field_name}: a foreign row was accepted"
        assert response.context["adminform"].form.errors or any(
            f.errors for f in response.context["inline_admin_formsets"]), field_name
        assert model._default_manager.count() == count
    assert snapshot_b(b) == before
    # The same form with A's rows only is accepted: the test above can fail.
    response = admin_client.post(admin_url(model, "add"), payload)
    assert response.status_code in (200, 302)
    if response.status_code == 200 and "adminform" in (response.context or {}):
        pytest.fail(f"valid payload refused: {response.context['adminform'].form.errors}")
    assert model._default_manager.count() == count + 1


def test_rows_of_two_administered_orgs_cannot_be_mixed(admin_client, world):
    """An admin of A and A2 cannot hang an A objective on an A2 cycle."""
    second = OrganizationFactory(name="Acme two", slug="acme-two")
    MembershipFactory(user=world["admin"], organization=second, role=Role.ADMIN)
    cycle2 = CycleFactory(organization=second, name="Cycle two")
    a = world["a"]
    page = admin_client.get(admin_url(Objective, "add"))
    data = {**_hidden_management(page.content.decode()),
            **add_payloads(a, a["user"])[Objective], "cycle": cycle2.pk}
    response = admin_client.post(admin_url(Objective, "add"), data)
    assert response.status_code == 200
    assert "belongs to another organisation" in str(response.context["adminform"].form.errors)
    assert not Objective.objects.filter(title="New obj").exists()


# --- Who may enter -----------------------------------------------------------------------------


@pytest.mark.parametrize("role", [Role.OWNER, Role.ADMIN])
def test_an_owner_or_admin_who_is_not_staff_enters(world, client, role):
    """One rule (issue 14): a new organisation's owner is not staff and enters all the
    same, scoped to the organisation, like the demo's owner."""
    user = UserFactory(is_staff=False)
    MembershipFactory(user=user, organization=world["a"]["org"], role=role)
    client.force_login(user)
    index = client.get(reverse("admin:index"))
    assert index.status_code == 200
    assert index.context["app_list"]
    assert client.get(admin_url(Kpi, "change", world["a"][Kpi].pk)).status_code == 200
    assert client.get(admin_url(Kpi, "change", world["b"][Kpi].pk)).status_code == 404


def test_a_suspended_owner_cannot_enter(world, client):
    from django.utils import timezone

    user = UserFactory(is_staff=True)
    MembershipFactory(user=user, organization=world["a"]["org"], role=Role.OWNER,
                      suspended_at=timezone.now())
    client.force_login(user)
    response = client.get(reverse("admin:index"))
    assert response.status_code == 302
    assert reverse("admin:login") in response["Location"]


@pytest.mark.parametrize("role", [Role.VIEWER, Role.MEMBER, Role.LEADER])
def test_staff_below_admin_sees_no_data(world, client, role):
    user = UserFactory(is_staff=True)
    MembershipFactory(user=user, organization=world["a"]["org"], role=role)
    client.force_login(user)
    # Staff or not, below admin is not let in: every admin page is the login page.
    paths = [reverse("admin:index"), reverse("admin:autocomplete") + "?app_label=kpis"
             "&model_name=kpi&field_name=team&term="]
    for model in ALL_MODELS:  # every registered model, including ones added later
        a_row = world["a"].get(model) or world["a"]["user"]
        paths += [admin_url(model, "changelist"), admin_url(model, "change", a_row.pk),
                  admin_url(model, "add")]
    for path in paths:
        response = client.get(path)
        assert response.status_code == 302, path
        assert reverse("admin:login") in response["Location"], path


def test_staff_without_any_membership_sees_nothing(world, client):
    client.force_login(UserFactory(is_staff=True))
    for path in (reverse("admin:index"), admin_url(Kpi, "changelist")):
        response = client.get(path)
        assert response.status_code == 302 and reverse("admin:login") in response["Location"]


@pytest.mark.parametrize("model", sorted(NOT_TENANT, key=label), ids=label)
def test_accounts_groups_and_login_records_are_for_superusers_only(admin_client, world, model):
    assert admin_client.get(admin_url(model, "changelist")).status_code == 403
    assert admin_client.get(admin_url(model, "add")).status_code == 403


def test_the_admin_index_lists_models_for_an_org_admin(admin_client, world):
    index = admin_client.get(reverse("admin:index"))
    names = {m["object_name"] for app in index.context["app_list"] for m in app["models"]}
    assert {"Kpi", "Objective", "Membership", "Team"} <= names
    assert "User" not in names


@pytest.mark.parametrize("model", TENANT_MODELS, ids=label)
def test_superuser_sees_every_organisation(world, client, model):
    client.force_login(UserFactory(is_staff=True, is_superuser=True))
    response = client.get(admin_url(model, "changelist"))
    assert response.status_code == 200
    body = response.content.decode()
    assert admin_url(model, "change", world["b"][model].pk) in body
    assert admin_url(model, "change", world["a"][model].pk) in body
    assert client.get(admin_url(model, "change", world["b"][model].pk)).status_code == 200


def test_scope_helpers_cover_every_tenant_model():
    """Safe by default: a model whose way to its organisation is unknown gives nothing."""
    for model in TENANT_MODELS:
        assert org_path_for(model) is not None, label(model)
    assert org_path_for(Group) is None


@pytest.mark.parametrize("model", [m for m in TENANT_MODELS
                                   if any(f.name == "version" for f in m._meta.fields)],
                         ids=label)
def test_versioned_change_forms_carry_the_version(admin_client, world, model):
    """A form opened before someone else's change can be refused (see test_admin_okrs)."""
    row = world["a"][model]
    page = admin_client.get(admin_url(model, "change", row.pk)).content.decode()
    name = "version" if model is Kpi else "headway_version"
    assert re.search(rf'type="hidden" name="{name}" value="{row.version}"', page), name


# --- Query counts ----------------------------------------------------------------------------


def changelist_queries(client, model):
    with count_queries() as queries:
        response = client.get(admin_url(model, "changelist"))
    assert response.status_code == 200
    return queries, response.context["cl"].result_count


@pytest.mark.parametrize("model", TENANT_MODELS, ids=label)
def test_changelist_query_count_does_not_grow(db, model):
    """An admin of two organisations, then of four (each with one row of every model),
    sees twice the rows for the same query count."""
    user = UserFactory(is_staff=True)
    client = Client()
    client.force_login(user)
    counts = []
    for size in (2, 4):
        while len(user.memberships.all()) < size:
            built = build_org(f"org{len(user.memberships.all())}")
            MembershipFactory(user=user, organization=built["org"], role=Role.ADMIN)
        counts.append(changelist_queries(client, model))
    (small_q, small_rows), (large_q, large_rows) = counts
    assert large_rows > small_rows
    assert large_q == small_q, f"{label(model)}: {small_q} queries for {small_rows} rows, " \
                               f"{large_q} for {large_rows}"
