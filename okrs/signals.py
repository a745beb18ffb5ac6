"""Keep the cycle-progress store honest: any saved or deleted row that the cached
figures or rows are built from bumps its organisation's generation
(core.generations). Writes through QuerySet.update()/bulk_update() send no signals:
okrs.services, okrs.checkins, okrs.promotion, goals.services and kpis.services bump
explicitly there."""

from __future__ import annotations

from django.db.models.signals import m2m_changed, post_delete, post_save
from django.dispatch import receiver

from accounts.models import AuditEntry, Membership, Team, User
from core.generations import bump_org
from goals.models import Cycle, StrategicPillar, UltimateGoal
from kpis.models import Kpi
from okrs.models import CheckIn, KeyResult, Objective

ORG_ROWS = (Objective, KeyResult, CheckIn, Cycle, StrategicPillar, UltimateGoal, Team,
            Membership, Kpi, AuditEntry)  # audit entries: the dashboard's feed
SESSION_ONLY_FIELDS = {"last_login", "password"}


def _org_row_changed(sender, instance, **kwargs) -> None:
    bump_org(instance.organization_id)


for model in ORG_ROWS:
    post_save.connect(_org_row_changed, sender=model,
                      dispatch_uid=f"okrs.generation.save.{model._meta.label}")
    post_delete.connect(_org_row_changed, sender=model,
                        dispatch_uid=f"okrs.generation.delete.{model._meta.label}")


@receiver(m2m_changed, sender=Team.members.through, dispatch_uid="okrs.generation.team")
def _team_members_changed(sender, instance, action, **kwargs) -> None:
    if action.startswith("post_"):
        if isinstance(instance, Team):
            bump_org(instance.organization_id)
        else:  # the user side: every organisation of the teams involved
            bump_org(*Team.objects.filter(pk__in=kwargs.get("pk_set") or ())
                     .values_list("organization_id", flat=True))


@receiver(post_save, sender=User, dispatch_uid="okrs.generation.user")
def _user_changed(sender, instance, update_fields=None, created=False, **kwargs) -> None:
    """Names and e-mail addresses show as owners; a login changes nothing we show."""
    if created or (update_fields and set(update_fields) <= SESSION_ONLY_FIELDS):
        return
    bump_org(*Membership.objects.filter(user=instance)
             .values_list("organization_id", flat=True))
