"""Argument types for command lines: numbers checked against their meaning when the command is parsed.

parser.add_argument("--timeout", type=timeout_seconds, default=300)   # 0, -1, 10**9 -> a usage error, exit 2
"""

from __future__ import annotations

import argparse

__all__ = ["timeout_seconds", "check_timeout", "MAX_TIMEOUT_S"]

MAX_TIMEOUT_S = 7 * 24 * 3600  # a week: longer is a typo, and 0 / negative would silently disable the timeout


def check_timeout(value, what: str = "timeout") -> int:
    """``value`` as whole seconds in [1, MAX_TIMEOUT_S], else ``ValueError`` naming ``what`` and the fix."""
    if isinstance(value, bool) or not isinstance(value, int) or not 1 <= value <= MAX_TIMEOUT_S:
        raise ValueError(
            f"{what}={value!r} must be whole seconds from 1 to {MAX_TIMEOUT_S} (a timeout of 0 or less "
            "would switch the timeout off)"
        )
    return value


def timeout_seconds(text: str) -> int:
    """argparse ``type=``: a per-cell timeout in whole seconds, 1 .. ``MAX_TIMEOUT_S``."""
    try:
        return check_timeout(int(text))
    except ValueError:
        raise argparse.ArgumentTypeError(
            f"{text!r} must be whole seconds from 1 to {MAX_TIMEOUT_S} (0 or less would switch the timeout off)"
        ) from None
