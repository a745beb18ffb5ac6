"""Forms for objectives, key results, cycle close and carry-over.

Every choice of a related row is limited to the organisation: a foreign id posted by
hand is "not one of the available choices", never a link.
"""

from __future__ import annotations

from django import forms
from django.core.exceptions import ValidationError
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from accounts.models import Organization, Role, Team, User
from core.fields import NumberField
from core.validators import validate_finite
from core.widgets import NumberInput
from goals.models import Cycle, StrategicPillar
from kpis.models import Kpi
from okrs import progress as P
from okrs.models import KeyResult, Objective
from okrs.selectors import descendant_ids, kr_input
from okrs.services import validate_alignment


def _people(organization: Organization, keep_id: int | None = None):
    """Who may own an objective or key result: members and up (a viewer only reads, so is
    not offered), and the current owner whatever their role, so an untouched save keeps
    them."""
    may_own = Q(memberships__organization=organization) & ~Q(memberships__role=Role.VIEWER)
    if keep_id is not None:
        may_own |= Q(pk=keep_id, memberships__organization=organization)
    return User.objects.filter(may_own).distinct().order_by("name", "email")


class UserChoiceField(forms.ModelChoiceField):
    def label_from_instance(self, obj):
        return obj.display_name


class ObjectiveForm(forms.ModelForm):
    version = forms.IntegerField(widget=forms.HiddenInput, required=False)
    owner = UserChoiceField(queryset=User.objects.none(), required=False, label=_("Owner"))

    class Meta:
        model = Objective
        fields = ["title", "description", "cycle", "owner", "team", "pillar", "parent", "kind",
                  "state", "progress_from"]
        labels = {"title": _("Title"), "description": _("Description"), "cycle": _("Cycle"),
                  "owner": _("Owner"), "pillar": _("Pillar"), "kind": _("Kind"),
                  "state": _("State"),
                  "parent": _("Aligned to (parent objective)"), "team": _("Team"),
                  "progress_from": _("Progress comes from")}
        help_texts = {
            "team": _("Leave empty for a company-level objective."),
            "pillar": _("The strategic pillar this objective supports (objectives aligned "
                        "under another one support its pillar too)."),
            "kind": _("Committed: we will get it done (success = 1.0). Aspirational: a "
                      "stretch (0.7 counts as success)."),
        }
        widgets = {"description": forms.Textarea(attrs={"rows": 3})}

    def __init__(self, *args, organization: Organization, **kwargs):
        super().__init__(*args, **kwargs)
        self.organization = organization
        instance = self.instance if self.instance.pk else None
        self.fields["cycle"].queryset = Cycle.objects.filter(
            organization=organization, state=Cycle.State.OPEN).order_by("-start")
        self.fields["owner"].queryset = _people(organization, self.instance.owner_id)
        self.fields["team"].queryset = Team.objects.filter(organization=organization)
        self.fields["team"].empty_label = _("Company level")
        self.fields["pillar"].queryset = StrategicPillar.objects.filter(
            organization=organization, archived=False)
        parents = (Objective.objects.alive().filter(organization=organization)
                   .exclude(cycle__state=Cycle.State.CLOSED)
                   .select_related("cycle").order_by("cycle__start", "title"))
        if instance is not None:
            parents = parents.exclude(pk__in={instance.pk} | descendant_ids(organization,
                                                                            instance.pk))
            if instance.parent_id:  # keep the current parent choosable, even if now closed
                parents = parents | (Objective.objects.alive()
                                     .filter(organization=organization, pk=instance.parent_id)
                                     .exclude(pk__in=descendant_ids(organization, instance.pk))
                                     .select_related("cycle"))
        self.fields["parent"].queryset = parents
        self.fields["parent"].label_from_instance = lambda o: f"{o.title} ({o.cycle.name})"
        self.fields["parent"].empty_label = _("Not aligned")
        self.fields["state"].choices = [(Objective.State.DRAFT, _("Draft")),
                                        (Objective.State.ACTIVE, _("Active"))]
        if instance is not None:
            self.fields["version"].initial = instance.version

    def clean_parent(self):
        parent = self.cleaned_data.get("parent")
        validate_alignment(organization=self.organization,
                           objective_id=self.instance.pk if self.instance.pk else None,
                           parent=parent)
        return parent

    def service_data(self) -> dict:
        return {name: self.cleaned_data.get(name) for name in self.Meta.fields}


