"""OGC API - Features on the dashboard's server: GIS clients (QGIS, ArcGIS, GDAL, OWSLib) connect to the runs.

``/ogcapi`` serves the latest run, ``/ogcapi/runs/<run_id>`` one published run: its vector layers and tables as
collections of GeoJSON features (CRS84 by default, EPSG:4326 and the run's EPSG analysis CRS on request), paged,
selected by ``bbox``, ``datetime`` and property filters, behind the dashboard's login (HTTP Basic or a session)
and its roles: an agency gets the site-level features of its own country only, whatever it asks. See
docs/ogcapi.md for connecting QGIS.

- `service`: `install_ogcapi`, the routes and the answers to errors;
- `collections`: a run's collections, described and loaded once per run;
- `queries`: the parameters of ``/items`` checked, and the features they select;
- `responses`, `openapi`: the documents answered; `crs_options`, `timespans`: CRSs and time.
"""

from mrumonitor.dashboard.ogcapi.service import install_ogcapi

__all__ = ["install_ogcapi"]
