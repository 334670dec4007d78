"""A job's time budget, checked cooperatively: threads cannot be stopped from outside, so
long loops (frames, detector batches) ask between steps whether time is up."""

from __future__ import annotations

import time
from dataclasses import dataclass, field

from vigil.errors import TimeBudgetExceeded


@dataclass(frozen=True)
class Deadline:
    seconds: float
    started: float = field(default_factory=time.monotonic)

    def check(self, doing: str) -> None:
        """TimeBudgetExceeded once the budget is spent; ``doing`` says where it ran out."""
        spent = time.monotonic() - self.started
        if spent > self.seconds:
            raise TimeBudgetExceeded(
                f"processing took more than its budget of {self.seconds:.0f} s "
                f"({spent:.0f} s, while {doing})"
            )


NO_DEADLINE = Deadline(float("inf"))
