"""Teams and members (read): who is in the organisation, for scripts that assign owners."""

from __future__ import annotations

from django.db.models import Prefetch
from ninja import Query, Router, Schema

from accounts.access import get_in_org
from accounts.models import Membership, Team

from .errors import documented
from .pagination import PageIn, page_of, paginate
from .schemas import id_path

router = Router()


class MemberOut(Schema):
    user_id: int
    name: str
    email: str
    role: str


class TeamOut(Schema):
    id: int
    name: str
    slug: str
    member_ids: list[int]


def _team_out(t: Team) -> dict:
    return {"id": t.pk, "name": t.name, "slug": t.slug,
            "member_ids": sorted(u.pk for u in t.members.all())}


def _teams(request):
    from django.contrib.auth import get_user_model

    return (Team.objects.filter(organization=request.org)
            .prefetch_related(Prefetch("members", queryset=get_user_model().objects.only("id")))
            .order_by("name", "id"))


@router.get("/teams", response=documented({200: page_of(TeamOut)}),
            summary="The organisation's teams (paged, by name)", operation_id="list_teams")
def list_teams(request, paging: Query[PageIn]):
    return paginate(request, _teams(request), paging, _team_out)


@router.get("/teams/{team_id}", response=documented({200: TeamOut}, 404),
            summary="One team with its members' ids", operation_id="get_team")
def get_team(request, team_id: int = id_path()):
    return _team_out(get_in_org(request, _teams(request), pk=team_id))


@router.get("/members", response=documented({200: page_of(MemberOut)}),
            summary="The organisation's members (paged, by name)", operation_id="list_members")
def list_members(request, paging: Query[PageIn]):
    qs = (Membership.objects.filter(organization=request.org, suspended_at__isnull=True)
          .select_related("user").order_by("user__name", "user_id"))
    return paginate(request, qs, paging, lambda m: {
        "user_id": m.user_id, "name": m.user.name, "email": m.user.email, "role": m.role})
