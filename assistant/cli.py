"""`sesam ask`, `sesam eval` and `sesam serve` (placeholder until the answers layer lands)."""

from __future__ import annotations

import argparse
from collections.abc import Callable


def register(sub: argparse._SubParsersAction, add_common: Callable[[argparse.ArgumentParser], None]) -> None:
    return None
