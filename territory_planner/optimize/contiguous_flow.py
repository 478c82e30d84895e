"""The exact contiguous model as a flow MIP, run by HiGHS beside the cut loop on small models.

The separator cuts of ``optimize.contiguous`` are added a round at a time, so the cut loop proves
nothing until a round settles, and a round's MIP that finds no plan in its time says nothing about
whether one exists. On a small model the exact model can be written down whole (Shirabe 2009,
single-commodity flows): each territory j ships one unit of flow from its centre c_j to each other unit
it holds, along edges inside the territory,

    sum_in f[., i, j] - sum_out f[i, ., j] = x[i, j]            i != c_j
    f[a, b, j] <= (n_j - 1) x[a, j],   f[a, b, j] <= (n_j - 1) x[b, j]

(n_j: units with a column for j). A plan satisfies these rows for some flow exactly when every territory
is one piece holding its centre, so HiGHS on this model returns connected plans only, its dual bound
holds for the contiguous model, and "infeasible" from it is a proof that no plan of connected territories
(each holding the unit at its rep's home) meets the bands. Measured (2 cores, HiGHS 1.16): on Virginia's
136 counties and independent cities at 8 reps, +-5% on two measures, HiGHS proves this model infeasible
in 91 s with the objective dropped, where the cut loop's first round took 28 s and the run ended with
"no connected plan found yet".

It runs in a thread (``background.WholeModel``) for the whole contiguity stage; the connected plans the
cut loop and the neighbourhood search find are handed to it (with a flow along a spanning tree of each
territory) so its tree search prunes with them.

The rows are written for *parts*: a part is a set of reps with a root unit, its membership of unit i
z[i] = sum of x[i, j] over its reps. A territory is the part of one rep rooted at its centre; a district
(``--district-contiguous``, ``optimize.district_contiguity``) is the part of its reps rooted at its first
rep's centre, and both kinds can be in one model.
"""

from __future__ import annotations

import dataclasses
import logging
import threading
import time
from dataclasses import dataclass

import numpy as np
import pulp
from scipy.sparse.csgraph import breadth_first_order

from territory_planner.geo.adjacency import Adjacency
from territory_planner.optimize import background, formulation, repair
from territory_planner.optimize.contiguous_lns import objective
from territory_planner.optimize.spec import ModelSpec
from territory_planner.solvers.base import Backend, LiveMip, SolveStatus

log = logging.getLogger(__name__)

__all__ = [
    "FLOW_MAX_ARCS",
    "FlowModel",
    "Merged",
    "Part",
    "PhasedFlow",
    "LeastConnected",
    "flow_arcs",
    "least_violation_connected",
    "merge",
    "settle_without_rows",
    "start",
    "start_phased",
    "territory_parts",
]

FLOW_MAX_ARCS = 60_000  # flow variables (directed edges x reps) up to which the flow model runs beside
SWITCH_SHARE = 0.2  # of its time: with no connected plan known by then, the flow model drops its objective


Part = tuple[np.ndarray, int]  # (reps, root unit)


def territory_parts(centre: np.ndarray) -> list[Part]:
    """One part per rep, rooted at its centre."""
    return [(np.array([j], dtype=np.int64), int(c)) for j, c in enumerate(centre.tolist())]


