"""Mapbox Vector Tiles and PMTiles archives: shared by the dashboard's tile route and the PMTiles export.

Tile arithmetic (Web Mercator XYZ tiles), encoding layers of WGS84 geometries with their attributes into one MVT
tile, and writing a set of tiles as a PMTiles archive. Nothing here knows about runs, roles or filters: callers
choose the features, this room turns them into tiles.
"""
