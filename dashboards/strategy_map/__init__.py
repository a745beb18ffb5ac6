"""The strategy map: the goal, its pillars and the objectives and key results under them,
each subtree loaded when opened."""
