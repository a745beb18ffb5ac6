"""Demo organisation, part 1: people and teams. Other apps add their parts (see
dashboards/management/commands/load_demo.py)."""

from __future__ import annotations

from dataclasses import dataclass, field

from accounts.models import Membership, Organization, Role, Team, User

DEMO_PASSWORD = "headway-demo"
DEMO_SLUG = "acme"

PEOPLE = [
    # email, name, role, teams
    ("olivia@acme.test", "Olivia Owner", Role.OWNER, []),
    ("ana@acme.test", "Ana Admin", Role.ADMIN, ["Operations"]),
    ("lena@acme.test", "Lena Leader", Role.LEADER, ["Customer Support"]),
    ("mark@acme.test", "Mark Member", Role.MEMBER, ["Customer Support"]),
    ("priya@acme.test", "Priya Patel", Role.LEADER, ["Product"]),
    ("sam@acme.test", "Sam Sousa", Role.MEMBER, ["Product", "Engineering"]),
    ("erik@acme.test", "Erik Engineer", Role.LEADER, ["Engineering", "Operations"]),
    ("victor@acme.test", "Victor Viewer", Role.VIEWER, []),
]
TEAMS = ["Customer Support", "Product", "Engineering", "Operations"]


@dataclass
class DemoContext:
    org: Organization
    users: dict[str, User] = field(default_factory=dict)  # by first name, lower case
    teams: dict[str, Team] = field(default_factory=dict)  # by name
    extra: dict = field(default_factory=dict)  # parts pass things to later parts


def seed(org: Organization) -> DemoContext:
    ctx = DemoContext(org=org)
    for name in TEAMS:
        ctx.teams[name] = Team.objects.create(organization=org, name=name,
                                              slug=name.lower().replace(" ", "-"))
    for email, name, role, teams in PEOPLE:
        user = User.objects.filter(email=email).first()
        if user is None:
            # Owners and admins are staff, so they can configure in the Django admin,
            # which shows them only Acme's rows.
            user = User.objects.create_user(email=email, password=DEMO_PASSWORD, name=name,
                                            is_staff=role in (Role.OWNER, Role.ADMIN))
        Membership.objects.get_or_create(user=user, organization=org, defaults={"role": role})
        ctx.users[name.split()[0].lower()] = user
        for team in teams:
            ctx.teams[team].members.add(user)
    ctx.teams["Customer Support"].lead = ctx.users["lena"]
    ctx.teams["Product"].lead = ctx.users["priya"]
    ctx.teams["Engineering"].lead = ctx.users["erik"]
    ctx.teams["Operations"].lead = ctx.users["ana"]
    for team in ctx.teams.values():
        team.save()
    return ctx


def logins() -> list[tuple[str, str]]:
    return [(email, role.label) for email, _name, role, _teams in PEOPLE]
