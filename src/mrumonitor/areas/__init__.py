"""Watched areas and their statistics, read from published runs: a country, a border corridor, an admin area, a
licence, an area drawn on the dashboard map or an uploaded file, checked and turned into one WGS84 polygon
(`resolve`, `files`), and what a run holds inside it, period by period (`stats`)."""
