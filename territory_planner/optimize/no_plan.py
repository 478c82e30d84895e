"""What a solve says when it has no plan: the message of a run that found none in its time (with the
options whose loosening may help), and the error of a whole model HiGHS proved infeasible, naming every
family of rows the proof covers.

Split from ``pipeline``: the whole-model stage and the whole model beside both raise the proof.
"""

from __future__ import annotations

from territory_planner.errors import Conflict, InfeasibleError
from territory_planner.optimize import prechecks
from territory_planner.optimize.run_state import Run
from territory_planner.optimize.spec import ModelSpec


def _no_plan_message(run: Run) -> str:
    used = sorted(run.stages, key=lambda s: -s.seconds)
    spent = ", ".join(f"{s.name} {s.seconds:.1f}s ({s.outcome})" for s in used[:4])
    looser = ", ".join(_looser(run.spec))
    if run.budget.limited:
        return (
            f"no plan found yet in the time limit of {run.budget.limit:g}s ({spent}); this is not a proof "
            f"that no plan exists: try --time-limit {run.budget.suggest():.0f}, {looser}, or --relax for "
            "the least-violation plan"
        )
    return f"no plan found ({spent}); try {looser}, or --relax for the least-violation plan"


def _looser(spec: ModelSpec) -> list[str]:
    """The options whose loosening may let a plan be found, of those the model has (QA56 F2: a run whose
    disruption budget was what bound was told only "a wider --tolerance")."""
    out = ["a wider --tolerance"]
    if spec.budget is not None:
        out.append("a larger --max-moved-share")
    if spec.rep_budget_share is not None:
        out.append("a larger --max-moved-share-per-rep")
    if spec.groups is not None:
        out += [f"a wider --{level}-tolerance" for level in spec.groups.levels]
    if spec.min_accounts is not None or spec.max_accounts is not None:
        out.append("looser --min-accounts / --max-accounts")
    p = spec.problem
    if p.unit_home_kept is not None and p.home_km is not None and p.unit_home_kept.any():
        out.append(f"a smaller --keep-home than {p.home_km:g} (or none)")  # QA59: in force, unnamed
    return out


def _whole_infeasible(spec: ModelSpec, moved_least: float | None = None) -> InfeasibleError:
    """HiGHS proved the MIP over every allowed pair infeasible. The proof covers the whole model, so the
    message names every family of rows in it besides the bands (any of them may be what to relax: QA4's
    sweep point with a 30% disruption budget said only "widen --tolerance", where 50% made it feasible).
    ``moved_least``: the least potential the min-moved LP proves must move (``stage_budget``), told with
    the budget so the planner sees what share to try (QA14 10)."""
    p = spec.problem
    conflicts = [Conflict("balance", "no assignment of whole accounts meets every band (HiGHS's proof)")]
    fixes = ["widen --tolerance"]
    total = float(p.acc_potential.sum())  # as --max-moved-share is defined (departed reps' included)
    if spec.budget is not None:
        # the flag's own value beside the rounded share (QA96 F3: 0.1356 refused and 0.1360 planned both
        # read "13.6%")
        share = (
            f" ({spec.budget / total:.1%} of the potential, --max-moved-share {spec.budget / total:.4g})"
            if total > 0
            else ""
        )
        if moved_least is not None and moved_least > 0 and total > 0:
            need = (
                f"the LP proves balancing must move at least {prechecks.money(moved_least)} "
                f"({moved_least / total:.1%}), and with whole accounts it may need more"
            )
            extra: dict[str, object] = {"least_moved_share": moved_least / total, "proven_by": "LP bound"}
        else:  # QA34 F8: at --time-limit 5 the least share was not computed, and rounding was blamed
            need = (
                "the least share balancing must move was not computed in the time (`validate` with the "
                "same options computes it)"
            )
            extra = {}
        conflicts.append(
            Conflict(
                "disruption_budget",
                f"at most {prechecks.money(spec.budget)} potential may move{share}; {need}",
                extra=extra,
            )
        )
        fixes.append("raise --max-moved-share")
    if spec.rep_budget_share is not None:
        conflicts.append(
            Conflict(
                "disruption_budget", f"no rep may lose more than {spec.rep_budget_share:.0%} of its potential"
            )
        )
        fixes.append("raise --max-moved-share-per-rep")
    if spec.min_accounts is not None or spec.max_accounts is not None:
        lo = "-" if spec.min_accounts is None else str(spec.min_accounts)
        hi = "-" if spec.max_accounts is None else str(spec.max_accounts)
        conflicts.append(Conflict("account_count", f"every territory holds {lo} to {hi} accounts"))
    if spec.groups is not None:
        for level in spec.groups.levels:
            conflicts.append(Conflict(level, f"every {level}'s sum of territories stays within its band"))
            fixes.append(f"widen --{level}-tolerance")
    locked = int((p.unit_locked >= 0).sum())
    if locked:
        conflicts.append(Conflict("lock", f"{locked} unit(s) locked to their rep"))
    families = len({f for f in p.acc_family.tolist() if f})
    if families:
        conflicts.append(Conflict("family", f"{families} famil{'y' if families == 1 else 'ies'} kept whole"))
    barred = int((~p.allowed & (p.unit_locked < 0)[:, None]).sum())
    if barred:
        conflicts.append(Conflict("segment", f"{barred:,} (unit, rep) pair(s) barred by segments"))
    others = ", ".join(c.family.replace("_", " ") for c in conflicts[1:])
    rows = f"; the model also holds: {others}, and the proof covers them together" if others else ""
    if others:  # QA21 Q3: read alone, the bands' row was false (whole accounts met them without the rest)
        conflicts[0] = Conflict(
            "balance",
            "no assignment of whole accounts meets every band together with the rows below (HiGHS's proof "
            "over them all; which of them is too tight, the proof does not say)",
        )
    return InfeasibleError(
        "no plan of whole accounts satisfies the model: the MIP over every allowed (account, rep) "
        f"pair is infeasible{_floor_text(spec)}{rows}; "
        f"{', '.join(fixes)} or use --relax",
        conflicts,
    )


def _floor_text(spec: ModelSpec) -> str:
    """The least tolerance the largest accounts force on each measure, when any does and it is above the
    measure's own tolerance (QA6: "balance floor: +-0.0%" read as if the bands were +-0%; QA19 F9: "need
    bands of at least potential +-1.9%" under --tolerance 0.15, which explains nothing)."""
    tolerance = spec.problem.tolerance
    floor = {
        measure: v
        for m, (measure, v) in enumerate(prechecks.balance_floor(spec).items())
        if v >= 5e-4 and v > tolerance[m]
    }
    if not floor:
        return ""
    need = ", ".join(f"{m} +-{100 * v:.1f}%" for m, v in floor.items())
    return f" (the largest accounts alone need bands of at least {need})"
