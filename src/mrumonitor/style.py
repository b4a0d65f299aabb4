"""The project's palettes: one colour per registration class and per licence status, the corridors' colours by
rank and the activity raster's ramp.

The dashboard draws with them (as CSS colours, `css`) and the GeoPackage exports carry them in their QGIS
styles (`mrumonitor.export.qgis_style`), so a site is the same colour on the map and in an agency's GIS.

The palette is safe for colour-blind readers (Okabe & Ito, "Color Universal Design", 2008): registered is blue,
no licence vermillion, the other unregistered classes orange, reddish purple and brown, never a red/green pair;
"not assessed" (no cadastre held: Ghana) is a neutral grey, so it never reads as registered. The ramps are
sequential in lightness (ColorBrewer), readable without hue.
"""

from __future__ import annotations

#: Colour (R, G, B) of each registration class of `sites` ("not_assessed": outside the cadastres held).
REGISTRATION_COLOURS = {
    "registered": (0, 114, 178),
    "no_licence": (213, 94, 0),
    "expired_licence": (230, 159, 0),
    "exploration_only": (204, 121, 167),
    "wrong_commodity": (140, 81, 10),
    "suspended": (86, 180, 233),
    "not_assessed": (170, 170, 170),
    "verified_not_mining": (240, 240, 240),
}

#: Colour of each licence status of `concessions` (active as registered, expired as an expired licence).
STATUS_COLOURS = {
    "active": (0, 114, 178),
    "expired": (230, 159, 0),
    "suspended": (86, 180, 233),
    "pending": (0, 158, 115),
    "unknown": (170, 170, 170),
}

#: Colour of a border corridor by its rank (ColorBrewer PuBuGn, darkest first): (lowest rank, colour), the last
#: for every other rank.
CORRIDOR_RANK_COLOURS = ((1, (1, 70, 54)), (4, (2, 129, 138)), (11, (103, 169, 207)))

#: The activity raster's ramp, from the least to the most active pixel (ColorBrewer RdPu ends).
ACTIVITY_RAMP = ((255, 247, 188), (122, 1, 119))


def css(colour: tuple[int, int, int]) -> str:
    """The CSS hex form (``#rrggbb``) of an (R, G, B) colour."""
    return "#{:02x}{:02x}{:02x}".format(*colour)


def corridor_colour(rank: int) -> str:
    """The CSS colour of a corridor ranked `rank` (1: the first)."""
    return css(next(colour for lowest, colour in reversed(CORRIDOR_RANK_COLOURS) if rank >= lowest))


#: CSS colour of each registration class and licence status.
REGISTRATION_CSS = {name: css(colour) for name, colour in REGISTRATION_COLOURS.items()}
STATUS_CSS = {name: css(colour) for name, colour in STATUS_COLOURS.items()}
