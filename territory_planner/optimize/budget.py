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
    # the same on a map whose exact flow model runs beside the contiguity stages: it settles contiguity
    # (a plan, its bound or the proof that none exists) and needs the time, the plan before it only a
    # start (QA14: 48 US states x 8 reps at +-10%, the proof at 24 s of 30 with 0.40, 18 s with 0.15;
    # exit 3 in one run of three with 0.40)
    "base_plan_exact": 0.15,
    # --district-contiguous on a large map (districts first, then territories inside them): the plan of
    # the whole model is only the lower bound and a start, as a plan with split districts is no plan; on
    # 3,142 counties its 0.40 was 119 s, 87 s of them improving a plan the two levels then replaced
    "nested_base": 0.15,
    # --design-districts on a map with --contiguous or --district-contiguous: the design connects its
    # territories and districts itself; the contiguity stages after it get the rest (their fallback)
    "design_on_map": 0.85,
    # --design-districts (design_flow): the territories without district rows, then the grouping MIP and,
    # on a map, the stages that connect territories and districts, each a share of the time left then
    "design_first": 0.40,  # the first plan (without district rows)
    "design_first_implied": 0.85,  # the same when the district band is implied by the territory bands
    "design_first_connect": 0.60,  # the same with an adjacency: time kept to connect the districts
    "design_first_retry": 0.70,  # no plan in that share: the search again, the grouping keeps the rest
    "design_grouping": 0.15,  # the grouping MIP (each attempt)
    "design_contiguous": 0.90,  # with --contiguous: the first plan's territories connected
    "design_connect": 0.60,  # no connected grouping: the district contiguity stage for the one chosen
    "design_connect_implied": 0.90,  # the same when the district band is implied: no second solve to keep
    "contiguity_cuts": 0.60,  # with --contiguous and a start plan: the whole-model cut loop (LNS: the rest)
    "contiguity_mend": 0.30,  # with a cut loop: the LNS mend of the start plan before the loop's rounds
    # the mend left territories split: the flip search (QA10 O1: 761 Brazilian cities x 16 reps at +-8%,
    # where the mend and the cut loop found no connected plan in 60 s or 180 s and the flip search one
    # within the bands in 18 s alone). Before the cut loop, whose rounds then start from its plan: a
    # plan first, the bound after
    "contiguity_flips": 0.60,
    # the flips ended connected with a few territories just outside their bands (3,142 counties x 100 reps,
    # +-5%: metro counties of 10-18% of a territory each, that no single move passes on): neighbourhood
    # MIPs around them, with this share of the time left when the whole-model cut loop follows
    "contiguity_rebalance": 0.50,
    # on a map the flow model fits, first: the flow model with every band elastic and the violation as its
    # objective, started from the flips' plan (78 St Louis counties x 5 reps, QA36: no connected plan
    # within the bands in 60, 90 or 120 s without it, one from it in 13.5-17.6 s; the flow model beside,
    # with no objective, cannot take the flips' plan out of band as its start). Where the neighbourhood
    # MIPs succeed they need little of the rest (a 10 x 10 grid: 0.6 s, where this model stays at its
    # start for 15 s)
    "contiguity_elastic": 0.60,
    "lp": 0.60,  # the LP relaxation by column generation (the lower bound and every later stage's guide)
    "proof": 0.60,  # the LPs that prove (or explain) an infeasible model
    "construct": 0.15,  # the LP-guided balancing search (a plan without any MIP)
    "round": 0.50,  # decomposition: rounding the LP with neighbourhood MIPs
    "round_with_plan": 0.20,  # the same when the balancing search already made a plan
    "round_small": 0.20,  # the same on a small model (the whole model is the better tool there)
    # a small model and no plan yet: the mend of the search's near-plan (507 Canadian cities x 12 reps at
    # --time-limit 6, QA13: its MIP found a plan in 0.7-2.4 s, where 0.2 of the time left gave it 0.7 s
    # and the whole model beside none in 5 s)
    "mend_small": 0.45,
    # no plan yet: the search's near-plan mended a few reps at a time (small MIPs, usually well under a
    # second) before the mend of the reps around every broken band
    "mend_groups": 0.10,
    "before_relax": 0.80,  # with --relax: the search for a plan; the least-violation MIP keeps the rest
}
# writing assignments, territories, summary, map and report: measured about 1 s + 40 us per account on
# the first machine; on this one (2026-12-03, loaded) 0.23-0.24 s for 507-865 accounts, 0.68 s for 2,000
# and 1.88 s for 33,791; unloaded (2026-12-03, twelfth session) 0.24 s for 865 and 0.28-0.29 s for the
# 2,000 sample accounts. 0.5 s + 60 us per account keeps 1.3x to 2.3x of that (1.0 s fixed kept 4x on
# the short runs: GB's 865 cities at 8 s got their whole model's first plan at 6.8-7.0 s, one run in
# four a little after the solve's deadline at 6.95 s, where plain PuLP + HiGHS had until 7.7 s)
OUTPUT_SECONDS_FIXED = 0.5
OUTPUT_SECONDS_PER_ACCOUNT = 6e-5
WORKBOOK_SECONDS_PER_ACCOUNT = (
    3e-4  # plan.xlsx (`plan --xlsx`): about 10 us per cell, 25-30 cells per account
)
# polygon units (polygon accounts or --areas): the map dissolves, cleans and simplifies them, so its time
# grows with the vertices units.geojson holds (``geo.areas.display_tolerance``), not with the file's: US
# counties (3,109 units, 53k to 250k vertices written) and subsets of them (300 to 1,609 units) wrote in
# 0.8-7.6 s on 2 shared cores, about 0.4 ms per unit + 20-25 us per vertex on top of the terms above
# (the 3,109 counties at the display tolerance: 71k vertices, 4.4 s, reserve 4.7 s).
OUTPUT_SECONDS_PER_POLYGON = 4e-4
OUTPUT_SECONDS_PER_VERTEX = 2.5e-5
MAX_RESERVE_SHARE = 0.25  # of --time-limit: the solve keeps at least three quarters
NO_LIMIT = 1e9
# SPEC's promise: the whole command within 1.05 x --time-limit + 2 s
PROMISE_FACTOR = 1.05
PROMISE_SLACK = 2.0
# the command's time outside its own clock: the interpreter and the console script's import before it,
# the process's exit after (0.15-0.25 s here, 2026-12-04); kept back from the promise's end
STARTUP_SECONDS = 0.3