# The fields each kind of key result asks for (the others are hidden by kr-kind.js).
KIND_FIELDS = {
    "unit": ("metric", "guardrail"),
    "start_value": ("metric",),
    "target_value": ("metric", "guardrail"),
    "current_value": ("metric", "guardrail"),
    "guard": ("guardrail",),
    "done": ("milestone",),
}


class KeyResultForm(forms.ModelForm):
    version = forms.IntegerField(widget=forms.HiddenInput, required=False)
    owner = UserChoiceField(queryset=User.objects.none(), required=False, label=_("Owner"))

    class Meta:
        model = KeyResult
        fields = ["title", "kind", "unit", "start_value", "target_value", "current_value",
                  "guard", "done", "weight", "owner", "kpi"]
        # Typed numbers by core.numbers (the reader's locale: "23,5"; no "1_000", "٣", NaN)
        field_classes = dict.fromkeys(("start_value", "target_value", "current_value",
                                       "weight"), NumberField)
        labels = {"title": _("Title"), "kind": _("Kind"), "unit": _("Unit"),
                  "weight": _("Weight"), "owner": _("Owner"),
                  "start_value": _("Start"), "target_value": _("Target"),
                  "current_value": _("Current value"), "kpi": _("Tracks KPI"),
                  "guard": _("Guardrail side"), "done": _("Done (milestones)")}
        help_texts = {
            "target_value": _("Lower than the start for a decrease (e.g. 52 → 30). For a "
                              "guardrail, the threshold X."),
            "weight": _("Relative weight in the objective's progress (0 to 1000)."),
            "kpi": _("Optional: the KR's value then comes from the KPI's data."),
            "guard": _("For guardrails: which side of the target must hold."),
            "done": _("For milestones."),
        }

    def __init__(self, *args, organization: Organization, with_current: bool = True,
                 **kwargs):
        super().__init__(*args, **kwargs)
        self.organization = organization
        self.fields["owner"].queryset = _people(organization, self.instance.owner_id)
        self.fields["kpi"].queryset = Kpi.objects.filter(organization=organization)
        self.fields["guard"].required = False
        for name in ("start_value", "target_value", "current_value", "weight"):
            self.fields[name].validators.append(validate_finite)
            self.fields[name].widget.attrs["step"] = "any"
        self.fields["weight"].required = False
        self.fields["start_value"].required = False
        self.fields["target_value"].required = False
        self.fields["guard"].choices = [("", "—")] + list(KeyResult.Guard.choices)
        # static/js/kr-kind.js shows only the fields of the chosen kind (the server
        # still checks each kind's fields in clean()).
        for name, kinds in KIND_FIELDS.items():
            if name in self.fields:
                self.fields[name].widget.attrs["data-kr-kinds"] = " ".join(kinds)
        self.fields["target_value"].widget.attrs["data-label-guardrail"] = _("Threshold")
        # Each kind that shows these asks for them (clean() says so): never "(optional)".
        for name in ("start_value", "target_value", "guard"):
            self.fields[name].asked_by_kind = True
        if not self.instance.pk and not self.is_bound:
            # A new form's target is the model's default (100): kr-kind.js empties it for
            # a guardrail, whose threshold is never guessed (and puts it back for a metric).
            self.fields["target_value"].widget.attrs["data-guardrail-blank"] = ""
        self.fields["kind"].widget.attrs["data-kr-kind"] = ""
        if not with_current or self.instance.pk:
            del self.fields["current_value"]
            del self.fields["done"]
        if self.instance.pk:
            self.fields["version"].initial = self.instance.version

    def clean_weight(self):
        weight = self.cleaned_data.get("weight")
        if weight is None:
            return 1.0
        if not 0 <= weight <= 1000:
            raise ValidationError(_("A weight lies between 0 and 1000."))
        return weight

    def clean(self):
        data = super().clean()
        kind = data.get("kind")
        if kind == KeyResult.Kind.GUARDRAIL:
            # A guardrail holds a threshold on one side: the side is never guessed (a
            # guess from start and target turned "at or above 85" into "at or below").
            if not data.get("guard") and "guard" not in self.errors:
                self.add_error("guard", _("Choose the side that must hold: at or above, or "
                                          "at or below the threshold."))
            if data.get("target_value") is None and "target_value" not in self.errors:
                self.add_error("target_value", _("Enter the threshold."))
            if data.get("start_value") is None:  # not asked for a guardrail
                data["start_value"] = data.get("target_value")
        elif kind != KeyResult.Kind.MILESTONE:
            for name in ("start_value", "target_value"):
                if data.get(name) is None and name not in self.errors:
                    self.add_error(name, _("Enter a number."))
        if kind == KeyResult.Kind.MILESTONE:
            data["start_value"], data["target_value"] = 0.0, 1.0
        if kind != KeyResult.Kind.GUARDRAIL:
            data["guard"] = ""
        return data

    def service_data(self) -> dict:
        return {name: self.cleaned_data.get(name) for name in self.Meta.fields
                if name in self.fields or name in ("start_value", "target_value", "guard")}


