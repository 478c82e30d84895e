"""Homes no connected plan can serve, told before any solve: a home in a piece of the map without enough
of the bands' measures (``component_conflicts``), and homes walled in by the other homes' units
(``walled_in_conflicts``), each with the units and numbers that prove it."""

from __future__ import annotations

import logging

import numpy as np
from scipy.sparse.csgraph import connected_components

from territory_planner.currency import currency_prefix, is_money
from territory_planner.errors import Conflict
from territory_planner.geo import adjacency as adjmod
from territory_planner.model.problem import TerritoryProblem
from territory_planner.optimize import unit_fit
from territory_planner.optimize.spec import ModelSpec

logger = logging.getLogger(__name__)


def component_conflicts(
    spec: ModelSpec,
    adj: adjmod.Adjacency,
    centre: np.ndarray,
    chosen: np.ndarray | None = None,
    of: str = "territory",
) -> list[Conflict]:
    """Pieces of the map (connected components) that no plan of connected territories (``of``
    "territory") or districts ("district": each one piece holding its reps' home units, so each of its
    territories lies in the piece of its rep's home too) can cover, with the numbers. A territory holds
    its rep's home unit and is one piece, so it lies inside the piece that holds that home. A piece with
    no home can only be covered by reps whose centre the planner chooses (``chosen``), each territory then
    lying inside it: none of them fits if the piece is below every such rep's band. A piece holding homes
    must reach the sum of their reps' lower bands, and, when no rep's centre is chosen, stay within the
    sum of their upper bands. Empty when the map is one piece or a rep with a given home has no home unit.
    """
    p = spec.problem
    chosen = np.zeros(p.n_reps, dtype=bool) if chosen is None else chosen
    if (centre[~chosen] < 0).any():
        return []
    label = adj.components()
    if int(label.max(initial=0)) == 0:
        return []
    out: list[Conflict] = []
    unit_name = unit_names(p)
    fixed = np.flatnonzero(~chosen)
    for c in range(int(label.max()) + 1):
        units = np.flatnonzero(label == c)
        total = p.unit_amount[units].sum(axis=0)
        reps = fixed[label[centre[fixed]] == c]
        shown = listed(np.asarray([p.unit_label(int(u)) for u in units[:5]] + [""] * (len(units) - 5)))
        where = f"the piece of the map made of {len(units)} unit(s) ({shown}) touches no other account"
        hint = "; --bridge-islands joins each such piece to its nearest neighbour (or give --adjacency)"
        empty = sorted({name for u, name in adj.empty_borders if label[u] == c})
        if empty:  # cut off by areas with no account, not by the sea (QA54 F6)
            where += (
                f" (it borders area(s) {listed(np.asarray(empty))} that hold no account, so are no units a "
                "territory can cross)"
            )
        if not len(reps):
            fits = (spec.lower[:, chosen] <= total[:, None] + 1e-9).all(axis=0)
            if not fits.any():
                what = "and holds no rep's home" + (
                    ", and is below every band of the reps whose centre is chosen" if chosen.any() else ""
                )
                out.append(
                    Conflict(
                        "contiguity",
                        f"{where} {what}, so no {of} holding it can be one piece{hint}",
                        extra={"accounts": unit_name[units].tolist()},
                    )
                )
            continue
        who = ", ".join(np.asarray(p.rep_ids)[reps].astype(str))
        # one rep's home and band, or several's (QA92 F5: "the homes of R08, whose territories")
        one = len(reps) == 1
        homes = f"the home of {who}, whose territory" if one else f"the homes of {who}, whose territories"
        bands = "its band needs" if one else "their bands together need"
        for m, measure in enumerate(p.measures):
            lo, hi = float(spec.lower[m, reps].sum()), float(spec.upper[m, reps].sum())
            short = total[m] < lo - 1e-9 * max(1.0, abs(lo))
            over = not chosen.any() and total[m] > hi + 1e-9 * max(1.0, abs(hi))
            if short or over:
                # money in the run's currency, as the conflict table's amount column writes it (QA92 F5)
                unit = currency_prefix() if is_money(measure) else ""
                limit = f"at least {unit}{lo:,.2f}" if short else f"at most {unit}{hi:,.2f}"
                out.append(
                    Conflict(
                        "contiguity",
                        f"{where} and holds {homes} must lie inside it: its "
                        f"{measure} is {unit}{total[m]:,.2f}, {bands} {limit}{hint}",
                        measure=measure,
                        amount=float(lo - total[m] if short else total[m] - hi),
                    )
                )
    return out


def unit_names(p: TerritoryProblem) -> np.ndarray:
    """The first account id of each unit."""
    first_acc = np.full(p.n_units, -1, dtype=np.int64)
    first_acc[p.acc_unit[::-1]] = np.arange(p.n_accounts)[::-1]
    out: np.ndarray = np.asarray(p.account_ids).astype(str)[first_acc]
    return out


