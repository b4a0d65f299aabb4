"""The analysis stage: unregistered production, cross-border leakage and production capacity.

Reads the canonical layers of the earlier stages (concessions, sites, reference layers) and derives the
layers the regional team comes for: each site's registration class, its border and border-post distances,
ranked border corridors, a risk score, and the production capacity estimated from mined area against the
declared Kimberley Process figures.
"""
