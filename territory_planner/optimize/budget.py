"""One time budget per command, with every stage's share named in one place.

``--time-limit`` is a wall-clock promise for the whole command, from reading the inputs to the written
folder. The command makes one ``TimeBudget`` when it starts; the part kept back for writing the outputs
is taken off first, and each stage then gets a named share of what is left *when it starts*, so a stage
that finishes early leaves its time to the next one and none can starve the rest.
"""

from __future__ import annotations

import time
from dataclasses import dataclass

# share of the time left when the stage starts
SHARES = {
    "unit_fit": 0.03,  # the pre-check for accounts that fit in no territory (``unit_fit``)
    "centres": 0.30,  # location-allocation for reps without a home base
    "base_plan": 0.40,  # with --contiguous: the plan before the contiguity cuts (they get the rest)
    "contiguity_cuts": 0.60,  # with --contiguous and a start plan: the whole-model cut loop (LNS: the rest)
    "contiguity_mend": 0.30,  # with a cut loop: the LNS mend of the start plan before the loop's rounds
    "lp": 0.60,  # the LP relaxation by column generation (the lower bound and every later stage's guide)
    "proof": 0.60,  # the LPs that prove (or explain) an infeasible model
    "construct": 0.15,  # the LP-guided balancing search (a plan without any MIP)
    "round": 0.50,  # decomposition: rounding the LP with neighbourhood MIPs
    "before_relax": 0.80,  # with --relax: the search for a plan; the least-violation MIP keeps the rest
}
# writing assignments, territories, summary, map and report: measured about 1 s + 40 us per account
OUTPUT_SECONDS_FIXED = 1.5
OUTPUT_SECONDS_PER_ACCOUNT = 6e-5
WORKBOOK_SECONDS_PER_ACCOUNT = (
    3e-4  # plan.xlsx (`plan --xlsx`): about 10 us per cell, 25-30 cells per account
)
NO_LIMIT = 1e9


@dataclass
class TimeBudget:
    start: float  # time.perf_counter() when the command started
    deadline: float  # when the solve must be over (outputs excluded)
    limit: float | None  # the command's --time-limit (None: none)

    @classmethod
    def for_command(
        cls,
        time_limit: float | None,
        *,
        started: float | None = None,
        accounts: int = 0,
        per_account: float = OUTPUT_SECONDS_PER_ACCOUNT,
    ) -> TimeBudget:
        start = time.perf_counter() if started is None else started
        if time_limit is None:
            return cls(start, start + NO_LIMIT, None)
        reserve = min(OUTPUT_SECONDS_FIXED + per_account * accounts, 0.25 * time_limit)
        return cls(start, start + time_limit - reserve, time_limit)

    @classmethod
    def seconds(cls, seconds: float | None) -> TimeBudget:
        """A budget of ``seconds`` from now (tests, sub-stages called on their own)."""
        if seconds is None:
            return cls.for_command(None)
        return cls.until(time.perf_counter() + seconds)

    @classmethod
    def until(cls, deadline: float) -> TimeBudget:
        now = time.perf_counter()
        return cls(now, deadline, deadline - now)

    @property
    def limited(self) -> bool:
        return self.limit is not None

    def remaining(self) -> float:
        return max(self.deadline - time.perf_counter(), 0.0)

    def elapsed(self) -> float:
        return time.perf_counter() - self.start

    def expired(self, margin: float = 0.0) -> bool:
        return time.perf_counter() >= self.deadline - margin

    def share(self, name: str) -> float:
        """Absolute deadline of stage ``name``: its share of the time left now."""
        return time.perf_counter() + SHARES[name] * self.remaining()

    def child(self, name: str) -> TimeBudget:
        """A budget for a sub-command (e.g. the base plan under --contiguous) ending at its share."""
        return TimeBudget(time.perf_counter(), self.share(name), self.limit)

    def suggest(self) -> float:
        """A --time-limit worth trying when this one was too short for any plan."""
        base = self.limit if self.limit is not None else self.elapsed()
        return float(max(2 * base, self.elapsed() * 2, 30.0))
