"""Ingest: national cadastre files -> the canonical `concessions` layer, and `quarantine` for the rest."""

from mrumonitor.ingest.readers import READERS, open_source
from mrumonitor.ingest.run import IngestResult, ingest_sources, write_ingest

__all__ = ["READERS", "IngestResult", "ingest_sources", "open_source", "write_ingest"]
