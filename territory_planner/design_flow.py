"""``--design-districts N`` end to end (alternating): territories without district rows, the grouping of
``optimize.design``, territories again with the district rows; the bound stated for what was proven.

The lower bound reported is that of the first solve, the model without district rows: every plan of the
joint problem (any grouping) is a plan of that model, so it bounds the joint problem. The bound of the
second solve holds only for the grouping chosen; summary.json gives both (``hierarchy.district.design``).

The first plan always meets the district band of the chosen grouping (the grouping MIP keeps each
district's first-plan totals within it), so it is the second solve's plan to beat (its warm start), and
the answer when the second solve finds nothing better in time. When the district band is implied by the
territory bands (a district tolerance at least the territory tolerance), the district rows change
nothing: the second solve is skipped and the first one gets most of the time.

With an adjacency (areas, polygon accounts, ``--adjacency``) the districts are connected (SPEC): the
grouping joins reps whose first-plan pieces form one piece per district (``design.Pieces``, cut
rounds), and the second solve keeps each unit in its first-plan district (a unit may only go to the
reps of its district), so every district is the same connected set of units. When no grouping of the
first plan's pieces is connected (its territories are scattered, or regions fix the grouping), the
district contiguity stage (``--district-contiguous``'s) moves units until the chosen grouping's
districts are connected, and the second solve starts from its plan. When HiGHS proves that grouping
impossible to connect within the bands, the homes' cells are grouped again without it (a no-good row
excludes that partition whatever its seats) and the stage tries the next grouping, while time is left;
when it finds none, the districts are not all connected and a note says so (the plan is not withheld).
With ``--contiguous`` the first plan's territories are made connected before the grouping (each is then
one piece, and the grouping joins neighbouring territories), and the district contiguity stage keeps them
connected.
"""

from __future__ import annotations

import dataclasses
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np

from territory_planner.errors import Conflict, InfeasibleError, InputError, Problem, SolverError
from territory_planner.geo.adjacency import Adjacency
from territory_planner.model.plan import SolveResult
from territory_planner.model.problem import TerritoryProblem
from territory_planner.optimize import design, hierarchy, pipeline, repair
from territory_planner.optimize.budget import SHARES, TimeBudget
from territory_planner.optimize.district_contiguity import district_pieces
from territory_planner.optimize.nested_districts import NO_START, within_districts
from territory_planner.optimize.spec import ModelSpec
from territory_planner.report.formatting import counted
from territory_planner.solvers.base import Backend

FIRST_SHARE = SHARES["design_first"]  # of the time: the territories without district rows
FIRST_SHARE_IMPLIED = SHARES["design_first_implied"]  # the same when the district band is implied
FIRST_SHARE_CONNECT = SHARES["design_first_connect"]  # the same with an adjacency
GROUPING_SHARE = SHARES["design_grouping"]  # of the time left after them: the grouping MIP
CONTIGUOUS_SHARE = SHARES["design_contiguous"]  # with --contiguous: the first plan's territories connected
CONNECT_SHARE = SHARES["design_connect"]  # no connected grouping: the district contiguity stage
CONNECT_SHARE_IMPLIED = SHARES["design_connect_implied"]  # the same, no second solve needed after it
RETRY_SECONDS = 3.0  # time left below which no other grouping is tried after a proof for one


@dataclass(frozen=True)
class Attempt:
    """What a contiguity stage gave: a plan connected at its level that meets every row of the model it
    was given (``found``: the plan and the stage's result), or none; ``proven_none``: HiGHS proved that
    model has no such plan (for the designed districts: that grouping cannot be connected)."""

    found: tuple[np.ndarray, SolveResult] | None = None
    proven_none: bool = False
    why: str = ""  # neither: why the stage's two levels gave no plan (said in the notes: QA92 F2)


Connect = Callable[[ModelSpec, np.ndarray, SolveResult, float], Attempt]


@dataclass(frozen=True)
class GroupingRule:
    """How the reps make a district: mean +- ``spread`` reps by capacity, within one region when
    ``regions_kept``. SPEC's rule is (1, kept); ``--relax`` widens it (``relaxed_rule``) only when
    ``conflict`` proved that no grouping of SPEC's rule nests in the regions, and the plan written is then
    marked relaxed (``rule_violations``: QA31 F1d, --relax wrote nothing)."""

    spread: float = 1.0
    regions_kept: bool = True
    conflict: Conflict | None = None
    has_regions: bool = True  # the reps have regions (the notes speak of them only then: QA53 F5)


def relaxed_rule(problem: TerritoryProblem, n: int, conflict: Conflict) -> GroupingRule:
    """The least widening of SPEC's rule that admits ``n`` districts: the least spread of rep counts that
    nests in the regions (``design.least_spread``), or, with more regions than districts (no spread
    nests), districts that may span regions, with the least spread that then admits ``n``."""
    regions = _regions(problem)
    has = regions is not None
    if regions is None:  # a rep above mean + 1, or capacities that make no whole districts (QA51 F2)
        regions = np.zeros(problem.n_reps, dtype=str)
    spread = design.least_spread(problem.capacity, regions, n)
    if spread is not None:
        return GroupingRule(max(spread, 1.0), True, conflict, has)
    anywhere = np.zeros(problem.n_reps, dtype=str)
    spread = design.least_spread(problem.capacity, anywhere, n)
    return GroupingRule(1.0 if spread is None else max(spread, 1.0), False, conflict)


def rule_violations(
    problem: TerritoryProblem, district: np.ndarray, n: int, rule: GroupingRule
) -> list[dict[str, object]]:
    """Each district of a grouping made under a widened rule that breaks SPEC's: ``district_reps`` by how
    far its capacity lies beyond mean +- 1, ``district_region`` by how many regions beyond one it spans."""
    if rule.conflict is None:
        return []
    mean = float(problem.capacity.sum()) / n
    regions = np.char.strip(np.asarray(problem.rep_regions, dtype=str))
    out: list[dict[str, object]] = []
    for k in range(n):
        members = district == k
        over = abs(float(problem.capacity[members].sum()) - mean) - 1.0
        if over > 1e-9:
            out.append(hierarchy._violation("district_reps", district_label(k), "reps", over))
        spans = len(set(regions[members].tolist()) - {""})
        if spans > 1:
            out.append(hierarchy._violation("district_region", district_label(k), "", float(spans - 1)))
    return out


def _rule_text(rule: GroupingRule) -> str:
    """What the widened rule allows, for the progress line and the notes."""
    assert rule.conflict is not None
    where = (
        ""
        if not rule.has_regions
        else ", each in one region"
        if rule.regions_kept
        else ", some spanning regions (more regions than districts; each region a district spans beyond one "
        "is priced above any travel)"
    )
    # as shown: a spread of 1.0000004 from the bisection is +- 1 (QA51 F9: "+- 1 ... instead of +- 1")
    spread = (
        f"mean +- {rule.spread:.3g} reps by capacity instead of +- 1"
        if f"{rule.spread:.3g}" != "1"
        else "mean +- 1 reps by capacity"
    )
    reason = str(rule.conflict.extra.get("reason") or rule.conflict.message.split(". Choose")[0])
    return (
        f"{reason}; so the districts hold {spread}{where}: the least widening of that rule that admits the "
        "number of districts asked for"
    )