def promise_end(start: float, limit: float, reserve: float) -> float:
    """The latest moment the solve may end so that the command, its outputs (``reserve`` seconds) and
    its start-up included, keeps SPEC's promise of ``PROMISE_FACTOR`` x ``limit`` + ``PROMISE_SLACK``."""
    return start + PROMISE_FACTOR * limit + PROMISE_SLACK - reserve - STARTUP_SECONDS


def output_reserve(
    accounts: int,
    *,
    per_account: float = OUTPUT_SECONDS_PER_ACCOUNT,
    polygons: int = 0,
    vertices: int = 0,
) -> float:
    """Seconds to keep for writing the plan folder: a fixed part, ``per_account`` (more with the
    workbook), and the map's unit polygons (``geo.areas.UnitShapes``: features and vertices written)."""
    return (
        OUTPUT_SECONDS_FIXED
        + per_account * accounts
        + OUTPUT_SECONDS_PER_POLYGON * polygons
        + OUTPUT_SECONDS_PER_VERTEX * vertices
    )


@dataclass
class TimeBudget:
    start: float  # time.perf_counter() when the command started
    deadline: float  # when the solve must be over (outputs excluded)
    limit: float | None  # the command's --time-limit (None: none)
    # the moment past which the command would break its promise (``promise_end``): a stage's least time
    # (an LP round that must end, a MIP's setup) may run past ``deadline`` but never past this. At
    # --time-limit 1 on 1,300 cities x 40 reps, reading the inputs took 1.7 s and the LP's second round
    # ended at 3.0 s: the command took 4.2 s of the 3.05 s promised (QA28 F7)
    last: float = NO_LIMIT
    # when the command started, for a stage's budget (``child``, ``within``) whose ``start`` is its own:
    # the run's history counts from it (QA82 F5: a stage's events at 0.28 s after the command's at 1.77 s)
    origin: float | None = None

    @property
    def began(self) -> float:
        """When the command started (``start`` for a command's own budget)."""
        return self.start if self.origin is None else self.origin

    def past_last(self) -> bool:
        return time.perf_counter() >= self.last

    @classmethod
    def for_command(
        cls,
        time_limit: float | None,
        *,
        started: float | None = None,
        accounts: int = 0,
        per_account: float = OUTPUT_SECONDS_PER_ACCOUNT,
        reserve: float | None = None,
    ) -> TimeBudget:
        """The command's budget; ``reserve`` (seconds, see ``output_reserve``) defaults to the reserve
        of ``accounts`` point accounts. At most ``MAX_RESERVE_SHARE`` of the limit is kept back."""
        start = time.perf_counter() if started is None else started
        if time_limit is None:
            return cls(start, start + NO_LIMIT, None)
        if reserve is None:
            reserve = output_reserve(accounts, per_account=per_account)
        last = promise_end(start, time_limit, reserve)
        reserve = min(reserve, MAX_RESERVE_SHARE * time_limit)
        deadline = start + time_limit - reserve
        return cls(start, deadline, time_limit, max(last, deadline))

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
        return TimeBudget(time.perf_counter(), self.share(name), self.limit, self.last, self.began)

    def within(self, deadline: float) -> TimeBudget:
        """A budget from now to ``deadline`` that keeps the command's limit (for its messages: QA14, a
        stage's 11.2426 s was shown as the user's --time-limit, with "try --time-limit 30" at 30)."""
        return TimeBudget(time.perf_counter(), deadline, self.limit, self.last, self.began)

    def suggest(self) -> float:
        """A --time-limit worth trying when this one was too short for any plan."""
        base = self.limit if self.limit is not None else self.elapsed()
        return float(max(2 * base, self.elapsed() * 2, 30.0))
