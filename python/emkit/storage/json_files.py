"""Reading a small JSON file emkit wrote (a checkpoint pointer, input statistics), with
one error line naming the file when it cannot be read or parsed."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any


def read_json(path: str | Path, error: type[Exception], what: str) -> Any:
    """``json.loads`` of ``path``; an unreadable, non-UTF-8 or invalid file raises
    ``error("<path>: cannot read <what> (<cause>)")``."""
    try:
        return json.loads(Path(path).read_text())
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise error(f"{path}: cannot read {what} ({exc})") from None
