"""Raster stage: activity rasters from detections, external models and scenes, on one grid; sites from them."""
