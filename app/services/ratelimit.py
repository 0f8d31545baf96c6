"""A small in-process rate limiter (fixed one-minute windows per key).

Personal links need no account, so they are the one place a stranger can knock without a
key: each link and each client address gets a budget of requests per minute. In-process is
enough for the embedded deployment and for one API process; several API processes each keep
their own budget (the limit then scales with the number of processes, which is acceptable
for its purpose: making token guessing and tap-storms pointless, not exact quotas).
"""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass


@dataclass
class _Window:
    started: float
    count: int


class RateLimiter:
    def __init__(self, window_s: float = 60.0, max_keys: int = 100_000) -> None:
        self.window_s = window_s
        self.max_keys = max_keys
        self._windows: dict[str, _Window] = {}
        self._lock = threading.Lock()

    def hit(self, key: str, limit: int, now: float | None = None) -> float:
        """Count one request; returns 0 if allowed, else the seconds until the key may retry."""
        now = time.monotonic() if now is None else now
        with self._lock:
            w = self._windows.get(key)
            if w is None or now - w.started >= self.window_s:
                if len(self._windows) >= self.max_keys:
                    self._prune(now)
                w = self._windows[key] = _Window(now, 0)
            w.count += 1
            if w.count > limit:
                return max(0.0, self.window_s - (now - w.started))
            return 0.0

    def _prune(self, now: float) -> None:
        for key in [k for k, w in self._windows.items() if now - w.started >= self.window_s]:
            del self._windows[key]
        if len(self._windows) >= self.max_keys:  # still full: start over rather than grow
            self._windows.clear()

    def reset(self) -> None:
        with self._lock:
            self._windows.clear()


#: The limiter of this process for personal links.
link_limiter = RateLimiter()