def with_rule_violations(result: SolveResult, info: dict[str, Any]) -> SolveResult:
    """The run's final result marked relaxed when the grouping broke SPEC's rule (``info``'s
    "rule_violations", kept apart from the stages after the design, which recompute the violations of the
    plan's rows); the proof that SPEC's rule has no grouping is a proof that no plan meets every
    constraint."""
    found = info.get("rule_violations") or []
    if not found:
        return result
    notes = result.notes if result.status == "relaxed" else (pipeline.RELAXED_NOTE, *result.notes)
    return result.relaxed(
        proven_infeasible=True,
        violations=(*result.violations, *found),
        notes=(*notes, *info.get("rule_notes", [])),
    )


def band_implied(problem: TerritoryProblem, spec: ModelSpec, tolerance: np.ndarray) -> bool:
    """Every rep band lies inside its share of the district band ((1 +- T) x its target) for every
    measure with a district tolerance, so every district of every grouping meets the district band
    whenever its reps meet theirs: the district rows change nothing."""
    t = tolerance[:, None]
    finite = np.isfinite(t)
    lo = np.where(finite, (1 - t) * problem.target, -np.inf)
    hi = np.where(finite, (1 + t) * problem.target, np.inf)
    slack = 1e-9 * np.maximum(np.abs(problem.target), 1.0)
    return bool((spec.lower >= lo - slack).all() and (spec.upper <= hi + slack).all())


def check_count(problem: TerritoryProblem, n: int) -> None:
    """More districts than reps is an options problem, in `validate` too (QA31 F6: "inputs are valid",
    then `plan` refused it; with regions it was blamed on them)."""
    if n > problem.n_reps:
        raise InputError(
            Problem(
                "options",
                None,
                "--design-districts",
                f"{n} districts for {problem.n_reps} reps: at most {problem.n_reps} (each district needs a "
                "rep)",
                str(n),
            )
        )


def _regions(problem: TerritoryProblem) -> np.ndarray | None:
    """The reps' regions, or None when no rep has one (then a district may hold any reps)."""
    regions = np.asarray(problem.rep_regions, dtype=str) if problem.rep_regions is not None else None
    return regions if regions is not None and bool((np.char.strip(regions) != "").any()) else None


def nesting_conflict(problem: TerritoryProblem, n: int) -> Conflict | None:
    """The proof, before any solve, that no grouping of the reps into ``n`` districts nests in their
    regions: a district holds mean +- 1 reps by capacity and lies in one region, so a region of capacity C
    holds k districts only if k (mean - 1) <= C <= k (mean + 1), and no choice of k per region adds up to
    ``n`` (``design.nesting_counts``, a necessary condition). A rep whose capacity alone is above mean + 1
    fits no district, regions or not, and is named (QA51 F1, F3: reps without regions passed, and with
    regions the regions were blamed). Without regions the reps must still make whole districts (exact
    where their capacities take few values). None when ``n`` passes."""
    regions = _regions(problem)
    within = regions if regions is not None else np.zeros(problem.n_reps, dtype=str)
    caps = problem.capacity
    mean = float(caps.sum()) / n
    hold = f"{counted(n, 'district')} {'holds' if n == 1 else 'hold'} {mean:.2f} +- 1 reps by capacity"
    counts_ok = design.nesting_counts(caps, within)
    allowed = ", ".join(map(str, counts_ok)) or "none"
    big = int(np.argmax(caps))
    if float(caps[big]) > mean + 1.0 + 1e-9:
        rep = problem.rep_ids[big]
        reason = (
            f"{hold} each, and {rep} alone has capacity {float(caps[big]):g}, above {mean + 1:.2f}: "
            f"numbers of districts the reps allow: {allowed}"
        )
        advice = (
            f"Choose one of those with --design-districts, or lower {rep}'s capacity"
            if counts_ok
            else f"Lower {rep}'s capacity"
        )
        return Conflict(
            family="district_design",
            message=f"{reason}. {advice}",
            rep_id=str(rep),
            extra={"allowed": counts_ok, "reason": reason},
        )
    if n in counts_ok:
        return None
    if regions is None:
        reason = (
            f"{hold} each; the reps' capacities (total {float(caps.sum()):g}) cannot be cut into "
            f"{counted(n, 'such district')}: numbers of districts they allow: {allowed}"
        )
        advice = "Choose one of those with --design-districts" if counts_ok else "Change the reps' capacities"
        return Conflict(
            family="district_design",
            message=f"{reason}. {advice}",
            extra={"allowed": counts_ok, "reason": reason},
        )
    names = np.unique(regions)
    per_region = ", ".join(
        f"{'(no region)' if not r.strip() else r} {float(caps[regions == r].sum()):g}" for r in names.tolist()
    )
    reason = (
        f"{hold} each, and a district lies in one region; the regions' capacities ({per_region}) cannot "
        f"be cut into {counted(n, 'such district')}: numbers of districts they allow: {allowed}"
    )
    advice = (
        "Choose one of those with --design-districts, or change the reps' region column"
        if counts_ok
        else "Change the reps' region column"
    )
    return Conflict(
        family="district_design",
        message=f"{reason}. {advice}",
        extra={"allowed": counts_ok, "capacity_by_region": per_region, "reason": reason},
    )


def step_conflict(problem: TerritoryProblem, n: int, tolerance: dict[str, float]) -> Conflict | None:
    """The proof, before any solve, that no grouping of the reps into ``n`` districts has a plan because
    of whole amounts (QA34 F3: `--district-tolerance 0` ended in exit 3 "not a proof for every grouping"
    after 13-25 s): when a measure's targets are proportional to the reps' capacities, a district's band is
    (1 +- T) x its capacity c x the target per unit of capacity, and c is a sum of rep capacities within
    mean +- 1; when no such c gives a band holding a whole multiple of the measure's step (the amounts'
    common divisor), every grouping's districts break it. None when that does not prove it (targets not
    proportional, too many capacity mixes to list, a band that holds one)."""
    from territory_planner.optimize.prechecks import exact
    from territory_planner.optimize.spec import amount_step, holds_no_multiple

    caps = problem.capacity
    if (caps <= 0).any():
        return None
    mean = float(caps.sum()) / n
    sums = design.district_sizes(caps, max(mean - 1.0, 0.0), mean + 1.0)
    if not sums:  # too many capacity mixes to list, or none
        return None
    bands: dict[str, tuple[float, float, float]] = {}  # measure: (tolerance, target per capacity, step)
    for m, measure in enumerate(problem.measures):
        t = tolerance.get(measure, tolerance.get("*", np.inf))
        step = amount_step(problem.unit_amount[:, m])
        per = problem.target[m] / caps
        if np.isfinite(t) and step > 0 and np.allclose(per, per[0], rtol=1e-9, atol=0.0):
            bands[measure] = (t, float(per[0]), step)

    def band(measure: str, c: float) -> str:
        t, r, _ = bands[measure]
        return f"{c:g}: {exact((1 - t) * r * c, measure)} to {exact((1 + t) * r * c, measure)}"

    def holds(measure: str, c: float) -> bool:
        t, r, step = bands[measure]
        return not holds_no_multiple((1 - t) * r * c, (1 + t) * r * c, step)

    for measure, (t, _, step) in bands.items():
        if not any(holds(measure, c) for c in sums):
            shown = ", ".join(band(measure, c) for c in sums[:4])
            more = f" and {len(sums) - 4} more" if len(sums) > 4 else ""
            return Conflict(
                family="district_design",
                message=(
                    f"{n} districts hold {mean:.2f} +- 1 reps by capacity, so a district's {measure} band "
                    f"at --district-tolerance {t:g} is, by its reps' capacity, {shown}{more}: none holds a "
                    f"total whole accounts can make (their {measure} values are whole multiples of "
                    f"{exact(step, measure)}), whatever the grouping; widen --district-tolerance"
                ),
                measure=measure,
            )
    # each capacity alone may hold one, and still no cut of the reps into such districts exists (QA35 F2:
    # NC at 2e-5, only districts of 3 reps or more could, and 4 of them do not add up to 9)
    admissible = {c for c in sums if all(holds(measure, c) for measure in bands)}
    if not bands or len(admissible) == len(sums):
        return None
    regions = _regions(problem)
    nested = regions is not None
    cut = regions if regions is not None else np.zeros(problem.n_reps, dtype=str)
    if design.nests(caps, cut, n, 1.0, admit=lambda c: round(c, 9) in admissible):
        return None
    ok = ", ".join(f"{c:g}" for c in sorted(admissible)) or "none"
    shut = [c for c in sums if c not in admissible][:3]  # the bands that hold none, as examples
    shown = "; ".join(band(measure, c) for measure in bands for c in shut if not holds(measure, c))
    return Conflict(
        family="district_design",
        message=(
            f"{n} districts hold {mean:.2f} +- 1 reps by capacity; at --district-tolerance, only "
            f"districts of {ok} reps by capacity have bands that hold a total whole accounts can make "
            f"(not: {shown}), and the reps{' of each region' if nested else ''} cannot be cut into {n} such "
            "districts, whatever the grouping; widen --district-tolerance"
        ),
    )