KeyResultFormSet = forms.formset_factory(KeyResultForm, extra=3,
                                         max_num=10, absolute_max=10)


class CarryOverForm(forms.Form):
    target = forms.ModelChoiceField(queryset=Cycle.objects.none(), label=_("Carry into"))
    objectives = forms.MultipleChoiceField(
        widget=forms.CheckboxSelectMultiple, label=_("Objectives to carry over"),
        help_text=_("None is ticked for you: an unfinished objective is often better dropped "
                    "or rewritten than copied as it is."),
        error_messages={"required": _("Tick at least one objective to carry over.")})

    def __init__(self, *args, organization: Organization, source: Cycle, candidates, **kw):
        super().__init__(*args, **kw)
        targets = (Cycle.objects.filter(organization=organization, state=Cycle.State.OPEN)
                   .exclude(pk=source.pk).order_by("start", "-kind"))
        self.fields["target"].queryset = targets
        # Default: the first open cycle of the same kind that starts after this one.
        later = [c for c in targets if c.start > source.start and c.kind == source.kind]
        if later:
            self.fields["target"].initial = later[0].pk
        self.fields["objectives"].choices = [(str(o.pk), o.title) for o in candidates]


CLOSING_CHOICES = [c for c in Objective.ClosingStatus.choices if c[0]]


class CycleCloseForm(forms.Form):
    """One closing status, score and note per objective, plus the cycle's version."""

    version = forms.IntegerField(widget=forms.HiddenInput)
    confirm = forms.BooleanField(
        label=_("I understand that closing freezes every key result and makes the cycle "
                "read-only."))

    def __init__(self, *args, cycle: Cycle, rows, **kwargs):
        super().__init__(*args, **kwargs)
        self.rows = rows
        self.fields["version"].initial = cycle.version
        for row in rows:
            o = row.objective
            inputs = [kr_input(k.kr) for k in row.krs]
            score = P.objective_score(inputs) if inputs else round(row.progress, 2)
            row.suggested_score = score
            suggested = (Objective.ClosingStatus.CANCELLED if o.state == Objective.State.DRAFT
                         else P.suggested_closing_status(score, o.kind))
            self.fields[f"status_{o.pk}"] = forms.ChoiceField(
                choices=CLOSING_CHOICES, initial=suggested, label=_("Closing status"))
            self.fields[f"score_{o.pk}"] = forms.FloatField(
                min_value=0, max_value=1, initial=score, label=_("Score"),
                validators=[validate_finite],
                widget=NumberInput(attrs={"step": "0.01"}))
            self.fields[f"note_{o.pk}"] = forms.CharField(
                required=False, label=_("Learnings"), widget=forms.Textarea(attrs={"rows": 2}))
            row.fields = (self[f"status_{o.pk}"], self[f"score_{o.pk}"], self[f"note_{o.pk}"])

    def decisions(self) -> dict[int, dict]:
        out = {}
        for row in self.rows:
            pk = row.objective.pk
            out[pk] = {"closing_status": self.cleaned_data[f"status_{pk}"],
                       "score": self.cleaned_data[f"score_{pk}"],
                       "note": self.cleaned_data.get(f"note_{pk}", "")}
        return out
