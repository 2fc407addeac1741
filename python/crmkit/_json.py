"""Private: JSON text of rules and declarations given as Python values (dicts and lists)."""

from __future__ import annotations

import json
from typing import Any

from .errors import ValidationError

# parse_json_strict's default nesting limit (crmkit/base/json.hpp), which the core applies to
# every rule, segment list, window and programme it reads.
MAX_DEPTH = 32


def json_text(value: Any, what: str) -> str:
    """``value`` as JSON text for the core, which checks it. A value nested so deeply that
    Python's json module runs out of recursion is far deeper than the core's limit: it is refused
    here the way the core refuses such text (ValidationError naming ``what``), not as a
    RecursionError."""
    try:
        return json.dumps(value)
    except RecursionError:
        raise ValidationError(
            f"{what}: JSON nesting is deeper than {MAX_DEPTH} levels") from None