def _group(
    problem: TerritoryProblem,
    spec: ModelSpec,
    plan: np.ndarray,
    tol: np.ndarray,
    n: int,
    backend: Backend,
    budget: TimeBudget,
    solve_kw: dict[str, Any],
    adj: Adjacency | None,
    centre: np.ndarray | None = None,
    exclude: tuple[np.ndarray, ...] = (),
    rule: GroupingRule | None = None,
    build: Callable[[TerritoryProblem], ModelSpec] | None = None,
) -> design.Grouping | None:
    """The grouping of the reps around seats (``rule``: SPEC's unless ``--relax`` widened it); with
    ``adj``, connected over the plan's pieces, else (the plan's territories scattered) over the cells of
    the reps' homes (``centre``: their units), which the district contiguity stage then makes the plan
    follow. ``exclude``: groupings already proven impossible to connect, or for which the district stage
    built no connected start; with any, only the homes' cells are grouped (the plan's pieces admitted no
    connected grouping the first time). None when no grouping was found."""
    p = problem.n_reps
    measures = range(len(problem.measures))

    def loads(basis: np.ndarray) -> np.ndarray:  # (M, p): each rep's totals in the plan (or cells) grouped
        return np.vstack(
            [np.bincount(basis, weights=problem.unit_amount[:, m], minlength=p) for m in measures]
        )

    rule = rule or GroupingRule()
    regions = _regions(problem)
    nested = regions is not None and rule.regions_kept
    same = (regions[:, None] == regions[None, :]) if nested and regions is not None else None

    apart = None  # --relax with districts across regions: a rep away from its seat's region costs more
    if not rule.regions_kept and regions is not None:
        apart = regions[:, None] != regions[None, :]

    def group(
        basis: np.ndarray,
        pieces: design.Pieces | None,
        band: np.ndarray = tol,
        exclude: tuple[np.ndarray, ...] = exclude,
    ) -> design.Grouping | None:
        travel = design.rep_travel(spec.cost, basis, p)
        if apart is not None:
            travel = travel + apart * (4.0 * float(travel.max(initial=0.0)) + 1.0)
        return design.group_nearest_first(
            travel, problem.capacity, loads(basis), problem.target, band, n, backend,
            time_limit=max(GROUPING_SHARE * budget.remaining(), 1.0),
            seed=solve_kw["seed"], threads=solve_kw["threads"], allowed=same, pieces=pieces,
            exclude=exclude, spread=rule.spread, regions=regions if apart is not None else None,
        )  # fmt: skip

    if exclude:  # a later try: the homes' cells, or nothing
        assert adj is not None
        assert centre is not None
        cells = design.home_cells(adj, centre, spec.cost)
        cell_pieces = design.Pieces.of_plan(adj, cells, p)
        # every other try leaves the band to the district contiguity stage, which moves units and proves
        # with the real bands: the band (here on the cells' totals) is no condition a connected plan must
        # meet, and the groupings meeting it can all be unconnectable (QA64 F2: 73 Eurasian countries x 10
        # reps into 4 districts, 20 of them proven so in 25 s of 30, exit 3, where a grouping left out by
        # it has a connected plan)
        no_band = np.full_like(tol, np.inf)
        around = group(cells, cell_pieces, no_band if len(exclude) % 2 == 0 else tol)
        if around is None and len(exclude) % 2 == 1:
            around = group(cells, cell_pieces, no_band)
        return dataclasses.replace(around, connected=False, basis="homes") if around else None
    pieces = None if adj is None else design.Pieces.of_plan(adj, plan, p)  # the first plan's, once
    grouping = group(plan, pieces)
    weigh = (
        None
        if build is None
        else _Weighing.of(problem, spec, plan, group, pieces, backend, budget, solve_kw, build)
    )
    if grouping is not None and grouping.connected is False and np.isfinite(tol).any() and weigh is not None:
        compact = _compact_instead(weigh, grouping)
        if compact is not None:
            grouping = compact
    if grouping is not None and grouping.connected is True and weigh is not None:
        return _ranked_by_lp(weigh, grouping)
    if grouping is not None and grouping.connected is False and centre is not None and (centre >= 0).any():
        assert adj is not None
        cells = design.home_cells(adj, centre, spec.cost)
        cell_pieces = design.Pieces.of_plan(adj, cells, p)
        # the cells without the district band: the stage moves units and holds the real bands, and the
        # cells' own totals are no condition a connected plan must meet (QA92 F2: 402 German Kreise x 12
        # reps into 3 districts at +-5%, no grouping of the cells met the band connected and the stage got
        # the band's grouping of the plan, interleaved: districts in 7/5/4 pieces; QA96 F2: on 254 Texas
        # counties x 16 reps the band on the cells' totals had no connected grouping either, and its search
        # took 6 s of the stage's time). The band's grouping is kept for the plan written if these
        # districts cannot be connected
        around = group(cells, cell_pieces, np.full_like(tol, np.inf))
        if around is not None and around.connected:  # connected cells; the plan's districts are not yet
            kept = grouping if np.isfinite(tol).any() else around.kept
            grouping = dataclasses.replace(around, connected=False, basis="homes", kept=kept)
    if grouping is None and np.isfinite(tol).any():
        # no grouping of the first plan's territories meets the district band (QA10 O2: 761 Brazilian
        # cities, 16 reps in 2 regions, districts at +-4%: exit 3 at 37 s of 90, though the reps' own
        # districts meet the band): group the reps by travel alone, regions kept, and let the second solve
        # put the district rows on that grouping
        free = group(plan, pieces, np.full_like(tol, np.inf))
        if free is not None:
            return dataclasses.replace(free, basis="travel, band left to the second solve")
    if grouping is None:
        within = ""
        if nested and regions is not None:
            names, counts = np.unique(regions, return_counts=True)
            sizes = ", ".join(f"{k} {c}" for k, c in zip(names.tolist(), counts.tolist(), strict=True))
            counts_ok = design.nesting_counts(problem.capacity, regions, rule.spread)
            within = (
                f", each district within one region (reps per region: {sizes}; a district holds "
                f"{problem.capacity.sum() / n:.1f} +- {rule.spread:.3g} reps by capacity; numbers of "
                "districts the regions' rep counts allow at best: "
                f"{', '.join(map(str, counts_ok)) or 'none'})"
            )
        raise SolverError(
            f"no grouping of the {p} reps into {n} districts within the district band{within} was found "
            "for the first territory plan; this is not a proof that none exists: try a wider "
            "--district-tolerance, another number of districts or a longer --time-limit"
        )
    return grouping


