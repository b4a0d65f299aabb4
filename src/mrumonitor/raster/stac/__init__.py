"""Sentinel-2 L2A imagery from STAC APIs, as activity input of kind "stac".

Down the flow, one module a step:

- `search`: the items of one period over one area, from the configured provider's STAC API (pystac-client), with
  retries; an API that cannot be searched stops the run (`errors.ImageryUnavailable`).
- `items`: an item as a `raster.scenes.Scene` (one COG URL per band, its reflectance offset read from its own
  metadata) and the fingerprint that says whether it changed.
- `composite`: the per-period composite of the items (median reflectance and valid-observation count) on the
  detection grid, read window by window over HTTP range requests, kept in a cache keyed by the items and the
  settings; a window whose asset cannot be read after the retries is recorded, never filled with zeros.
- `detect`: the activity of a STAC input's area per period, from its composite and the baseline's
  (`composite.composite_activity`), with the windows its read failures left without observation.
- `server`: a small STAC API over a folder of items and COGs (the demo's imagery, a local archive, the tests).
- `commands`: `mrumonitor scenes search` (what a period would read) and `mrumonitor scenes serve`
  (`summary` makes the figures).
"""