def unit_titles(p: TerritoryProblem) -> np.ndarray:
    """How messages name each unit: its first account id, with the account's name when it has another
    one ("VA51059 (Fairfax)"; QA11 O13: the walls named "MXMX03" where other pre-checks say the name)."""
    ids = unit_names(p)
    first_acc = np.full(p.n_units, -1, dtype=np.int64)
    first_acc[p.acc_unit[::-1]] = np.arange(p.n_accounts)[::-1]
    names = np.asarray(p.account_names).astype(str)[first_acc]
    named = (names != ids) & (np.char.strip(names) != "") & (np.char.lower(names) != "nan")
    out: np.ndarray = np.where(named, np.char.add(np.char.add(ids, " ("), np.char.add(names, ")")), ids)
    return out


def listed(names: np.ndarray, k: int = 5) -> str:
    return ", ".join(names[:k]) + (f" and {len(names) - k} more" if len(names) > k else "")


def walled_in_conflicts(
    spec: ModelSpec, adj: adjmod.Adjacency, centre: np.ndarray, chosen: np.ndarray | None = None
) -> list[Conflict]:
    """Reps walled in by other reps' homes, with the numbers. A territory is one piece holding its rep's
    home unit and no other rep's, so it lies in the part of the map its home reaches without crossing
    another home unit (here: the home unit and the pieces of the map, homes taken out, that touch it):
    when that part holds less of a measure than the rep's band needs, no connected plan exists. Only
    reps with a given home count (a chosen centre can move); empty when a given home has no unit."""
    p = spec.problem
    chosen = np.zeros(p.n_reps, dtype=bool) if chosen is None else chosen
    fixed = np.flatnonzero(~chosen)
    if len(fixed) < 2 or (centre[fixed] < 0).any():
        return []
    walls = np.zeros(p.n_units, dtype=bool)
    walls[centre[fixed]] = True
    keep = ~walls[adj.u] & ~walls[adj.v]
    _, label = connected_components(
        adjmod.Adjacency(p.n_units, adj.u[keep], adj.v[keep]).csr(), directed=False
    )
    neighbours = adj.neighbours()
    unit_name, unit_title = unit_names(p), unit_titles(p)
    owner = np.full(p.n_units, -1, dtype=np.int64)
    owner[centre[fixed]] = fixed
    out: list[Conflict] = []
    for j in fixed.tolist():
        home = int(centre[j])
        near = neighbours[home]
        reach = np.flatnonzero(np.isin(label, np.unique(label[near[~walls[near]]])) & ~walls)
        reach = np.concatenate([[home], reach])
        total = p.unit_amount[reach].sum(axis=0)
        border = np.unique(np.concatenate([neighbours[u] for u in reach.tolist()]))
        by = np.asarray(p.rep_ids)[owner[border[walls[border] & (border != home)]]].astype(str)
        head = (
            f"the home unit of {p.rep_ids[j]} ({unit_title[home]}) reaches only {len(reach)} unit(s) "
            f"without crossing the home unit of another rep ({listed(by)}): {listed(unit_title[reach])}."
        )
        tail = (
            "--contiguous makes each territory one piece holding its rep's home unit (and no other rep's), "
            "so no such plan exists (a plan of connected territories that gives a rep's home unit to "
            "another rep does not count). Move a home, widen --tolerance, or --relax"
        )
        short = False
        for m, measure in enumerate(p.measures):
            lo = float(spec.lower[m, j])
            if total[m] < lo - 1e-9 * max(1.0, abs(lo)):
                short = True
                out.append(
                    Conflict(
                        "contiguity",
                        f"{head} They hold {total[m]:,.2f} {measure}, its band needs at least {lo:,.2f}; "
                        + tail,
                        rep_id=str(p.rep_ids[j]),
                        measure=measure,
                        amount=lo - float(total[m]),
                        extra={"accounts": unit_name[reach].tolist()},
                    )
                )
        if short or len(p.measures) < 2:
            continue
        # enough of each measure, but not of both at once (a region too rich in potential for its
        # workload): the LP over fractions of the units it reaches, home unit included
        within = np.zeros(p.n_units, dtype=bool)
        within[reach] = True
        why = unit_fit.shortfall(spec, home, j, within)
        if why is not None:
            out.append(
                Conflict(
                    "contiguity",
                    f"{head} {why.text('any territory of them')}; {tail}",
                    rep_id=str(p.rep_ids[j]),
                    measure=why.name if why.row < len(p.measures) else None,
                    amount=why.amount,
                    extra={"accounts": unit_name[reach].tolist()},
                )
            )
    return out