COMPACT_PAIRS = 60_000  # (unit, rep) pairs up to which a compact grouping is weighed against the band's
COMPACT_GAIN = 0.05  # the share of the seat travel a compact grouping must save to be weighed
COMPACT_BASIS = "travel, connected; band left to the second solve"
COMPACT_MIN_SECONDS = 8.0  # time left, after the first plan, below which the band's grouping is kept


@dataclass(frozen=True)
class _Weighing:
    """What another grouping of the first plan's territories is weighed with: the model, the first plan
    and its connected pieces on the map, the grouping MIP (``group``), and ``build`` for a grouping's
    model."""

    problem: TerritoryProblem
    spec: ModelSpec
    plan: np.ndarray
    group: Callable[..., design.Grouping | None]
    pieces: design.Pieces
    backend: Backend
    budget: TimeBudget
    solve_kw: dict[str, Any]
    build: Callable[[TerritoryProblem], ModelSpec]

    @classmethod
    def of(
        cls,
        problem: TerritoryProblem,
        spec: ModelSpec,
        plan: np.ndarray,
        group: Callable[..., design.Grouping | None],
        pieces: design.Pieces | None,
        backend: Backend,
        budget: TimeBudget,
        solve_kw: dict[str, Any],
        build: Callable[[TerritoryProblem], ModelSpec],
    ) -> _Weighing | None:
        """None when no other grouping is weighed: no adjacency (no ``pieces``), a model above
        ``COMPACT_PAIRS`` pairs (the LP would take the second solve's time), or less than
        ``COMPACT_MIN_SECONDS`` left (the second solve of another grouping starts from no plan and its
        districts need the contiguity stage: at 5 to 8 s on NC it ended 1.5-3.2% above the band's grouping
        with a district still in pieces, QA55 F1)."""
        if pieces is None or int(spec.allowed.sum()) > COMPACT_PAIRS:
            return None
        if budget.limited and budget.remaining() < COMPACT_MIN_SECONDS:
            return None
        return cls(problem, spec, plan, group, pieces, backend, budget, solve_kw, build)

    def lp(self, district: np.ndarray | None, deadline: float) -> float:
        """The LP bound of the model with ``district``'s rows (None: the model without district rows);
        inf when it has no solution within them (or did not solve by ``deadline``)."""
        from territory_planner.errors import SolverError
        from territory_planner.optimize import lp as lpmod
        from territory_planner.optimize import proofs

        if district is None:
            grouped = self.spec
        else:
            labels = np.array([district_label(k) for k in district], dtype=str)
            grouped = self.build(dataclasses.replace(self.problem, rep_districts=labels))
        try:
            res = lpmod.solve_lp(
                grouped, self.backend, grouped.allowed.copy(), deadline=deadline,
                seed=self.solve_kw["seed"], threads=self.solve_kw["threads"],
            )  # fmt: skip
        except SolverError:
            return float("inf")
        if not res.converged or proofs.scaled_violation(grouped, res) > proofs.FEASIBILITY_TOL:
            return float("inf")
        return float(res.objective)


def _compact_instead(weigh: _Weighing, grouping: design.Grouping) -> design.Grouping | None:
    """A grouping whose districts are connected over the first plan's pieces, the district band left to
    the second solve, in place of ``grouping`` (band met on the first plan, districts in several pieces),
    when it saves at least ``COMPACT_GAIN`` of the seat travel and the LP of its model with the district
    rows is feasible; None otherwise. QA51 F4: on NC's 100 counties at +-4% the band's grouping
    interleaved (D01 = {R1, R3}, D02 = {R2, R4}) and its connected plan was 33,115, where the grouping by
    neighbours, connected at once and 9% off the band on the first plan, has an optimum of 30,110."""
    free = weigh.group(weigh.plan, weigh.pieces, np.full(len(weigh.problem.measures), np.inf))
    if free is None or free.connected is not True or design.same_grouping(free.district, grouping.district):
        return None
    if free.travel > (1.0 - COMPACT_GAIN) * grouping.travel:
        return None
    budget = weigh.budget
    seconds = min(5.0, 0.1 * budget.remaining()) if budget.limited else 5.0
    if not np.isfinite(weigh.lp(free.district, time.perf_counter() + seconds)):
        return None
    return dataclasses.replace(free, basis=COMPACT_BASIS)


RANKED = 8  # connected groupings weighed by their model's LP (the chosen one and the next by travel)
RANK_SHARE = 0.2  # of the time left: the share they may take
# the least relative LP gain for which another grouping replaces the chosen one (or the run's --gap when
# larger): LP bounds a few units apart tell groupings apart no better than noise (QA71 F1: 195 tracts at
# +-15%, another grouping 0.008% lower in the LP, its plan 2.7% worse than the chosen one's proven optimum)
RANK_MARGIN = 0.001
RANKED_BASIS = "travel, connected; the least LP of its model with the district rows"


def _ranked_by_lp(weigh: _Weighing, grouping: design.Grouping) -> design.Grouping:
    """Of ``grouping`` (connected on the first plan's pieces) and the next ``RANKED - 1`` groupings by
    seat travel connected on them too, the one whose model with the district rows has the least LP
    bound: the travel to the seats says how compact the districts are, not what the district rows cost
    the territories (QA66 F3: 195 Albuquerque tracts x 6 reps into 2 districts, the grouping of least seat
    travel had the worst LP of the 20 the rule allows, 21,965 against 21,806, and its connected plan was
    23,059 where another's is 22,152)."""
    budget = weigh.budget
    end = time.perf_counter() + RANK_SHARE * budget.remaining() if budget.limited else float("inf")

    def bound(g: design.Grouping | None) -> float:
        return weigh.lp(None if g is None else g.district, min(end, time.perf_counter() + 5.0))

    margin = max(RANK_MARGIN, float(weigh.solve_kw.get("gap") or 0.0))
    best, least = grouping, bound(grouping)
    if least <= (1.0 + margin) * bound(None):
        return grouping  # the district rows cost the chosen grouping (next to) nothing: none can gain
    no_band = np.full(len(weigh.problem.measures), np.inf)
    seen = [grouping.district]
    while len(seen) < RANKED and time.perf_counter() < end:
        other = weigh.group(weigh.plan, weigh.pieces, no_band, exclude=tuple(seen))
        if other is None or other.connected is not True:
            break
        seen.append(other.district)
        value = bound(other)
        if value < (1.0 - margin) * least:
            best, least = other, value
    if best is grouping:
        return grouping
    return dataclasses.replace(best, basis=f"{RANKED_BASIS} ({len(seen)} weighed)")


