"""A bounded, thread-safe least-recently-used store: the dashboard's caches of runs, answers and images."""

from __future__ import annotations

import threading
from collections import OrderedDict
from typing import Any


class Memo:
    """A bounded, thread-safe least-recently-used store of computed values (size 0: nothing is kept)."""

    def __init__(self, size: int) -> None:
        self.size = size
        self._items: OrderedDict[Any, Any] = OrderedDict()
        self._lock = threading.Lock()

    def get(self, key: Any, compute: Any) -> Any:
        """The value stored under `key`, computed by `compute()` (outside the lock) when missing."""
        with self._lock:
            if key in self._items:
                self._items.move_to_end(key)
                return self._items[key]
        value = compute()
        with self._lock:
            self._items[key] = value
            while len(self._items) > self.size:
                self._items.popitem(last=False)
        return value

    def clear(self) -> None:
        """Forget every stored value."""
        with self._lock:
            self._items.clear()

    def __len__(self) -> int:
        return len(self._items)
