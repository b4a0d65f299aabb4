"""The reference layers of one run: read once from the configured files, then carried inside the run.

A run's figures depend on the country outlines, the border lines and the border zone drawn from them, the
official border posts, the commodity zones and the admin areas it was computed with. `ReferenceLayers.load`
reads them from the configuration (once per run; the stages take them as data), `write` puts them into the
run folder (`RunFolder.reference`) and `read` gives them back from a published run, so that the run is drawn,
exported and clipped with what it was computed with, whatever the configuration and the reference files have
become since.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import geopandas as gpd
import numpy as np
import shapely

from mrumonitor.config import Settings
from mrumonitor.crs import norm_crs
from mrumonitor.errors import StoreError
from mrumonitor.layerio import write_geoparquet
from mrumonitor.reference.admin import load_admin_layer
from mrumonitor.reference.borders import load_borders
from mrumonitor.reference.boundaries import load_boundaries
from mrumonitor.reference.commodity import load_commodity_zones
from mrumonitor.reference.places import load_places, no_places
from mrumonitor.reference.posts import load_border_posts
from mrumonitor.runfolder import RunFolder

#: The run-wide reference layers, by their name in the run folder (admin levels are ``admin_<level>``).
REFERENCE_LAYERS = ("boundaries", "borders", "border_zone", "border_posts", "commodity_zones")
#: Reference layers a run carries when it was published after they were added (an older run has none).
OPTIONAL_LAYERS = ("places",)
#: Prefix of the name of an admin level's layer in the run folder.
ADMIN_PREFIX = "admin_"


@dataclass(frozen=True)
class ReferenceLayers:
    """The reference layers of a run, in the analysis CRS.

    Attributes
    ----------
    boundaries : GeoDataFrame
        Consistent country outlines: iso3, name, geometry.
    borders : GeoDataFrame
        Shared border lines, one row per pair of neighbours: pair, a, b, length_km, geometry.
    border_zone : GeoDataFrame
        One row: the area within ``width_km`` (``analysis.border_zone_km``) of any border line.
    border_posts : GeoDataFrame
        Border posts snapped to the border lines (post_id, name, kind, ..., geometry).
    commodity_zones : GeoDataFrame
        name, commodity, geometry.
    admin : dict of GeoDataFrame
        Per configured admin level (in configuration order): name, country, geometry.
    places : GeoDataFrame
        Towns and villages (`reference.places`): name, country, admin1, geometry; empty for a run published
        before runs carried them.
    """

    boundaries: gpd.GeoDataFrame
    borders: gpd.GeoDataFrame
    border_zone: gpd.GeoDataFrame
    border_posts: gpd.GeoDataFrame
    commodity_zones: gpd.GeoDataFrame
    admin: dict[str, gpd.GeoDataFrame]
    places: gpd.GeoDataFrame

    @classmethod
    def load(cls, settings: Settings) -> ReferenceLayers:
        """Read every reference layer the configuration names, into the analysis CRS.

        Raises
        ------
        ReferenceDataError, InputFileError
            A reference layer, the commodity zones or an admin layer is missing or unusable (the message
            names the file and the fix).
        """
        crs, reference = settings.analysis_crs, settings.paths.reference
        borders = load_borders(reference, crs)
        return cls(boundaries=load_boundaries(reference, crs), borders=borders,
                   border_zone=border_zone(borders, settings.analysis.border_zone_km),
                   border_posts=load_border_posts(reference, crs),
                   commodity_zones=load_commodity_zones(settings.analysis.commodity_zones, crs),
                   admin={level: load_admin_layer(level, spec, crs) for level, spec in settings.analysis.admin.items()},
                   places=load_places(reference, crs))

    def layers(self) -> dict[str, gpd.GeoDataFrame]:
        """Every layer by its name in the run folder."""
        return {**{name: getattr(self, name) for name in (*REFERENCE_LAYERS, *OPTIONAL_LAYERS)},
                **{f"{ADMIN_PREFIX}{level}": frame for level, frame in self.admin.items()}}

    def write(self, folder: RunFolder) -> dict[str, str]:
        """Write every layer as GeoParquet into the run folder; name -> path relative to the folder."""
        return {name: folder.relative(write_geoparquet(frame, folder.reference(name)))
                for name, frame in self.layers().items()}

    @classmethod
    def read(cls, folder: RunFolder, names: dict[str, str], crs: Any) -> ReferenceLayers:
        """The layers `write` put into a run folder (`names`: what it returned, kept in the manifest), in `crs`.

        Raises
        ------
        StoreError
            The run holds no reference layers (published before runs carried them) or one is unreadable.
        """
        crs = norm_crs(crs, "CRS of the run's reference layers")
        missing = [name for name in REFERENCE_LAYERS if name not in names]
        if missing:
            raise StoreError(f"{folder.path}: the run holds no reference layer {', '.join(missing)} (it was "
                             "published before runs carried their reference layers). Publish a new run with "
                             "`mrumonitor run`.")
        try:
            frames = {name: gpd.read_parquet(folder.path / path).to_crs(crs) for name, path in names.items()}
        except (OSError, ValueError) as exc:
            raise StoreError(f"{folder.path}: a reference layer of the run cannot be read ({exc}). Publish a new "
                             "run with `mrumonitor run`.") from None
        admin = {name.removeprefix(ADMIN_PREFIX): frame for name, frame in frames.items()
                 if name.startswith(ADMIN_PREFIX)}
        places = frames["places"] if "places" in frames else no_places(crs)
        return cls(**{name: frames[name] for name in REFERENCE_LAYERS}, admin=admin, places=places)


def border_zone(borders: gpd.GeoDataFrame, width_km: float) -> gpd.GeoDataFrame:
    """The area within `width_km` of any border line, as one row (width_km, geometry) in the borders' CRS."""
    zone = shapely.union_all(np.asarray(borders.geometry.buffer(width_km * 1000)))
    return gpd.GeoDataFrame({"width_km": [float(width_km)]}, geometry=[zone], crs=borders.crs)