def _first_plan(
    spec: ModelSpec,
    backend: Backend,
    first_budget: TimeBudget,
    budget: TimeBudget,
    solve_kw: dict[str, Any],
) -> tuple[np.ndarray, SolveResult]:
    """The territories without district rows, in their share of the time. When that share ends with no
    plan at all, the grouping has nothing to group: the search goes on with ``design_first_retry`` of the
    time left (the grouping and the second solve keep the rest) instead of ending the run with most of
    its time unused (QA14: exit 3 at 13.4 s of a 30-s run, the first plan's share being 11.2 s)."""
    try:
        return pipeline.solve(spec, backend, budget=first_budget, **solve_kw)
    except SolverError:  # no plan yet (a proof, InfeasibleError, is not caught)
        if not budget.limited or budget.remaining() <= RETRY_SECONDS:
            raise
        progress = solve_kw.get("progress") or (lambda _m: None)
        progress(f"no plan in the first plan's share: the search goes on with {budget.remaining():.0f}s left")
        retry = budget.within(budget.share("design_first_retry"))
        try:
            return pipeline.solve(spec, backend, budget=retry, **solve_kw)
        except SolverError as err:
            # the time kept for the grouping and the second solve is said, not left unexplained (QA34 F5:
            # "no plan found yet in the time limit of 60s" at 50 s)
            raise SolverError(
                f"{err} [--design-districts: the territories without district rows had "
                f"{budget.elapsed():.0f}s of the run; the {budget.remaining():.0f}s left were kept for the "
                "grouping and the second solve, which need a first plan]"
            ) from err


@dataclass
class _Design:
    """What the steps of ``design_districts`` share and hand on: the inputs, the first plan, the grouping
    chosen with its problem and model, and what the contiguity stages and the second solve made of it."""

    problem: TerritoryProblem
    spec: ModelSpec
    build: Callable[[TerritoryProblem], ModelSpec]
    n: int
    backend: Backend
    budget: TimeBudget
    solve_kw: dict[str, Any]
    adj: Adjacency | None
    connect: Connect | None
    centre: np.ndarray | None
    rule: GroupingRule
    implied: bool  # the district band is implied by the territory bands
    band: np.ndarray  # the district band the grouping must meet (inf where implied)
    plan1: np.ndarray  # the first plan (without district rows), connected by a stage where one ran
    res1: SolveResult
    shaped: bool  # the first plan's territories were made connected (``--contiguous``)
    grouping: design.Grouping  # the grouping chosen, its problem and model (with the district rows)
    problem2: TerritoryProblem
    spec2: ModelSpec
    connected: bool | None
    reconnected: bool = False  # the district contiguity stage moved the first plan's units
    proven: list[np.ndarray] = dataclasses.field(default_factory=list)  # groupings proven unconnectable
    # groupings for which the two levels built no connected start (no proof): not offered again
    unstarted: list[np.ndarray] = dataclasses.field(default_factory=list)
    unproven: bool = False  # the last grouping tried was neither connected nor proven impossible
    why: str = ""  # then why the district contiguity stage's two levels gave no plan of it
    joined_by_stage: bool = False  # the second solve's plan connected by the district contiguity stage
    restricted: bool = False  # the second solve kept units in their districts, found none, and freed them

    def grouped(self, g: design.Grouping) -> tuple[TerritoryProblem, ModelSpec]:
        return _grouped(self.problem, self.build, g)

    def chosen(self) -> tuple[design.Grouping, TerritoryProblem, ModelSpec]:
        return self.grouping, self.problem2, self.spec2

    def seconds(self, share: float) -> float:
        return max(share * self.budget.remaining() if self.budget.limited else float("inf"), 1.0)


def _grouped(
    problem: TerritoryProblem, build: Callable[[TerritoryProblem], ModelSpec], g: design.Grouping
) -> tuple[TerritoryProblem, ModelSpec]:
    """The problem with grouping ``g``'s districts, and its model (with the district rows)."""
    labels = np.array([district_label(k) for k in g.district], dtype=str)
    pr = dataclasses.replace(problem, rep_districts=labels)
    return pr, build(pr)


