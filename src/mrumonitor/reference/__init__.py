"""Committed reference layers: consistent country outlines, border lines per pair, border posts.

See layers/README.md for the files and the consistency rule, and `boundaries` for its implementation.
"""

from mrumonitor.reference.borders import derive_borders, load_borders
from mrumonitor.reference.boundaries import Consistent, load_boundaries, make_consistent
from mrumonitor.reference.build import build_reference
from mrumonitor.reference.commodity import load_commodity_zones
from mrumonitor.reference.posts import load_border_posts, snap_posts

__all__ = [
    "Consistent",
    "build_reference",
    "derive_borders",
    "load_border_posts",
    "load_borders",
    "load_boundaries",
    "load_commodity_zones",
    "make_consistent",
    "snap_posts",
]
