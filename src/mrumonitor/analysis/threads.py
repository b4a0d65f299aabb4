"""Vectorised shapely operations spread over the machine's cores.

Shapely 2 releases the GIL inside its array functions, so one array split into a few chunks per core and
handed to a pool of a thread per core runs on every core at once (about 1.8x on 2 cores for overlays and
nearest queries). Small arrays run directly: the split only pays from a few thousand geometries. Work made of many such calls with
numpy between them (the registration of a chunk of footprints) goes to the pool whole, an item per task
(`in_threads`): one thread's numpy work then overlaps the other's GEOS work.
"""

from __future__ import annotations

import os
import threading
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from typing import TypeVar

import numpy as np
import shapely

T = TypeVar("T")
R = TypeVar("R")

#: Arrays shorter than this run in the calling thread.
MIN_SPLIT = 5_000
#: Chunks per core an array is split into: several, so that a core slowed by other work on the machine
#: takes fewer of them instead of making the others wait for its one.
CHUNKS_PER_CORE = 4


def workers() -> int:
    """The cores this process may run on."""
    return len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count() or 1


def threaded(func: Callable[..., np.ndarray], *arrays: np.ndarray | shapely.Geometry, **kwargs) -> np.ndarray:
    """``func(*arrays, **kwargs)`` for an element-wise shapely function, computed in chunks on a thread pool.

    Every numpy array among `arrays` is split the same way (they must have the same length); anything else
    (a single geometry, a number) goes whole to every chunk. The result is in the order of the input.
    """
    bounds = _chunks(max(len(a) for a in arrays if isinstance(a, np.ndarray)))
    if len(bounds) <= 2:
        return func(*arrays, **kwargs)

    def run(start: int, stop: int) -> np.ndarray:
        return func(*(a[start:stop] if isinstance(a, np.ndarray) else a for a in arrays), **kwargs)

    with ThreadPoolExecutor(min(workers(), len(bounds) - 1)) as pool:
        return np.concatenate(list(pool.map(run, bounds[:-1], bounds[1:])))


def in_threads(func: Callable[[T], R], items: Sequence[T]) -> list[R]:
    """``func(item)`` for every item, the items shared out among one thread per core; the results in order.

    For work that is mostly shapely calls on arrays (they release the GIL), split by the caller into items
    that do not share a prepared geometry (GEOS builds its indexes on first use: two threads must not share
    one).
    """
    if workers() == 1 or len(items) < 2:
        return [func(item) for item in items]
    with ThreadPoolExecutor(min(workers(), len(items))) as pool:
        return list(pool.map(func, items))


class PreparedCopies:
    """Geometries of which every thread gets its own prepared copy (`prepared`): GEOS builds a prepared
    geometry's indexes on first use, so two threads must not share one. A copy has the same coordinates, so
    gives the same answers."""

    def __init__(self, geoms: np.ndarray) -> None:
        self.geoms = geoms
        self._local = threading.local()

    def prepared(self) -> np.ndarray:
        """This thread's prepared copy (made on its first call)."""
        if not hasattr(self._local, "geoms"):
            self._local.geoms = shapely.from_wkb(shapely.to_wkb(self.geoms))
            shapely.prepare(self._local.geoms)
        return self._local.geoms


def query_nearest(tree: shapely.STRtree, geoms: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The nearest tree geometry of each of `geoms` (one per geometry, ties to the first): (item, target,
    distance) as `STRtree.query_nearest(..., return_distance=True, all_matches=False)` gives them."""

    def nearest(part: np.ndarray) -> tuple[np.ndarray, ...]:
        (item, target), distance = tree.query_nearest(part, return_distance=True, all_matches=False)
        return item, target, distance

    return _tree_chunks(tree, geoms, nearest)


def _tree_chunks(tree: shapely.STRtree, geoms: np.ndarray,
                 ask: Callable[[np.ndarray], tuple[np.ndarray, ...]]) -> tuple[np.ndarray, ...]:
    """`ask(chunk)` for chunks of `geoms` on a thread per core; its first array (positions in the chunk)
    becomes positions in `geoms`, and the chunks' arrays are joined in order."""
    bounds = _chunks(len(geoms))
    ask(geoms[:1])  # the tree is built on its first query: not concurrently

    def run(start: int, stop: int) -> tuple[np.ndarray, ...]:
        item, *rest = ask(geoms[start:stop])
        return item + start, *rest

    with ThreadPoolExecutor(max(1, min(workers(), len(bounds) - 1))) as pool:
        parts = list(pool.map(run, bounds[:-1], bounds[1:]))
    return tuple(np.concatenate(arrays) for arrays in zip(*parts, strict=True))


def _chunks(n: int) -> np.ndarray:
    """Chunk boundaries: CHUNKS_PER_CORE chunks per core, fewer when `n` is small (one below 2 x MIN_SPLIT)."""
    count = min(CHUNKS_PER_CORE * workers(), max(1, n // MIN_SPLIT))
    return np.linspace(0, n, count + 1).astype(np.int64)