def design_districts(
    problem: TerritoryProblem,
    spec: ModelSpec,
    build: Callable[[TerritoryProblem], ModelSpec],
    tolerance: dict[str, float],
    n: int,
    backend: Backend,
    budget: TimeBudget,
    solve_kw: dict[str, Any],
    adj: Adjacency | None = None,
    connect: Connect | None = None,
    contiguous: Connect | None = None,
    centre: np.ndarray | None = None,
) -> tuple[TerritoryProblem, ModelSpec, np.ndarray, SolveResult, dict[str, Any]]:
    """``adj`` (the units' adjacency, when known): the districts are made connected (module docstring);
    ``connect(spec, plan, result, seconds)`` a plan of connected districts of the chosen grouping near
    ``plan``, or None (the district contiguity stage), when the grouping's districts are not;
    ``contiguous`` likewise a plan of connected territories (``--contiguous``) made from the first plan
    before the grouping; ``centre`` the reps' home units (-1: none), for grouping them by the cells of
    their homes when the first plan's pieces admit no connected grouping. The returned info's
    "unconnected_notes" are not in the result's notes: the caller adds them if the districts stay split."""
    rule, steps = _rule_for(problem, n, tolerance, solve_kw)
    tol = np.array([tolerance.get(m, tolerance.get("*", np.inf)) for m in problem.measures], dtype=float)
    implied = band_implied(problem, spec, tol)
    share = FIRST_SHARE if not implied else FIRST_SHARE_IMPLIED if adj is None else FIRST_SHARE_CONNECT
    first_budget = (
        budget.within(time.perf_counter() + share * budget.remaining()) if budget.limited else budget
    )
    plan1, res1 = _first_plan(spec, backend, first_budget, budget, solve_kw)
    started = time.perf_counter()  # the grouping and its districts made connected: summary's design stage
    band = np.full_like(tol, np.inf) if implied else tol  # implied: every grouping meets it
    shaped = None
    if contiguous is not None:  # connected territories first: the grouping then joins whole territories
        seconds = CONTIGUOUS_SHARE * budget.remaining() if budget.limited else float("inf")
        shaped = contiguous(spec, plan1, res1, max(seconds, 1.0)).found
        if shaped is not None:  # its bound holds for connected territories: the plans asked for
            plan1, res1 = shaped
    # the compact grouping only where it was measured to help: not with --relax (its second solve keeps
    # units in their first-plan districts and wrote districts 9% off a 4% band, QA55 F5, F6) nor with
    # --contiguous (the second solve cuts territories the contiguity stage then cannot mend: exit 3 where
    # the band's grouping had a plan, QA55 F4)
    compact = build if not solve_kw.get("relax") and contiguous is None else None
    grouping = _group(
        problem, spec, plan1, band, n, backend, budget, solve_kw, adj, centre, rule=rule, build=compact
    )
    assert grouping is not None  # _group raises when the first grouping finds none
    d = _Design(
        problem, spec, build, n, backend, budget, solve_kw, adj, connect, centre, rule, implied, band, plan1,
        res1, shaped is not None, grouping, *_grouped(problem, build, grouping), grouping.connected,
    )  # fmt: skip
    _connect_grouping(d)
    design_seconds = time.perf_counter() - started
    try:
        plan2, res2, second = _second_solve(d)
    except SolverError as err:  # what the time before the second solve went to (QA111 F1)
        first = sum(res1.stages.values())
        raise SolverError(
            f"{err} (that was the design's second solve; before it the first solve took {first:.1f}s and "
            f"the grouping into districts {design_seconds:.1f}s)"
        ) from err
    grouping, problem2, spec2 = d.chosen()
    joint = d.res1.lower_bound
    gap = max(0.0, (res2.objective - joint) / res2.objective) if res2.objective > 0 else 0.0
    optimal = bool(np.isfinite(joint) and gap <= pipeline.OPTIMALITY_TOL)
    # a bound for any grouping holds for the chosen one too: the larger of the two (QA51 F10: "for the
    # chosen grouping it is 361,449.4" beside 361,450.3 for any grouping)
    chosen_bound = max(res2.lower_bound, joint) if np.isfinite(res2.lower_bound) else res2.lower_bound
    notes = _design_notes(d, res2, chosen_bound)
    relaxed = res2.status == "relaxed"  # --relax: the grouping's rows broken, its proof for it alone
    result = dataclasses.replace(
        res2,
        status="relaxed" if relaxed else "optimal" if optimal else "feasible",
        proven_optimal=optimal and not relaxed,
        lower_bound=min(joint, res2.objective),
        gap=float("nan") if relaxed else gap,
        # a proof for the chosen grouping is not one for the model (another grouping may have plans),
        # unless the model without district rows had none either (QA34: "proven" beside a plan "feasible")
        proven_infeasible=d.res1.proven_infeasible or (relaxed and steps is not None),
        notes=(*res2.notes, *notes, *([f"district_design: {steps.message}"] if relaxed and steps else [])),
        method=f"design({d.res1.method})+{res2.method}",
        **_design_stages(d, res2, design_seconds),
    )
    connected = d.connected
    info = {
        "method": "alternating",
        "districts": n,
        "seats": {district_label(k): str(problem.rep_ids[s]) for k, s in enumerate(grouping.seats.tolist())},
        "seat_travel": grouping.travel,
        "grouping_pairs": grouping.pairs,
        "grouping_rounds": grouping.rounds,
        "grouping_basis": grouping.basis,
        "connected": connected,
        "groupings_proven_unconnectable": len(d.proven),
        "connected_by": (
            None if not connected else "grouping" if grouping.connected else "district_contiguity"
        ),
        "second_solve": second,
        "band_implied": implied,
        "joint_lower_bound": joint,
        "grouping_lower_bound": chosen_bound,
        # the notes that the districts are not all connected, for the caller to add when they stay so: the
        # district contiguity stage after the design may connect them (QA31 F3)
        "unconnected_notes": _unconnected_notes(d),
        # --relax when SPEC's grouping rule has no grouping: how the districts break it
        # (``with_rule_violations``)
        "rule_violations": rule_violations(problem, grouping.district, n, rule),
        "rule_notes": [f"relaxed: {_rule_text(rule)}"] if rule.conflict is not None else [],
    }
    return problem2, spec2, plan2, result, info


def _rule_for(
    problem: TerritoryProblem, n: int, tolerance: dict[str, float], solve_kw: dict[str, Any]
) -> tuple[GroupingRule, Conflict | None]:
    """The grouping rule, and the district band's step conflict (every grouping breaks the band) if any.
    Either proof ends the run before any solve, unless ``--relax`` (then the rule is widened)."""
    check_count(problem, n)
    conflict = nesting_conflict(problem, n)
    rule = GroupingRule()
    steps = step_conflict(problem, n, tolerance)
    if steps is not None and not solve_kw.get("relax"):  # proven before any solve: every grouping breaks it
        raise InfeasibleError(
            f"no grouping of the {problem.n_reps} reps into {n} districts has a plan within the district "
            "band",
            [steps],
        )
    if conflict is not None and not solve_kw.get("relax"):  # proven before any solve: none nests
        one_region = ", each in one region" if _regions(problem) is not None else ""
        raise InfeasibleError(
            f"no grouping of the {problem.n_reps} reps into {n} districts meets the design's rule "
            f"(districts of mean +- 1 reps by capacity{one_region})",
            [conflict],
        )
    if conflict is not None:
        rule = relaxed_rule(problem, n, conflict)
        progress = solve_kw.get("progress") or (lambda _m: None)
        progress(f"relaxed: {_rule_text(rule)}")
    return rule, steps


def _connect_grouping(d: _Design) -> None:
    """While the chosen grouping's districts are not connected: the district contiguity stage moves the
    first plan's units until they are; when HiGHS proves a grouping impossible to connect, another
    grouping of the homes' cells is tried (while time is left). A grouping of the homes' cells made
    without the district band (``Grouping.kept``) that the stage does not connect gives way to the band's
    grouping of the first plan first. Each unit then stays in its district."""
    trial, trial_problem, trial_spec = d.chosen()
    progress = d.solve_kw.get("progress") or (lambda _m: None)
    while d.connected is False and d.connect is not None:  # the units move until the districts are connected
        share = CONNECT_SHARE_IMPLIED if d.implied else CONNECT_SHARE  # implied: the first plan stands
        attempt = d.connect(trial_spec, d.plan1, d.res1, d.seconds(share))
        found = attempt.found
        if found is not None and repair.feasible(trial_spec, found[0]):
            # its bound holds for the grouping only: the joint bound stays res1's
            d.plan1, d.connected, d.reconnected = found[0], True, True
            d.grouping, d.problem2, d.spec2 = trial, trial_problem, trial_spec
            break
        if attempt.proven_none:
            d.proven.append(trial.district)  # another grouping of the homes' cells, not this one
            d.unproven, d.why = False, ""  # the last grouping tried is this proven one
            progress(
                f"designed districts: HiGHS proved that grouping {len(d.proven)} "
                f"({'; '.join(_members(d.problem, trial))}) cannot be connected within the bands"
            )
        left = not d.budget.limited or d.budget.remaining() >= RETRY_SECONDS
        if trial.kept is not None and left and not attempt.proven_none:
            # no plan and no proof for the cells' grouping made without the band: the band's grouping of
            # the first plan next (QA92 F2); a grouping proven impossible gives way to another grouping of
            # the cells, as before (the 48 states in 3 districts: the fourth is connected)
            progress(
                "designed districts: the district contiguity stage on the band's grouping of the first plan"
            )
            trial = trial.kept
            trial_problem, trial_spec = d.grouped(trial)
            continue
        if not attempt.proven_none:
            d.unproven, d.why = True, attempt.why  # no proof: another grouping would meet the same search,
            if not (left and attempt.why.startswith(NO_START)):
                break
            # unless the search never started on this grouping's homes (QA96 F2: 254 Texas counties x 16
            # reps in 4 districts, no connected start for the grouping chosen and its districts written in
            # 3 and 4 pieces, where a run whose first plan led to another grouping connected them)
            d.unstarted.append(trial.district)
            members = "; ".join(_members(d.problem, trial))
            progress(
                f"designed districts: no connected start for that grouping ({members}): another grouping"
            )
        if not left:
            break
        again = _group(
            d.problem, d.spec, d.plan1, d.band, d.n, d.backend, d.budget, d.solve_kw, d.adj, d.centre,
            tuple(d.proven + d.unstarted), d.rule,
        )  # fmt: skip
        if again is None:
            break
        trial = again
        trial_problem, trial_spec = d.grouped(trial)
    grouping, _, spec2 = d.chosen()
    if not d.connected and grouping.kept is not None and not repair.feasible(spec2, d.plan1):
        # the cells' grouping made without the band was not connected either, and the first plan breaks
        # its band: the band's grouping of the first plan, which it meets, is the one written (as before)
        d.grouping, d.problem2, d.spec2 = grouping.kept, *d.grouped(grouping.kept)
        grouping, spec2 = d.grouping, d.spec2
    if d.connected:  # each unit stays in its district: the districts stay connected
        d.spec2 = within_districts(spec2, grouping.district, grouping.district[d.plan1])


