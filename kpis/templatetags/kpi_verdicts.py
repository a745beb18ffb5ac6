"""{% kpi_verdicts health %}: the variation and assurance verdicts (kpis.words) as two
small icons with words, linking to the legend page that explains them."""

from __future__ import annotations

from django import template

from kpis import words as W

register = template.Library()


@register.inclusion_tag("includes/kpi_verdicts.html", takes_context=True)
def kpi_verdicts(context, health):
    variation = W.variation(health)
    assurance = W.assurance(health)
    request = context.get("request")
    org = getattr(request, "org", None)
    return {
        "variation": variation,
        "variation_label": W.VARIATION_LABELS.get(variation, ""),
        "variation_icon": W.VARIATION_ICONS.get(variation, ""),
        "assurance": assurance,
        "assurance_label": W.ASSURANCE_LABELS.get(assurance, ""),
        "assurance_icon": W.ASSURANCE_ICONS.get(assurance, ""),
        "legend_url": f"/o/{org.slug}/kpis/legend/" if org is not None else "",
    }
