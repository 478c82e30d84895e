"""How a plan still in pieces ends (``_connected_or_relaxed``): a proof that no connected plan
exists (exit 1, with the rows it rests on and the least violation's numbers), a proof for less than the
user's model, "not found yet" (exit 3) with what used the time, or under --relax the plan written
``relaxed`` with one violation per split territory or district.

Split from ``api`` (the style guide's ~400-line limit).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, replace
from typing import Any

from territory_planner.errors import Conflict, InfeasibleError, SolverError
from territory_planner.io.labels import first_few
from territory_planner.model.plan import SolveResult
from territory_planner.optimize import pipeline, prechecks
from territory_planner.options import PlanOptions
from territory_planner.report.formatting import home_rule, listed

# a contiguity proof over a model that holds --design-districts' grouping (its district rows, or each unit
# kept in its district): no proof for the user's model, where any grouping may be chosen
DESIGNED_ONLY = "proven for the designed districts"


@dataclass(frozen=True)
class _Split:
    """The split territories and districts of a plan, as its messages name them, with the proof (if any)
    that no connected plan exists and the level it is for."""

    groups: list[tuple[str, str, int, int]]  # (level, group, pieces, reps without their home unit)
    n_t: int  # split territories
    n_d: int  # split districts
    what: str  # "2 territories and 1 district"
    pieces_text: str  # "in several pieces" (" or without a rep's home unit")
    proof: Any  # the contiguity stages' ``infeasible``: "proven", DESIGNED_ONLY, another proof, or None
    of: str  # the level the proof is for: "territories", "districts" or "districts and territories"
    both: bool  # a district proof that holds for both levels at once

    @property
    def were(self) -> str:
        """The verb for the split groups: "was" or "were"."""
        return "was" if len(self.groups) == 1 else "were"


def _connected_or_relaxed(
    result: SolveResult,
    contiguity: dict[str, Any] | None,
    districts: dict[str, Any] | None,
    options: PlanOptions,
    n_reps: int,
    elapsed: float | None = None,
) -> SolveResult:
    """A plan whose territories (``--contiguous``) or districts (``--district-contiguous``) are still in
    several pieces when the time is up breaks a constraint the user asked for: it is no plan (exit 3,
    "not found yet", never "infeasible"), unless ``--relax`` asked for the least-violation plan, which is
    then written with status ``relaxed`` and one violation per split territory or district."""
    groups = _split_groups(contiguity, districts)
    if not groups:
        # a relaxed plan of connected territories (out of some bands) after a proof for the user's model
        # that none meets the bands is proven infeasible too (QA105 O1: Hungary's counties x 5 reps at
        # +-10%, "no plan meeting every constraint exists ... (proven)" with proven_infeasible false)
        proven = any(
            info is not None and info.get("infeasible") == "proven" for info in (contiguity, districts)
        )
        if result.status == "relaxed" and proven and not result.proven_infeasible:
            return replace(result, proven_infeasible=True)
        return result
    split = _split_of(groups, contiguity, districts)
    if split.proof == "proven" and not options.relax:
        raise _proven_disconnected(split, contiguity, options)
    if not options.relax:
        moved = (contiguity or {}).get("centres") or (districts or {}).get("centres") or []
        narrow = _proof_for_less(split, n_reps, [(str(k), str(t), str(w)) for k, t, w in moved])
        if narrow is not None:
            raise narrow
        raise _not_found_yet(split, result, contiguity, districts, options, n_reps, elapsed)
    return _relaxed_in_pieces(result, split)


def _split_groups(
    contiguity: dict[str, Any] | None, districts: dict[str, Any] | None
) -> list[tuple[str, str, int, int]]:
    """Every territory and district in several pieces, or whose rep is without its home unit."""
    split: list[tuple[str, str, int, int]] = []  # (level, group, pieces, reps without their home unit)
    for level, info in (("territory", contiguity), ("district", districts)):
        if info is not None and not info.get("contiguous", True):
            # a district's rep without its home unit breaks the model's district rule too: a violation of
            # its own (QA77 F2: it was counted as a piece more, 13 pieces where the map had 9)
            away = {g: len(reps) for g, reps in (info.get("homes_elsewhere") or {}).items()}
            split += [
                (level, k, int(v), away.get(k, 0))
                for k, v in info.get("pieces", {}).items()
                if int(v) > 1 or away.get(k, 0)
            ]
    return split


def _split_of(
    groups: list[tuple[str, str, int, int]],
    contiguity: dict[str, Any] | None,
    districts: dict[str, Any] | None,
) -> _Split:
    """The split groups counted and named, and the proof of the contiguity stages with its level."""
    n_t = sum(level == "territory" for level, *_ in groups)
    n_d = len(groups) - n_t
    parts = [f"{n_t} territor{'y' if n_t == 1 else 'ies'}"] * bool(n_t)
    parts += [f"{n_d} district{'' if n_d == 1 else 's'}"] * bool(n_d)
    what = " and ".join(parts)
    # a district in one piece whose rep gave its home unit away is not "in several pieces" (QA77 F2)
    pieces_text = "in several pieces" + (
        " or without a rep's home unit" if any(k <= 1 for level, _, k, _ in groups) else ""
    )
    proof = (contiguity or {}).get("infeasible") or (districts or {}).get("infeasible")
    of = "territories" if (contiguity or {}).get("infeasible") else "districts"
    # with --contiguous the district stage's model keeps the territories connected too: its proof is
    # for both levels at once (each alone may have a plan, as in the brute-force test's example)
    both = of == "districts" and (districts or {}).get("proven_for") == "districts and territories"
    if both:
        of = "districts and territories"
    return _Split(groups, n_t, n_d, what, pieces_text, proof, of, both)


def _proven_disconnected(
    split: _Split, contiguity: dict[str, Any] | None, options: PlanOptions
) -> InfeasibleError:
    """HiGHS proved that no connected plan meets the bands: the error names the shape asked for, the rows
    besides the bands the proof rests on, and the options that loosen them."""
    of = split.of
    territory_shape = "every territory is one piece holding the unit at its rep's home"
    district_shape = "every district's territories together form one piece holding its reps' home units"
    shape = (
        territory_shape
        if of == "territories"
        else f"{district_shape} and {territory_shape}"
        if split.both
        else district_shape
    )
    # --district-tolerance only where district bands are in the model (QA11 O13)
    banded = bool(options.district_tolerance or options.design_districts)
    widen = "--tolerance or --district-tolerance" if of != "territories" and banded else "--tolerance"
    rows = _other_rows(options)
    # the proof checked again without those rows (territories only): True, none plays a part (QA30 F8)
    without = (contiguity or {}).get("infeasible_without_other_rows") if of == "territories" else None
    texts = [text for _, text, _ in rows]
    others = listed(texts, "or") if texts else ""
    after = ""
    if without is True:
        after = f" with {others} and without: {'they play' if len(rows) > 1 else 'it plays'} no part"
        rows = []
    elif without is False:
        after = f"; without {others} a connected plan exists"
    asks = ["every band", *(text for _, text, _ in rows)]
    meets = listed(asks)
    levers = [flag for _, _, flag in rows if flag not in widen]
    if levers:
        widen = f"{widen}, {listed(levers, 'or')}"
    part = "part of the model HiGHS proved infeasible with contiguity" + (
        "; without them a connected plan exists"
        if without is False
        # a district proof is not checked again without the other rows: they may play no part (QA64
        # F5: the district bands named and --district-tolerance advised where the proof holds without)
        else " (whether the model is infeasible without them was not checked)"
        if of != "territories"
        else " (whether the model is infeasible without them was not settled in the time)"
    )
    held = home_rule(of)
    return InfeasibleError(
        f"no plan of connected {of}{held} exists",
        [
            Conflict(
                "contiguity",
                f"no plan in which {shape} meets {meets}: HiGHS proved the exact model (the plan's "
                "rows with flow rows for connectivity, or with separator cuts that every connected plan "
                f"meets) infeasible{after}. {'Loosen' if levers else 'Widen'} "
                f"{widen}, move a rep's home, or --relax to write the best plan with the split {of} "
                "marked",
            ),
            *_least_rows((contiguity or {}).get("least_violation") if of == "territories" else None),
            *(Conflict(family, f"{text}: {part}") for family, text, _ in rows),
        ],
    )


def _proof_for_less(
    split: _Split, n_reps: int, moved: list[tuple[str, str, str]] | None = None
) -> SolverError | None:
    """No connected plan, without --relax, and a proof that holds for less than the user's model: for the
    designed districts only, or for the centres used only. None: no proof at all. ``moved``: the reps
    anchored elsewhere than their homes' units and why (``planning.centres_moved``), which the message
    names with what would make the proof the user's (QA100 F2: two reps sharing a home county were told
    to give the reps home bases)."""
    of, what, pieces_text, were = split.of, split.what, split.pieces_text, split.were
    if split.proof == DESIGNED_ONLY:
        return SolverError(
            f"no connected plan within the designed districts: HiGHS proved that no plan of connected "
            f"{of}{home_rule(of)} meets the bands with the grouping --design-districts chose; {what} of "
            "the best plan "
            f"{were} {pieces_text}. This is no proof for other groupings: try another number of "
            "districts, a wider --tolerance or --district-tolerance, or --relax to write that plan with "
            f"the split {of} marked"
        )
    if split.proof:  # proven for the centres used: more time gives the same centres and the same proof
        head = (
            f"no connected plan for the centres used: HiGHS proved that no plan of connected {of} "
            f"holding them meets the bands ({what} of the best plan {were} {pieces_text}, {n_reps} "
            "territories in all). "
        )
        if not moved:
            return SolverError(
                head + "The planner chose those centres (--choose-centres, reps without a "
                "home, two homes nearest one unit, or a home whose unit the rep may not serve: locked to "
                "another rep or of a segment it does not serve), so this is no proof for every choice of "
                "centres; more time helps only through other centres. Give the reps home bases (lat, lon "
                "in the reps table), widen --tolerance, or --relax to write that plan with the split "
                "territories marked"
            )

        def named(kind: str) -> str:  # each once: the reps of one shared home share their ``who``
            return first_few(dict.fromkeys(who for k, _, who in moved if k == kind), 5)

        fixes = []
        if any(k == "shared" for k, _, _ in moved):
            fixes.append(f"give {named('shared')} homes in different units")
        if any(k == "chosen" for k, _, _ in moved):
            fixes.append(f"give {named('chosen')} a home base (lat, lon in the reps table)")
        if any(k == "barred" for k, _, _ in moved):
            fixes.append(f"let {named('barred')} serve the home's unit")
        if any(k == "option" for k, _, _ in moved):
            fixes.append("run without --choose-centres (each territory then holds its rep's home's unit)")
        return SolverError(
            head
            + "Not every territory is anchored to its rep's home: "
            + "; ".join(text for _, text, _ in moved)
            + ". So this is no proof for every choice of centres, and more time gives the same centres and "
            "the same proof: "
            + ", ".join(fixes)
            + ", widen --tolerance, or --relax to write that plan with the split territories marked"
        )
    return None


def _not_found_yet(
    split: _Split,
    result: SolveResult,
    contiguity: dict[str, Any] | None,
    districts: dict[str, Any] | None,
    options: PlanOptions,
    n_reps: int,
    elapsed: float | None,
) -> SolverError:
    """The stages ended without a connected plan or a proof: no proof that none exists; the error says
    when they ended, what is split out of how many, which stages used the time, and what to try."""
    n_t, n_d, what, pieces_text, were = split.n_t, split.n_d, split.what, split.pieces_text, split.were
    limit = options.time_limit or 120.0
    # the stages may also end early without a plan or a proof (QA9 O6: at 1.8 s of 5)
    # the command's seconds so far (``elapsed``): the result's are the pipeline's, before the
    # contiguity stages (QA10: "when the search ended" at 179.7 s of 180)
    spent = max(result.seconds, elapsed or 0.0)
    when = "when the time ran out" if spent >= 0.8 * limit else "when the search ended"
    # name what is split, out of how many (QA10: 4 split districts read "(16 territories in all)",
    # "the split territories marked")
    n_groups = len((districts or {}).get("pieces", {}))
    among = [f"{n_reps} territories"] * bool(n_t) + [f"{n_groups} districts"] * bool(n_d)
    kinds = " and ".join(["territories"] * bool(n_t) + ["districts"] * bool(n_d))
    # the flip search's connected plan out of some bands, the other plan --relax may write (QA25: its
    # progress line named "8 territories out of band", the error "10 ... in several pieces" alone)
    near = (contiguity or {}).get("near_out_of_band") if districts is None else None
    near_text = (
        f"; the best connected plan found leaves {near} territor{'y' if near == 1 else 'ies'} out of "
        + ("its band" if near == 1 else "their bands")
        if near
        else ""
    )
    relax_text = (
        ", or --relax to write whichever of the two breaks less, marked"
        if near
        else f", or --relax to write that plan with the split {kinds} marked"
    )
    # which stages used the time (QA72 F6: the message suggested a limit and named none of them)
    took = [(float(str(e.get("seconds") or 0.0)), str(e.get("stage"))) for e in result.stage_log]
    stages = ", ".join(f"{name} {seconds:.1f}s" for seconds, name in sorted(took, reverse=True)[:3])
    return SolverError(
        f"no connected plan found yet{f' (of {spent:.0f}s: {stages})' if stages else ''}: {when}, {what} "
        f"of the best plan within the bands {were} still "
        f"{pieces_text} (of {' and '.join(among)}){near_text}. This is not a proof that no "
        f"connected plan exists: try --time-limit {int(2 * limit)}, a wider --tolerance"
        + (" or --district-tolerance" if n_d else "")
        + relax_text
    )


def _relaxed_in_pieces(result: SolveResult, split: _Split) -> SolveResult:
    """--relax: the plan written as it is, status ``relaxed``, with one violation per split territory or
    district (pieces beyond the first, reps without their home unit) and the notes that say so."""
    violations = tuple(
        pipeline._violation(f"{level}_contiguity", key, "pieces", float(k - 1))
        for level, key, k, _ in split.groups
        if k > 1
    ) + tuple(
        pipeline._violation(f"{level}_contiguity", key, "reps without their home unit", float(n))
        for level, key, _, n in split.groups
        if n
    )
    # a stage's own count of split territories or districts, made before a later stage changed the plan,
    # gives way to the final one (QA26 F8: "contiguity not reached for 8 territories" where 10 were split)
    stale = ("contiguity not reached for ", "district contiguity not reached for ")
    notes = (
        *(n for n in result.notes if not n.startswith(stale)),
        f"relaxed: {split.what} {split.pieces_text} (see violations)",
    )
    if split.proof:  # the level the proof is for (QA11 O2: "territories" after a proof for districts)
        held = home_rule(split.of)
        notes += (f"contiguity: no plan of connected {split.of}{held} meets the bands ({split.proof})",)
    return result.relaxed(  # a plan in pieces has no gap (QA26 F8: 11.49% after --design-districts)
        # a proof for the user's model came first (QA12 N3: false after a district-level proof)
        proven_infeasible=result.proven_infeasible or split.proof == "proven",
        violations=(*result.violations, *violations),
        notes=notes,
    )


def _other_rows(options: PlanOptions) -> list[tuple[str, str, str]]:
    """The rows of the model besides the rep bands that a proof over the whole model also rests on:
    (conflict family, what they ask, the option that loosens them). QA9 F3: with --max-moved-share 0.25
    the flow model's proof said only "meets every band ... widen --tolerance", where the budget was the
    row to loosen."""
    out: list[tuple[str, str, str]] = []
    if options.max_moved_share is not None:
        share = f"{options.max_moved_share:g}"
        out.append(("disruption_budget", f"the disruption budget ({share})", "--max-moved-share"))
    if options.max_moved_share_per_rep is not None:
        share = f"{options.max_moved_share_per_rep:g}"
        out.append(("disruption_budget", f"the per-rep budget ({share})", "--max-moved-share-per-rep"))
    if options.min_accounts is not None:
        out.append(("min_accounts", f"at least {options.min_accounts} accounts per rep", "--min-accounts"))
    if options.max_accounts is not None:
        out.append(("max_accounts", f"at most {options.max_accounts} accounts per rep", "--max-accounts"))
    for level in options.group_tolerance():
        out.append((level, f"the {level} bands", f"--{level}-tolerance"))
    return out


def _least_rows(least: Mapping[str, Any] | None) -> list[Conflict]:
    """A contiguity proof's numbers: the bands the connected plan of least violation breaks, each with its
    rep, measure and amount (``contiguity_stage._least_after_proof``; QA66 F5: London's boroughs, exit 1
    naming no rep, measure or amount)."""
    if not least:
        return []
    how = "proven least" if least["proven"] else "the least found in the time, not proven least"
    out = []
    for v in least["violations"]:
        rep, measure, by = str(v["rep_id"]), str(v["measure"]), float(v["violation"])
        side = "below" if v["constraint"] == "balance_min" else "above"
        out.append(
            Conflict(
                "balance",
                f"the connected plan that breaks the bands least ({how}) leaves {rep}'s {measure} "
                f"{prechecks.amount(by, measure)} {side} its band",
                rep_id=rep,
                measure=measure,
                amount=by,
            )
        )
    return out