def _second_solve(d: _Design) -> tuple[np.ndarray, SolveResult, str]:
    """The territories again, with the district rows of the chosen grouping, the first plan the one to
    beat (skipped where it stands: the band implied, or connected territories kept). Returns the plan, its
    result and what the second solve did (summary.json's ``second_solve``)."""
    grouping, _, spec2 = d.chosen()
    problem, plan1, res1, solve_kw, budget = d.problem, d.plan1, d.res1, d.solve_kw, d.budget
    first_fits = repair.feasible(spec2, plan1)
    obj1 = float(spec2.objective[np.arange(problem.n_units), plan1].sum())
    if first_fits and (d.implied or d.shaped) and not d.reconnected:  # the first plan stands
        # implied: the district rows change nothing; connected territories: a second solve would not
        # keep them connected, and the contiguity stage already optimised them
        why = "skipped (district band implied)" if d.implied else "skipped (connected first plan kept)"
        return plan1, dataclasses.replace(res1, objective=obj1), why
    # a plan to beat, named as what it is in the progress lines (QA26 F2)
    first = {"current_unit_rep": plan1, "current_name": "the plan of the first solve"}
    kw = {**solve_kw, **first} if first_fits else solve_kw
    kept_from = time.perf_counter()
    try:
        try:
            plan2, res2 = pipeline.solve(spec2, d.backend, budget=budget, **kw)
            second = "solved"
            if res2.status == "relaxed" and res2.proven_infeasible and d.connected and not d.restricted:
                # --relax: kept in their districts no plan meets the bands (proven), as the except below
                # finds without it; the grouping's own model may (QA110 F4: Tennessee's 8 reps by region,
                # +5.3% / +10.4% on D02 written where the same grouping has a plan within every band)
                kept_seconds = time.perf_counter() - kept_from
                plan_f, res_f, second_f = _units_free(d, grouping, budget, solve_kw)
                if res_f.status != "relaxed":
                    plan2, res2, second = plan_f, _after_kept(res_f, kept_seconds), second_f
                else:  # the districts of the first plan, kept connected, with the least violation found
                    d.spec2, d.connected, d.restricted, d.joined_by_stage = spec2, True, False, False
                    res2 = _after_free(res2, time.perf_counter() - kept_from - kept_seconds)
        except InfeasibleError:
            if not d.connected:
                raise
            # each unit kept in its district of the first plan fixes every district's sums: a proof
            # for that restriction, not for the grouping (QA13 3: "proved that grouping infeasible",
            # where the same grouping as given districts had a plan)
            kept_seconds = time.perf_counter() - kept_from
            plan2, res2, second = _units_free(d, grouping, budget, solve_kw)
            res2 = _after_kept(res2, kept_seconds)
        if first_fits and res2.method == "current_alignment":  # the warm start stood
            res2 = dataclasses.replace(res2, method="first_plan")
    except InfeasibleError as err:
        # a proof for this grouping only (the first plan did not meet its district band): another
        # grouping may have plans, so the run has no plan and no proof
        raise SolverError(
            f"no plan found for the grouping chosen ({', '.join(_members(problem, grouping))}): that "
            f"grouping is proven infeasible ({err}), which is not a proof for every grouping: try a "
            "wider --district-tolerance or another number of districts"
        ) from err
    except SolverError:
        if not first_fits:
            raise
        return plan1, dataclasses.replace(res1, objective=obj1), "no better plan in time"
    if first_fits and obj1 < res2.objective - 1e-9 * max(abs(obj1), 1.0):  # the stages that ran kept
        plan2, res2 = (
            plan1,
            dataclasses.replace(res1, objective=obj1, stages=res2.stages, stage_log=res2.stage_log),
        )
    return plan2, res2, second


def _design_stages(d: _Design, res2: SolveResult, seconds: float) -> dict[str, Any]:
    """``stages`` and ``stage_log`` of the whole design: the first solve's stages (named ``first_solve.``
    and theirs), the grouping with its districts made connected (``district_design``), then the second
    solve's (QA110 O2: the exit-3 message and summary.json named the second solve's stages alone, 30 s of
    an 89-s run)."""
    if res2.stage_log is d.res1.stage_log:  # no second solve: the first plan stands
        first: dict[str, float] = {}
        log: list[dict[str, object]] = []
    else:
        first = {f"first_solve.{k}": v for k, v in d.res1.stages.items()}
        log = [{**e, "stage": f"first_solve.{e.get('stage')}"} for e in d.res1.stage_log]
    shape = (  # QA113 O7: "not all connected" said of point accounts, where no adjacency was checked
        "no adjacency: the districts' shape not checked"
        if d.adj is None
        else "districts connected"
        if d.connected
        else "districts not all connected"
    )
    outcome = f"{d.grouping.basis}; {shape}"
    log.append({"stage": "district_design", "seconds": round(seconds, 3), "outcome": outcome})
    if not first:  # the first solve's stages are the plan's, in their place
        return {
            "stages": {**res2.stages, "district_design": seconds},
            "stage_log": (*res2.stage_log, *log),
        }
    return {
        "stages": {**first, "district_design": seconds, **res2.stages},
        "stage_log": (*log, *res2.stage_log),
    }


def _after_kept(res: SolveResult, seconds: float) -> SolveResult:
    """``res`` (the second solve with units free) with the attempt before it, units kept in their districts
    of the first plan, as a stage of its own (``second_solve_kept``): its time was spent (QA111 F2: 2.3 s
    of a 13.7-s run in no stage)."""
    outcome = "units kept in their districts of the first plan: no plan meets the district band"
    return _with_attempt(res, "second_solve_kept", seconds, outcome, before=True)


def _after_free(res: SolveResult, seconds: float) -> SolveResult:
    """``res`` (the second solve with units kept in their districts, relaxed) with the attempt after it,
    units free to leave them, as a stage of its own (``second_solve_free``): given up, as it met no band
    either, its time was still spent."""
    outcome = (
        "units free to leave their districts: no plan within every band either; the kept districts' least "
        "violation stands"
    )
    return _with_attempt(res, "second_solve_free", seconds, outcome, before=False)


def _with_attempt(res: SolveResult, stage: str, seconds: float, outcome: str, *, before: bool) -> SolveResult:
    """``res`` with an attempt given up as a stage of its own, before its stages or after them."""
    entry = {"stage": stage, "seconds": round(seconds, 3), "outcome": outcome}
    if before:
        return dataclasses.replace(
            res, stages={stage: seconds, **res.stages}, stage_log=(entry, *res.stage_log)
        )
    return dataclasses.replace(res, stages={**res.stages, stage: seconds}, stage_log=(*res.stage_log, entry))


