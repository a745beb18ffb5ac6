"""Operations: business as usual, the sustain KPIs by team, filtered and paged."""
