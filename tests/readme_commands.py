"""The README's commands, as its ```bash blocks give them (the docs check runs them; others check some)."""

from __future__ import annotations

import re
from pathlib import Path

README = Path(__file__).resolve().parents[1] / "README.md"


def bash_commands(text: str) -> list[str]:
    """The commands of the ```bash blocks, in order: comments dropped, `\\` continuations joined,
    `a && b` split in two."""
    commands = []
    for block in re.findall(r"^```bash\n(.*?)^```", text, flags=re.DOTALL | re.MULTILINE):
        joined = re.sub(r"\\\n\s*", " ", block)
        for line in joined.splitlines():
            line = line.split(" #", 1)[0].strip()
            if line and not line.startswith("#"):
                commands.extend(part.strip() for part in line.split("&&"))
    return commands
