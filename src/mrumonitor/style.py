"""The project's palettes: one colour per registration class and per licence status.

The dashboard draws with them (as CSS colours, `css`) and the GeoPackage exports carry them in their QGIS
styles (`mrumonitor.export.qgis_style`), so a site is the same colour on the map and in an agency's GIS.
"""

from __future__ import annotations

#: Colour (R, G, B) of each registration class of `sites` ("not_assessed": outside the cadastres held).
REGISTRATION_COLOURS = {
    "registered": (51, 160, 44),
    "no_licence": (227, 26, 28),
    "expired_licence": (255, 127, 0),
    "exploration_only": (106, 61, 154),
    "wrong_commodity": (153, 95, 45),
    "suspended": (150, 150, 150),
    "not_assessed": (166, 189, 219),
    "verified_not_mining": (240, 240, 240),
}

#: Colour of each licence status of `concessions`.
STATUS_COLOURS = {
    "active": (51, 160, 44),
    "expired": (255, 127, 0),
    "suspended": (150, 150, 150),
    "pending": (31, 120, 180),
    "unknown": (200, 200, 200),
}


def css(colour: tuple[int, int, int]) -> str:
    """The CSS hex form (``#rrggbb``) of an (R, G, B) colour."""
    return "#{:02x}{:02x}{:02x}".format(*colour)


#: CSS colour of each registration class and licence status.
REGISTRATION_CSS = {name: css(colour) for name, colour in REGISTRATION_COLOURS.items()}
STATUS_CSS = {name: css(colour) for name, colour in STATUS_COLOURS.items()}
