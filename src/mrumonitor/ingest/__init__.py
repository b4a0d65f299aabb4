"""Ingest: national cadastre files -> the canonical `concessions` layer, and `quarantine` for the rest."""

from mrumonitor.ingest.run import IngestResult, ingest_sources, write_ingest
from mrumonitor.ingest.sources import open_source

__all__ = ["IngestResult", "ingest_sources", "open_source", "write_ingest"]