def flow_arcs(
    spec: ModelSpec, adj: Adjacency, parts: list[Part]
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(tail, head, part) of every flow variable: both ends have a column for a rep of the part, the head
    is not its root."""
    a = np.concatenate([adj.u, adj.v])
    b = np.concatenate([adj.v, adj.u])
    tails, heads, which = [], [], []
    for k, (reps, root) in enumerate(parts):
        held: np.ndarray = np.asarray(spec.allowed[:, reps].any(axis=1))
        keep = held[a] & held[b] & (b != root)
        tails.append(a[keep])
        heads.append(b[keep])
        which.append(np.full(int(keep.sum()), k, dtype=np.int64))
    return np.concatenate(tails), np.concatenate(heads), np.concatenate(which)


def start(
    spec: ModelSpec,
    adj: Adjacency,
    parts: list[Part],
    backend: Backend,
    *,
    deadline: float,
    gap: float,
    seed: int,
) -> FlowModel | None:
    """The flow model solving beside, or None: no second core, not HiGHS, a part without a root, or more
    than ``FLOW_MAX_ARCS`` flow variables. ``spec`` carries the centres (``contiguous.with_centres``)."""
    arcs = _arcs_beside(spec, adj, parts, backend)
    if arcs is None:
        return None
    return FlowModel(spec, adj, parts, arcs, backend, deadline=deadline, gap=gap, seed=seed)


def fits_beside(adj: Adjacency, n_reps: int, backend: Backend) -> bool:
    """Whether the territories' flow model will run beside the contiguity stages: a second core, HiGHS,
    and at most ``FLOW_MAX_ARCS`` flow variables (counted here as every directed edge for every rep, an
    upper bound on ``flow_arcs``)."""
    return background.available(backend) and 2 * len(adj.u) * n_reps <= FLOW_MAX_ARCS


def _arcs_beside(
    spec: ModelSpec, adj: Adjacency, parts: list[Part], backend: Backend
) -> tuple[np.ndarray, np.ndarray, np.ndarray] | None:
    """The flow arcs, or None when the model does not run beside: no second core, not HiGHS, a part
    without a root, or more than ``FLOW_MAX_ARCS`` flow variables."""
    if not background.available(backend) or any(root < 0 for _, root in parts):
        return None
    arcs = flow_arcs(spec, adj, parts)
    return None if len(arcs[0]) > FLOW_MAX_ARCS else arcs


def _proved(running: bool, result: repair.MipResult | None) -> bool:
    """A model beside has ended with a proof: an optimal connected plan, or none exists."""
    return (
        not running and result is not None and result.status in (SolveStatus.OPTIMAL, SolveStatus.INFEASIBLE)
    )


class FlowModel(background.WholeModel):
    """The whole model with the flow rows, solving in a thread until its deadline or ``finish``. ``spec``
    carries the centres (``contiguous.with_centres``: a centre's unit has a column for its rep only), so
    each part holds its root without a row of its own."""

    def __init__(
        self,
        spec: ModelSpec,
        adj: Adjacency,
        parts: list[Part],
        arcs: tuple[np.ndarray, np.ndarray, np.ndarray],
        backend: Backend,
        *,
        deadline: float,
        gap: float,
        seed: int,
    ) -> None:
        self._parts, self._arcs = parts, arcs
        self._units = part_units(spec, parts)
        self._model_vars = -1  # the model's own variables (x, then any slack), known once it is built
        self._graph = adj.csr()
        self._arc_index: dict[tuple[int, int, int], int] | None = None  # (tail, head, part) -> flow variable
        # one thread: the cut loop or the neighbourhood search has the other core
        super().__init__(spec, backend, deadline=deadline, gap=gap, seed=seed, threads=1)

    name = "contiguous_flow"

    def extend(self, form: formulation.Formulation) -> None:
        """The flow variables (after the model's own) and their rows."""
        self._model_vars = len(form.variables)
        add_flow_rows(form, self._parts, self._arcs, self._units)

    def settled(self) -> bool:
        """It has ended with a proof: an optimal connected plan, or none exists."""
        return _proved(self.running(), self.result)

    def built(self) -> bool:
        """Its model is built: HiGHS takes up a plan offered from now on (one offered before is dropped)."""
        return self._model_vars >= 0

    def offer(self, plan: np.ndarray, *, counted: bool = True) -> None:
        """A connected plan, with a flow along a breadth-first tree of each part from its root."""
        if not self.built():
            return  # still building: the cut loop offers its next plan later
        x = np.zeros(self._model_vars)
        x[: len(self._col_unit)] = plan[self._col_unit] == self._col_rep
        if self._arc_index is None:  # built on the first offer, reused by the next ones
            self._arc_index = arc_index(self._arcs)
        flow = tree_flow(plan, self._parts, self._arc_index, self._graph, len(self._arcs[0]))
        if flow is None:
            return  # not connected: not a solution of this model
        self.live.post(np.concatenate([x, flow]), counted=counted)


def part_units(spec: ModelSpec, parts: list[Part]) -> list[int]:
    """How many units each part may hold (a column for one of its reps): its flow arcs' capacity + 1."""
    return [int(spec.allowed[:, reps].any(axis=1).sum()) for reps, _ in parts]


def arc_index(arcs: tuple[np.ndarray, np.ndarray, np.ndarray]) -> dict[tuple[int, int, int], int]:
    """(tail, head, part) -> its flow variable, for ``tree_flow``."""
    return {arc: k for k, arc in enumerate(zip(*(a.tolist() for a in arcs), strict=True))}


def add_flow_rows(
    form: formulation.Formulation,
    parts: list[Part],
    arcs: tuple[np.ndarray, np.ndarray, np.ndarray],
    units: list[int],
) -> None:
    """The flow variables of ``arcs`` (after the model's own) and their rows, for the ``parts`` (``units``:
    how many units each may hold)."""
    tail, head, part = arcs
    x = form.variables[: form.n_cols]
    part_of: dict[int, list[int]] = {}  # a rep's parts: its territory's and its district's
    for k, (reps, _) in enumerate(parts):
        for j in reps.tolist():
            part_of.setdefault(int(j), []).append(k)
    member: dict[tuple[int, int], list[tuple[pulp.LpVariable, float]]] = {}  # (unit, part): its x terms
    for c, (u, j) in enumerate(zip(form.col_unit.tolist(), form.col_rep.tolist(), strict=True)):
        for k in part_of.get(j, []):
            member.setdefault((u, k), []).append((x[c], 1.0))
    f = [form.prob.add_variable(f"flow_{k}", 0, None) for k in range(len(tail))]
    rows: list[pulp.LpConstraint] = []
    net_in: dict[tuple[int, int], list[tuple[pulp.LpVariable, float]]] = {}  # (unit, part): flow terms
    for k, (a, b, q) in enumerate(zip(tail.tolist(), head.tolist(), part.tolist(), strict=True)):
        net_in.setdefault((b, q), []).append((f[k], 1.0))
        net_in.setdefault((a, q), []).append((f[k], -1.0))
        cap = float(units[q] - 1)
        for end in (a, b):
            terms = [(v, -cap) for v, _ in member[end, q]]
            expr = pulp.LpAffineExpression([(f[k], 1.0), *terms])
            rows.append(pulp.LpConstraint(expr, sense=formulation.LE, rhs=0.0, name=f"flowcap_{k}_{end}"))
    for (u, q), terms in member.items():
        if u != parts[q][1]:
            expr = pulp.LpAffineExpression([*net_in.get((u, q), []), *((v, -1.0) for v, _ in terms)])
            rows.append(pulp.LpConstraint(expr, sense=formulation.EQ, rhs=0.0))
    for con in rows:
        form.prob.addConstraint(con)
        form.constraints.append(con)
    form.variables.extend(f)


def tree_flow(
    plan: np.ndarray,
    parts: list[Part],
    index: dict[tuple[int, int, int], int],
    graph: object,
    n_flow: int,
) -> np.ndarray | None:
    """The flow variables' values for a plan: along a breadth-first tree of each part from its root
    (``index``: (tail, head, part) -> flow variable; ``graph`` the adjacency's CSR matrix); None when a part
    is not one piece holding its root, or holds a unit it has no column for."""
    flow = np.zeros(n_flow)
    for j, (reps, c) in enumerate(parts):
        units = np.flatnonzero(np.isin(plan, reps))
        local = graph[units][:, units]  # type: ignore[index]
        root = int(np.searchsorted(units, c))
        if root >= len(units) or units[root] != c:
            return None
        order, pred = breadth_first_order(local, root, directed=False, return_predecessors=True)
        if len(order) != len(units):
            return None
        size = np.ones(len(units))
        for node in order[::-1].tolist():  # subtree sizes, leaves first
            if node != root:
                size[pred[node]] += size[node]
                arc = index.get((int(units[pred[node]]), int(units[node]), j))
                if arc is None:  # a unit the part may not hold (no column): not a solution of the model
                    return None
                flow[arc] = size[node]
    return flow


class PhasedFlow:
    """The flow model with its objective and, when nobody has a connected plan by ``SWITCH_SHARE`` of its
    time, the model without objective beside it (a feasibility phase: HiGHS stops at its first connected
    plan or proves that none exists), once a core is idle for it or the caller gives it its own
    (``take_core``: the costed phase keeps a core to itself, as plain PuLP's model has), until either
    ends: the costed model's answer settles it; the other's
    proof ends both, and from its plan (or a plan offered meanwhile, which ends the feasibility phase at
    once: any connected plan is optimal there) the costed model starts again, to the deadline. The costed
    model used to be stopped at the switch: QA96 F1, 58 California counties x 6 reps at +-10%, it proves
    in 10 s that no connected plan exists, and stopped at 5 s of a 25 s stage the run ended in exit 3.
    Measured: Virginia's proof took HiGHS 37 s with the objective, 16-26 s without it (the run's proof
    came at 58-60 s of 60, or not at all); on NC's 100 counties, where the search finds a connected plan
    in 5 s, starting with the feasibility phase left the costed model 4.5% from its bound at 60 s where
    starting with it reached 0.1%. The feasibility phase once added each unit's separator
    row (z[i] <= sum of z over i's neighbours, implied by the flow rows in integers, not in the LP): over
    three seeds each (2026-12-04, the model alone, one thread) the proof took 20.8 / 17.8 / 5.5 s with
    them against 3.7 / 7.1 / 3.1 s without on Columbus's 49 neighbourhoods x 6 reps, 20.8 / 58.1 / 45.4
    against 25.0 / 33.8 / 29.0 s on Africa's 51 countries x 6 reps, 37.9 / 37.4 / 32.5 against 25.1 /
    26.5 / 27.5 s on Virginia's 136 units x 8 reps: they are gone. Same interface as ``FlowModel`` for
    ``contiguous.solve``.

    With ``feasibility_first`` (``district_contiguity``, whose stage starts with no connected plan) the
    feasibility phase comes first and runs until it has a plan (``found``), a proof, or a plan offered.
    Its first plan or proof took 26 s on QA92's 84 Russian regions x 8 reps in 3 districts; stopped at a
    share of the stage and restarted with the objective, it settled in neither run."""

    def __init__(
        self,
        spec: ModelSpec,
        adj: Adjacency,
        parts: list[Part],
        arcs: tuple[np.ndarray, np.ndarray, np.ndarray],
        backend: Backend,
        *,
        deadline: float,
        gap: float,
        seed: int,
        feasibility_first: bool = False,
    ) -> None:
        self.deadline = deadline
        self._args = (spec, adj, parts, arcs, backend)
        self._gap, self._seed = gap, seed
        self._lock = threading.Lock()
        self._stopped = False
        self._offered: np.ndarray | None = None  # the best plan offered, for a costed phase's start
        self._began = time.perf_counter()
        self._switch_at = self._began + SWITCH_SHARE * max(0.0, deadline - self._began)
        self._feasibility = feasibility_first  # the phase running drops the objective
        self._helper: FlowModel | None = None  # the phase without objective beside the costed one
        self._given = threading.Event()  # the caller's thread gives its core to that phase (``take_core``)
        self._model = self._feasible() if feasibility_first else self._costed()
        # the connected plan the feasibility phase ended with (it is the costed phase's start)
        self.found: np.ndarray | None = None
        self.result: repair.MipResult | None = None
        # set once it has proven the answer (no connected plan, or the optimum): a cut round's MIP
        # solving then is cancelled through it (``contiguous.solve``), instead of running out its time
        self.proved = threading.Event()
        self._thread = threading.Thread(target=self._run, name="phased-flow", daemon=True)
        self._thread.start()

    def _costed(self) -> FlowModel:
        """The flow model with the objective, to the deadline at the run's gap."""
        return FlowModel(*self._args, deadline=self.deadline, gap=self._gap, seed=self._seed)

    def _feasible(self) -> FlowModel:
        """The flow model with the objective dropped: its first connected plan, or the proof of none."""
        spec, adj, parts, arcs, backend = self._args
        zero = spec.without_objective()
        return FlowModel(zero, adj, parts, arcs, backend, deadline=self.deadline, gap=1.0, seed=self._seed)

    def _run(self) -> None:
        try:
            self._phases()
        finally:
            if _proved(False, self.result):
                self.proved.set()

    def _phases(self) -> None:
        spec = self._args[0]
        if not self._feasibility:
            costed = self._model
            while costed.running() and time.perf_counter() < self._switch_at and not self._stopped:
                time.sleep(0.05)
            # nobody has a connected plan: whether one exists, beside the costed phase, which goes on (QA96
            # F1: 58 California counties x 6 reps, the costed phase proves in 10 s that none exists;
            # stopped at 20% of a 25 s stage for the phase without objective, which started over, the run
            # ended in exit 3 where plain's flow model proves it in 14 s), once a core is idle for it
            while not self._helper_started(costed):
                time.sleep(0.05)
            if self._helper is None:
                self.result = costed.finish(stop=self._stopped)
                return
            settled, first = self._beside(costed, self._helper)
            if settled:
                return
        else:
            first = self._model.finish(stop=False)
        log.info(
            "flow model, feasibility phase (objective dropped): %s after %.1fs",
            "no answer" if first is None else first.status.name,
            time.perf_counter() - self._began,
        )
        if first is not None and first.status is SolveStatus.INFEASIBLE and first.unit_rep is None:
            self.result = first  # proven: no connected plan
            return
        found = first.unit_rep if first is not None else None
        with self._lock:
            self.found = found
            if self._stopped or time.perf_counter() >= self.deadline - background.GRACE:
                # the feasibility phase's plan is connected, not proven optimal: no bound from it
                self.result = _unproven(spec, first)
                return
            self._model = self._costed()
            self._feasibility = False
            starts = [x for x in (found, self._offered) if x is not None]
        # HiGHS takes up posted plans once its model is built: post them until then
        while starts and not self._model.built() and self._model.running():
            time.sleep(0.05)
        for plan in sorted(starts, key=lambda x: objective(spec, x)):
            self._model.offer(plan)
        second = self._model.finish(stop=False)
        self.result = second if second is not None else _unproven(spec, first)

    def _helper_started(self, costed: FlowModel) -> bool:
        """Whether the wait for the phase without objective is over: started now (nobody has a connected
        plan, and a core is idle for it), or no longer wanted (a plan known, the costed phase ended or
        stopped). On a busy machine it would only slow the costed phase: QA102 F1, 78 Thai provinces x
        8 reps with a disruption budget on two cores, the costed phase alone proves in 11-23 s (seeds 0
        to 2), beside the search's thread and this phase it found no plan in 26 s (exit 3; plain's flow
        model proves in 19 s); on its F3 case the costed phase proves in 9-14 s alone, this phase
        needed 36 s to 60 s and more."""
        with self._lock:
            known = self._offered is not None or costed.live.found > 0
            if known or self._stopped or not costed.running():
                return True
        if not (self._given.is_set() or background.core_to_spare()):
            return False
        with self._lock:
            if self._offered is None and not self._stopped:
                self._helper = self._feasible()
        return True

    def wants_core(self) -> bool:
        """The costed phase runs past its switch with no connected plan known, and the phase without
        objective waits for a core (``_helper_started``)."""
        with self._lock:
            model, helper, known = self._model, self._helper, self._offered is not None
        return (
            not self._feasibility
            and helper is None
            and not known
            and not self._stopped
            and model.running()
            and model.live.found == 0
            and time.perf_counter() >= self._switch_at
        )

    def take_core(self) -> None:
        """The caller's thread gives its core to the phase without objective, which then starts whatever
        the machine's load, while the caller waits for it (``contiguous._yield_to_flow``): Virginia's
        proof, which that phase finds in 12.9 s alone where the costed one has none in 60 s."""
        self._given.set()

    def feasibility_running(self) -> bool:
        """The phase without objective runs (beside the costed one, or alone)."""
        with self._lock:
            helper, model, alone = self._helper, self._model, self._feasibility
        return (helper is not None and helper.running()) or (alone and model.running())

    def _beside(self, costed: FlowModel, helper: FlowModel) -> tuple[bool, repair.MipResult | None]:
        """The phase without objective beside the costed one until either ends. The costed phase ending
        first settles it (its result is the answer: a proof, or its plan at the deadline): (True, None).
        Else the costed phase is stopped and (False, the other's answer) returned: a proof, or a connected
        plan from which the costed phase starts again (with that start at its root HiGHS went further than
        the phase that ran on with it posted: NC's 100 counties proven optimal at 57 s of 60 where that one
        ended 0.7-0.8% from its bound)."""
        while costed.running() and helper.running() and not self._stopped:
            time.sleep(0.05)
        if not costed.running() and not self._stopped:
            helper.finish(stop=True)
            self.result = costed.finish(stop=False)
            return True, None
        first = helper.finish(stop=self._stopped)
        costed.finish(stop=True)
        return False, first

    def running(self) -> bool:
        return self._thread.is_alive()

    def has_plan(self) -> bool:
        """HiGHS has found a connected plan in the phase running, or the phase without objective has (it
        is the costed phase's start), or the phases have ended with one."""
        with self._lock:
            model, found = self._model, self.found
        return (
            found is not None
            or model.live.found > 0
            or (self.result is not None and self.result.unit_rep is not None)
        )

    def settled(self) -> bool:
        """It has ended with a proof: an optimal connected plan (of a costed phase), or none exists."""
        return _proved(self.running(), self.result)

    def offer(self, plan: np.ndarray) -> None:
        """A connected plan: to the costed phase running; a feasibility phase, whose only question it
        answers, is cancelled instead (HiGHS takes up a posted plan only once its model is built), and the
        plan is kept for the next costed phase's start."""
        spec = self._args[0]
        with self._lock:
            if self._offered is None or objective(spec, plan) < objective(spec, self._offered):
                self._offered = plan
            model, feasibility, helper = self._model, self._feasibility, self._helper
        if helper is not None:  # its only question is answered
            helper.live.cancel.set()
        if feasibility:
            model.live.cancel.set()
        else:
            model.offer(plan)

    def finish(self, *, stop: bool) -> repair.MipResult | None:
        """As ``FlowModel.finish``: ``stop`` cancels the phase running and no second phase starts."""
        if stop:
            with self._lock:
                self._stopped = True
                model, helper = self._model, self._helper
            model.finish(stop=True)
            if helper is not None:
                helper.finish(stop=True)
            self._thread.join(timeout=background.GRACE)
            return None if self._thread.is_alive() else self.result
        self._thread.join(timeout=max(self.deadline - time.perf_counter(), 0.0) + 2 * background.GRACE)
        if self._thread.is_alive():
            return self.finish(stop=True)
        return self.result


def _unproven(spec: ModelSpec, first: repair.MipResult | None) -> repair.MipResult | None:
    """The first phase's connected plan as a result that proves nothing (its objective was dropped, so
    its "optimal" and its bound are the objective-free model's), or None without a plan."""
    if first is None or first.unit_rep is None:
        return None
    value = objective(spec, first.unit_rep)
    return dataclasses.replace(first, objective=value, bound=None, status=SolveStatus.FEASIBLE)


def start_phased(
    spec: ModelSpec,
    adj: Adjacency,
    parts: list[Part],
    backend: Backend,
    *,
    deadline: float,
    gap: float,
    seed: int,
    feasibility_first: bool = False,
) -> PhasedFlow | None:
    """``start``'s conditions, and the flow model in its two phases (``PhasedFlow``), the one without
    objective first with ``feasibility_first``."""
    arcs = _arcs_beside(spec, adj, parts, backend)
    if arcs is None:
        return None
    return PhasedFlow(
        spec,
        adj,
        parts,
        arcs,
        backend,
        deadline=deadline,
        gap=gap,
        seed=seed,
        feasibility_first=feasibility_first,
    )


def bare(spec: ModelSpec) -> ModelSpec | None:
    """``spec`` with no objective and none of its rows besides the rep bands (the disruption budgets, the
    account counts, the district and region bands), or None when it has none of them."""
    if (
        spec.budget is None
        and spec.rep_budget_share is None
        and spec.min_accounts is None
        and spec.max_accounts is None
        and spec.groups is None
    ):
        return None
    return dataclasses.replace(
        spec.without_objective(),
        budget=None,
        rep_budget_share=None,
        min_accounts=None,
        max_accounts=None,
        groups=None,
    )


def settle_without_rows(
    spec: ModelSpec, adj: Adjacency, parts: list[Part], backend: Backend, *, deadline: float, seed: int
) -> bool | None:
    """After a proof that no connected plan exists: whether none exists without the rows besides the rep
    bands either (``bare``). True: proven, those rows play no part (QA30 F8: Columbus's proof named the
    disruption budget and offered --max-moved-share, where the model has no connected plan without it);
    False: a connected plan exists without them, so they are in conflict; None: not settled by
    ``deadline``, no such rows, not HiGHS, or too many flow variables. The flow model with the objective
    dropped, on the calling thread's time (the run has nothing else left to do)."""
    free = bare(spec)
    if free is None or backend.name != "highs" or any(root < 0 for _, root in parts):
        return None
    arcs = flow_arcs(free, adj, parts)
    if len(arcs[0]) > FLOW_MAX_ARCS or deadline - time.perf_counter() <= background.GRACE:
        return None
    model = FlowModel(free, adj, parts, arcs, backend, deadline=deadline, gap=1.0, seed=seed)
    result = model.finish(stop=False)
    if result is None:
        return None
    if result.status is SolveStatus.INFEASIBLE and result.unit_rep is None:
        return True
    return False if result.unit_rep is not None else None


@dataclass(frozen=True)
class Merged:
    """The flow model's answer merged with the cut loop's: ``infeasible`` (proven: no connected plan),
    the best connected plan, the best bound, whether that plan is proven optimal, and whether it is the
    flow model's (method ``flow``)."""

    infeasible: bool
    best: np.ndarray | None
    lower: float
    proven: bool
    from_flow: bool


def merge(
    flow: FlowModel | PhasedFlow,
    spec: ModelSpec,
    best: np.ndarray | None,
    lower: float,
    proven: bool,
    *,
    stop: bool,
) -> Merged:
    """Finish ``flow`` (``stop``: cancel it now) and merge its answer: "infeasible", else its bound, and
    its plan when better, or as good and proven where the cut loop proved nothing."""
    fres = flow.finish(stop=stop)
    if fres is not None and fres.status is SolveStatus.INFEASIBLE:
        return Merged(True, best, lower, proven, False)
    if fres is None:
        return Merged(False, best, lower, proven, False)
    if fres.bound is not None:
        lower = max(lower, float(fres.bound))
    if fres.unit_rep is not None:
        ours = np.inf if best is None else objective(spec, best)
        theirs, optimal = objective(spec, fres.unit_rep), fres.status is SolveStatus.OPTIMAL
        if theirs < ours - 1e-9 or (optimal and not proven and theirs <= ours + 1e-9):
            return Merged(False, fres.unit_rep, lower, optimal, True)
    return Merged(False, best, lower, proven, False)


@dataclass(frozen=True)
class LeastConnected:
    """``least_violation_connected``'s answer: a plan of connected territories, its priced violation (as
    ``lp.relax_prices`` prices it), whether HiGHS proved it least (within ``LEAST_GAP``) and its bound on
    every connected plan's priced violation."""

    plan: np.ndarray
    violation: float
    proven: bool
    bound: float


LEAST_GAP = 1e-3  # relative gap of the MIP on the violation of connected plans


def least_violation_connected(
    spec: ModelSpec,
    adj: Adjacency,
    centre: np.ndarray,
    backend: Backend,
    *,
    deadline: float,
    seed: int,
    threads: int | None,
    start: np.ndarray | None = None,
    model_bands: bool = False,
    cancel: threading.Event | None = None,
) -> LeastConnected | None:
    """``--contiguous --relax`` on a small map: the plan of connected territories (each one piece holding
    the unit at its rep's home, ``centre``) with the least violation of the user's bands and the model's
    other rows, by HiGHS on the flow model with every such row elastic and the violation alone as the
    objective (priced in targets as the elastic MIP of ``pipeline`` prices it), started from ``start`` when
    it is such a plan. The plan of connected territories the flip search finds out of a few bands is a
    start, not the least (README, QA30: 3.9% of a band over on Africa's countries where 0.12% exists).
    ``model_bands``: the model's bands (rounded inwards to a measure's step) instead of the user's, so that
    a violation of 0 is a plan of the model (the contiguity stage's search for one, without ``--relax``).
    ``cancel`` stops HiGHS (with its best plan so far).
    None when the model does not fit (not HiGHS, a rep with no home unit, more than ``FLOW_MAX_ARCS`` flow
    variables) or no plan came in time."""
    from territory_planner.optimize import lp as lpmod
    from territory_planner.optimize.contiguous import with_centres

    if backend.name != "highs" or (centre < 0).any():
        return None
    p = spec.problem
    user = with_centres(spec, centre)
    if not model_bands:  # the user's bands, not rounded inwards (as ``pipeline._relaxed``)
        user = user.as_given()
    parts = territory_parts(centre)
    arcs = flow_arcs(user, adj, parts)
    if len(arcs[0]) > FLOW_MAX_ARCS or deadline - time.perf_counter() <= background.GRACE:
        return None
    col_unit, col_rep = np.nonzero(user.allowed)
    form = formulation.build(
        user.without_objective(),
        col_unit,
        col_rep,
        integer=True,
        elastic=True,
        slack_price=lpmod.relax_prices(user),
        name="relaxed_connected",
    )
    add_flow_rows(form, parts, arcs, part_units(user, parts))
    warm = None
    if start is not None:
        flow = tree_flow(start, parts, arc_index(arcs), adj.csr(), len(arcs[0]))
        if flow is not None:
            warm = formulation.elastic_start(form, (start[col_unit] == col_rep).astype(float))
            warm[len(warm) - len(flow) :] = flow
    out = backend.solve(
        form.prob,
        form.variables,
        form.constraints,
        mip=True,
        time_limit=max(deadline - time.perf_counter(), 0.5),
        gap=LEAST_GAP,
        seed=seed,
        threads=threads,
        start=warm,
        live=None if cancel is None else LiveMip(cancel),
    )
    if not out.has_solution:
        return None
    take = out.values[: len(col_unit)] > 0.5
    plan = np.full(p.n_units, -1, dtype=np.int64)
    plan[col_unit[take]] = col_rep[take]
    if (plan < 0).any():
        return None
    value = float(out.objective or 0.0)
    bound = float(out.bound) if out.bound is not None else 0.0
    return LeastConnected(plan, value, out.status is SolveStatus.OPTIMAL, bound)
