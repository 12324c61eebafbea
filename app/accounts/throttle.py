"""Sign-in throttling: failures counted per account and per client address in a sliding window."""

from __future__ import annotations

import threading
import time
from collections import deque
from collections.abc import Callable
from typing import Protocol


class FailureCounter(Protocol):
    def failures(self, key: str, window: int) -> tuple[int, int]:
        """(failures within the window, seconds until the oldest expires)."""
        ...

    def add_failure(self, key: str, window: int) -> None: ...

    def clear(self, key: str) -> None: ...


class MemoryFailureCounter:
    """In-process counter: right for a single worker; several workers need the Redis counter."""

    def __init__(self, clock: Callable[[], float] = time.monotonic) -> None:
        self._clock = clock
        self._events: dict[str, deque[float]] = {}
        self._lock = threading.Lock()

    def _trim(self, key: str, window: int) -> deque[float]:
        now = self._clock()
        q = self._events.setdefault(key, deque())
        while q and q[0] <= now - window:
            q.popleft()
        return q

    def failures(self, key: str, window: int) -> tuple[int, int]:
        with self._lock:
            q = self._trim(key, window)
            if not q:
                return 0, 0
            return len(q), max(1, int(q[0] + window - self._clock()))

    def add_failure(self, key: str, window: int) -> None:
        with self._lock:
            self._trim(key, window).append(self._clock())

    def clear(self, key: str) -> None:
        with self._lock:
            self._events.pop(key, None)
