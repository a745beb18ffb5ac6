"""The strategic review: change apart from business as usual (the improvement OKRs, the
KPIs they target, the key results at risk)."""
