"""Rate-limit back-off shared by everything one Thor account sends."""

from collections.abc import Callable
from dataclasses import dataclass, field
import math
import time

from .const import DEFAULT_MAX_BACKOFF, DEFAULT_MIN_BACKOFF, DEFAULT_RATE_LIMIT_BACKOFF


def _monotonic() -> float:
    """Return `time.monotonic()`, looked up at each call.

    A reference to `time.monotonic` taken at import would escape the time patching of
    test tools (freezegun), so a frozen clock would never end a back-off.
    """
    return time.monotonic()


@dataclass(kw_only=True)
class ThorBackoff:
    """How long to stay silent after Thor answered 429.

    Share one instance between every client of an account: Thor's limits are per
    account, so a 429 seen by one client must silence the others too.
    """

    min_delay: float = DEFAULT_MIN_BACKOFF
    max_delay: float = DEFAULT_MAX_BACKOFF
    default_delay: float = DEFAULT_RATE_LIMIT_BACKOFF
    """Wait used when the 429 carried no usable `Retry-After`."""
    clock: Callable[[], float] = field(default=_monotonic, repr=False, compare=False)
    """Monotonic seconds; `time.monotonic` unless injected."""
    _until: float | None = field(default=None, init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        """Refuse bounds that cannot be honoured."""
        delays = (self.min_delay, self.default_delay, self.max_delay)
        if not all(math.isfinite(delay) for delay in delays) or not (
            0 <= self.min_delay <= self.default_delay <= self.max_delay
        ):
            raise ValueError(
                "Back-off delays must be finite with "
                "0 <= min_delay <= default_delay <= max_delay"
            )

    def _left(self, now: float) -> float:
        """Return the seconds left at `now`, dropping an expired hold."""
        if self._until is None:
            return 0.0
        left = self._until - now
        if left <= 0:
            self._until = None
            return 0.0
        if left > self.max_delay:
            # The clock went backwards: re-anchor so the wait stays bounded.
            self._until = now + self.max_delay
            return self.max_delay
        return left

    def remaining(self) -> float:
        """Return the seconds left before anything may be sent (0.0 when none)."""
        return self._left(self.clock())

    def hold(self, retry_after: float | None) -> float:
        """Record a 429 and return the seconds to wait from now.

        The wait is `default_delay` without a usable `retry_after`, else `retry_after`
        bounded to [min_delay, max_delay]. A longer hold already running is kept, and
        its remaining time is returned then.
        """
        if retry_after is None or math.isnan(retry_after):
            wait = self.default_delay
        else:
            wait = min(max(retry_after, self.min_delay), self.max_delay)
        now = self.clock()
        wait = max(wait, self._left(now))
        self._until = now + wait
        return wait