def _units_free(
    d: _Design, grouping: design.Grouping, budget: TimeBudget, solve_kw: dict[str, Any]
) -> tuple[np.ndarray, SolveResult, str]:
    """The second solve on the grouping's own model, units free to leave their districts of the first
    plan (kept in them, no plan meets the bands); its districts are connected only if its plan says so,
    or once the district contiguity stage joins them (a compact or ranked grouping)."""
    d.spec2 = spec2 = d.grouped(grouping)[1]
    plan2, res2 = pipeline.solve(spec2, d.backend, budget=budget, **solve_kw)
    second = "solved with units free to leave their districts (kept in them, none fits)"
    d.connected = bool(
        d.adj is not None and (district_pieces(d.adj, plan2, grouping.district, d.n) == 1).all()
    )
    d.restricted = True
    if (
        not d.connected
        and d.connect is not None
        and (grouping.basis == COMPACT_BASIS or grouping.basis.startswith(RANKED_BASIS))
    ):
        # the compact grouping's districts were connected on the first plan: the district contiguity
        # stage joins the pieces the second solve cut off
        joined = d.connect(spec2, plan2, res2, d.seconds(CONNECT_SHARE)).found
        if joined is not None:
            plan2, res2 = joined
            d.connected = d.joined_by_stage = True
    return plan2, res2, second


def _design_notes(d: _Design, res2: SolveResult, chosen_bound: float) -> list[str]:
    """The result's notes on the design: the bounds and what each holds for, a second solve that freed
    units from their districts, and the basis of the grouping when it is not the band's."""
    grouping, connected, proven, joint = d.chosen()[0], d.connected, d.proven, d.res1.lower_bound
    moved_by = " (the first plan's units moved by the district contiguity stage)" if d.reconnected else ""
    if d.reconnected and proven:
        moved_by = (
            f" (the first plan's units moved by the district contiguity stage, after HiGHS proved that "
            f"{len(proven)} other grouping(s) cannot be connected within the bands)"
        )
    kept = f" with each unit kept in its district{moved_by}" if connected and not d.restricted else ""
    chosen = (
        f"{chosen_bound:,.1f}"
        if np.isfinite(chosen_bound)
        else "not known (its plan is relaxed)"
        if res2.status == "relaxed"
        else "not known"
    )
    model_bound = f"{joint:,.1f}" if np.isfinite(joint) else "not known: the first solve proved none"
    # the contiguity stage's bound holds for its connected plans, each rep keeping its home unit (QA55 F2:
    # "for the chosen grouping it is 30,057.1" beside a plan of that grouping at 29,965.3, in pieces)
    which = "connected plans of the chosen grouping" if d.joined_by_stage else f"the chosen grouping{kept}"
    notes = [
        f"designed districts (alternating): the lower bound is that of the model without district rows "
        f"({model_bound}), valid for any grouping; for {which} it is {chosen}"
    ]
    if d.restricted:
        notes.append(
            "with each unit kept in its district of the first plan no plan meets the district band (each "
            "district's sums are then fixed), so the second solve let units change district"
            + (
                "; its districts are each one piece"
                if connected
                else " (whether each district ends up one piece: districts.csv, column contiguous)"
            )
        )
    if grouping.basis == COMPACT_BASIS:
        notes.append(
            "the grouping that met the district band on the first plan's territories left its districts in "
            "pieces: the reps were grouped by travel into districts connected on that plan (at least "
            f"{COMPACT_GAIN:.0%} less travel to their seats), and the second solve put the district rows "
            "on that grouping"
        )
    elif grouping.basis.startswith(RANKED_BASIS):
        weighed = grouping.basis[len(RANKED_BASIS) :].strip(" ()").split(" ")[0]
        notes.append(
            f"the districts are the grouping, of {weighed} connected on the first plan's territories (the "
            "nearest by travel to their seats), whose model with the district rows has the least LP bound: "
            "the least seat travel is not the least cost of the district rows to the territories"
        )
    elif grouping.basis.startswith("travel"):
        notes.append(
            "no grouping of the first plan's territories met the district band: the reps were grouped by "
            "travel alone (regions kept) and the second solve put the district rows on that grouping"
        )
    return notes


def _unconnected_notes(d: _Design) -> list[str]:
    """What to say if the districts stay in pieces (the caller adds them then: ``info``'s
    "unconnected_notes")."""
    if d.connected is not False:
        return []
    grouping = d.chosen()[0]
    unconnected = [
        f"no grouping of the reps into {d.n} connected districts within the district band was found for "
        f"the first territory plan ({counted(grouping.rounds, 'round')} of connectivity cuts), nor a plan of "
        f"connected districts for {_tried(len(d.proven), d.unproven, d.why, len(d.unstarted))}; the "
        "districts may not all be connected (districts.csv, column contiguous, says which are)"
    ]
    islands = d.adj.islands() if d.adj is not None else []
    if islands:  # a district holding one can never be one piece (QA13 5: no hint, 3 of 3 split)
        names = ", ".join(d.problem.unit_label(int(u)) for u in np.concatenate(islands)[:3])
        more = sum(len(i) for i in islands) - 3
        unconnected.append(
            f"the map has {len(islands)} island(s) apart from the rest ({names}"
            + (f" and {more} more unit(s)" if more > 0 else "")
            + "): a district holding one cannot be one piece; --bridge-islands joins each to its "
            "nearest neighbour"
        )
    return unconnected


def district_label(k: int) -> str:
    """The name of designed district ``k`` (0-based): D01, D02, ..."""
    return f"D{k + 1:02d}"


def _members(problem: TerritoryProblem, grouping: design.Grouping) -> list[str]:
    """Each district of ``grouping`` as 'D01: R1 R2'."""
    ids = np.asarray(problem.rep_ids, dtype=str)
    return [
        f"{district_label(k)}: {' '.join(ids[grouping.district == k].tolist())}"
        for k in range(int(grouping.district.max()) + 1)
    ]


def _tried(proven: int, unproven: bool, why: str = "", unstarted: int = 0) -> str:
    """The groupings the district contiguity stage was given, as the note tells them: ``proven`` of them
    proven impossible to connect, whether the last one tried ended without a plan or a proof (``why``:
    then why its two levels, districts first, gave none), and how many gave way to another grouping
    because the two levels built no connected start for them (``unstarted``, the last one included when
    it is ``unproven``)."""
    because = f" (the two levels, districts first: {why})" if unproven and why else ""
    earlier = unstarted - int(unproven and why.startswith(NO_START))
    others = (
        f"; {earlier} other grouping(s) tried had no connected start (a heuristic's failure, not a proof)"
        if earlier > 0
        else ""
    )
    if not proven:
        return f"the grouping chosen{because}{others}"
    if earlier:
        what = f"{proven} of the groupings tried"
    else:
        what = "the grouping chosen" if proven == 1 else f"the first {proven} groupings tried"
    out = f"{what} (HiGHS proved that {'it' if proven == 1 else 'each'} cannot be connected within the bands"
    if unproven:
        return out + f"), nor for the next grouping in the time left{because}{others}"
    return out + f"; no other grouping was found, or no time was left to try one){others}"
