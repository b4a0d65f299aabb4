"""Memory figures the benchmarks share: resident set now and at peak (Linux /proc), and a peak reset."""

from __future__ import annotations

import resource
from pathlib import Path


def rss(field: str) -> int:
    """VmRSS (now) or VmHWM (peak) of this process, in bytes (Linux /proc)."""
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith(field + ":"):
            return int(line.split()[1]) * 1024
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024


def reset_peak() -> bool:
    """Reset the peak resident set to the current one (Linux >= 4.0), so what came before does not count."""
    try:
        Path("/proc/self/clear_refs").write_text("5")
    except OSError:
        return False
    return True
