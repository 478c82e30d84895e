"""The whole model as a second member of the portfolio, run by HiGHS in a thread beside the search.

On a model HiGHS can take whole (at most ``beside.BESIDE_PAIRS`` pairs), the neighbourhood search and
HiGHS's own tree search are good at different things: the search improves a plan fast, the tree search
proves bounds and sometimes finds plans no neighbourhood reaches (a disruption budget that couples every
rep). Run one after the other, each gets a share of the time, and HiGHS restarts its tree each time. Run
side by side, HiGHS gets the whole time left, as plain PuLP + HiGHS would, and the search keeps its
time too: the run keeps the better plan and HiGHS's bound. HiGHS releases the
GIL while it solves, so this needs a second core: it is only done when the process may use two.
"""

from __future__ import annotations

import atexit
import logging
import math
import os
import sys
import threading
import time
import weakref
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

import numpy as np

from territory_planner.optimize import formulation, repair
from territory_planner.optimize.spec import ModelSpec
from territory_planner.solvers.base import Backend, LiveMip, SolveStatus

log = logging.getLogger(__name__)

GRACE = 2.0  # seconds a cancelled HiGHS run may take to stop and hand back its solution
# the plan's whole model at the run's deadline: its best plan and bound come from HiGHS's callbacks, so
# the run need not wait for PuLP to read the solution back (on 1,300 Japanese cities x 40 reps that took
# the run 2.9 s past its deadline, and --time-limit 30 to 35.7 s on a loaded machine: QA13 2)
HANDBACK = 0.25


# The GIL switch interval while a member solves: HiGHS calls back into Python from its thread (the
# cancel check and the dual bound at each node, the search's plans before each dive: some 100-300 calls
# a second), and each call waits for the GIL until the main thread, busy in the search's Python code,
# is made to drop it, by default after 5 ms. On 159 Georgia counties x 4 reps the whole model beside a
# busy main thread took 2.85 s to prove its optimum where it takes 1.5 s alone, and 1.2 s with 0.2 ms.
FAST_SWITCH = 2e-4
_switch_lock = threading.Lock()
_switch_users = 0
_switch_saved = 0.005


@contextmanager
def fast_handoff() -> Iterator[None]:
    """While a HiGHS run with Python callbacks solves in another thread: the interpreter's switch
    interval at ``FAST_SWITCH`` (process-wide, restored when the last such run ends)."""
    global _switch_users, _switch_saved
    with _switch_lock:
        if _switch_users == 0:
            _switch_saved = sys.getswitchinterval()
            sys.setswitchinterval(min(_switch_saved, FAST_SWITCH))
        _switch_users += 1
    try:
        yield
    finally:
        with _switch_lock:
            _switch_users -= 1
            if _switch_users == 0:
                sys.setswitchinterval(_switch_saved)


# names of the threads in which HiGHS solves beside the search (this module's and the flow model's)
SOLVER_THREADS = frozenset({"whole-model", "phased-flow"})


def _solver_threads() -> list[threading.Thread]:
    """The threads in which HiGHS still solves beside the caller."""
    return [t for t in threading.enumerate() if t.name in SOLVER_THREADS and t.is_alive()]


def solver_running() -> bool:
    """Whether HiGHS still runs in a thread beside the caller: a member cancelled at the deadline that is
    still in its presolve (which does not look at the cancel) is left to end on its own. Leaving the
    interpreter then aborts the process (std::terminate in HiGHS's thread pool, exit 134: QA14, a plan
    written and the command killed by SIGABRT), so the console script ends with ``os._exit`` instead."""
    return bool(_solver_threads())


_MEMBERS: weakref.WeakSet[WholeModel] = weakref.WeakSet()  # every member started (flow models too)
EXIT_WAIT = 60.0  # seconds the interpreter's exit waits, at most, for cancelled members to end


def _join_solvers() -> None:
    """At interpreter exit (``atexit``, before daemon threads are torn down): cancel every member still
    running and wait for its thread to end, so a script that calls the API and returns does not end in
    SIGABRT (a member cancelled at the deadline may still be in its presolve). The console script does
    not wait: it ends with ``os._exit`` (``cli.run``)."""
    end = time.perf_counter() + EXIT_WAIT
    while solver_running() and time.perf_counter() < end:
        for member in list(_MEMBERS):
            member.live.cancel.set()
        for t in _solver_threads():
            t.join(timeout=0.2)


atexit.register(_join_solvers)


def cores() -> int:
    """CPU cores this process may use: those it may run on, at most its control group's CPU quota (a
    container given 2 CPUs of a 16-core host sees all 16 in its affinity), a part of a CPU counted from
    a half (1.5 CPUs count 2, as the affinity of such a container did before the quota was read)."""
    try:
        n = len(os.sched_getaffinity(0))
    except AttributeError:  # not on Linux
        n = os.cpu_count() or 1
    quota = cgroup_cpus()
    return max(1, min(n, int(quota + 0.5))) if quota is not None else n


def cpu_ticks(stat: str, cpus: set[int]) -> tuple[float, float] | None:
    """Idle and total ticks of ``cpus`` in the text of ``/proc/stat`` (idle counts iowait), None when it
    names none of them."""
    idle = total = 0.0
    seen = False
    for line in stat.splitlines():
        head, _, rest = line.partition(" ")
        if not head.startswith("cpu") or not head[3:].isdigit() or int(head[3:]) not in cpus:
            continue
        ticks = [float(word) for word in rest.split()[:8]]  # guest time is counted in user time already
        if len(ticks) < 5:
            continue
        idle += ticks[3] + ticks[4]
        total += sum(ticks)
        seen = True
    return (idle, total) if seen else None


def idle_between(
    before: str, after: str, cpus: set[int], *, used: float = 0.0, quota: float | None = None
) -> float | None:
    """Cores of ``cpus`` idle between two readings of ``/proc/stat``; with a control group's ``quota``
    (CPUs), at most that quota less ``used`` (the CPUs this process used meanwhile). None when the
    readings name none of ``cpus`` or no time passed between them."""
    first, second = cpu_ticks(before, cpus), cpu_ticks(after, cpus)
    if first is None or second is None or second[1] <= first[1]:
        return None
    idle = len(cpus) * (second[0] - first[0]) / (second[1] - first[1])
    if quota is not None:
        idle = min(idle, quota - used)
    return max(0.0, idle)


SPARE_IDLE = 0.5  # a member added beside the others only with at least this many cores idle ...
SPARE_WINDOW = 0.3  # ... over this many seconds (``idle_cores``)


def core_to_spare() -> bool:
    """Whether a core is idle for one more solver thread (at least ``SPARE_IDLE`` of one over
    ``SPARE_WINDOW`` seconds, which the caller waits); True where the load cannot be read. A thread
    added on a busy machine takes its share from the ones running: QA98 F1 (a copy racing the whole
    model) and QA102 F1 (the flow model's phase without objective beside its costed phase)."""
    return enough_idle(idle_cores(SPARE_WINDOW))


def enough_idle(idle: float | None) -> bool:
    """``idle_cores``' reading leaves a core to spare (True when it could not be read)."""
    return idle is None or idle >= SPARE_IDLE


def idle_cores(window: float = 0.3) -> float | None:
    """How many of the cores this process may use are idle, measured over the next ``window`` seconds
    (the caller waits them): its affinity's CPUs in ``/proc/stat``, at most its control group's quota
    less what the process used meanwhile. None where it cannot be read (not Linux)."""
    stat = Path("/proc/stat")
    try:
        cpus = set(os.sched_getaffinity(0))
        before, used = stat.read_text(encoding="ascii"), time.process_time()
        time.sleep(window)
        after, used = stat.read_text(encoding="ascii"), time.process_time() - used
        return idle_between(before, after, cpus, used=used / window, quota=cgroup_cpus())
    except (AttributeError, OSError, ValueError):
        return None


CGROUP_ROOT = "/sys/fs/cgroup"


def cgroup_files(
    root: str = CGROUP_ROOT, membership: str = "/proc/self/cgroup"
) -> list[tuple[str, str | None]]:
    """The CPU quota files of this process's control group and of each group above it (a quota anywhere
    up the tree caps it): cgroup v2's ``cpu.max``, v1's ``cpu.cfs_quota_us`` and ``cpu.cfs_period_us``
    (the ``cpu`` controller's own path); the namespace root's too (a container sees its group there)."""
    out: list[tuple[str, str | None]] = []
    try:
        lines = Path(membership).read_text(encoding="utf-8", errors="replace").splitlines()
    except OSError:
        lines = []
    for line in lines:
        parts = line.split(":", 2)
        if len(parts) != 3:
            continue
        controllers, path = parts[1].split(","), parts[2].strip("/")
        steps = path.split("/") if path else []
        for depth in range(len(steps), -1, -1):
            here = "/".join(steps[:depth])
            if parts[1] == "":  # cgroup v2
                out.append((os.path.join(root, here, "cpu.max"), None))
            elif "cpu" in controllers:  # cgroup v1, mounted as cpu,cpuacct (and linked as cpu)
                base = os.path.join(root, parts[1], here)
                out.append((os.path.join(base, "cpu.cfs_quota_us"), os.path.join(base, "cpu.cfs_period_us")))
    out += [
        (os.path.join(root, "cpu.max"), None),
        (os.path.join(root, "cpu", "cpu.cfs_quota_us"), os.path.join(root, "cpu", "cpu.cfs_period_us")),
    ]
    return list(dict.fromkeys(out))


def cgroup_cpus(files: list[tuple[str, str | None]] | None = None) -> float | None:
    """The CPUs this process's control group may use (the least quota / period over ``files``, by default
    ``cgroup_files()``), None when unlimited or unknown (a file missing, unreadable or not two numbers)."""
    least: float | None = None
    for quota_file, period_file in cgroup_files() if files is None else files:
        try:
            # read and closed (QA90 F6: files left to the collector were ResourceWarnings, errors in a
            # test suite run with -W error)
            words = Path(quota_file).read_text(encoding="ascii").split()
            if period_file is not None:
                words += Path(period_file).read_text(encoding="ascii").split()
            quota, period = float(words[0]), float(words[1])
        except (OSError, ValueError, IndexError):  # missing, "max", "-1" read below, not numbers
            continue
        if not (math.isfinite(quota) and math.isfinite(period)) or quota <= 0 or period <= 0:
            continue  # "-1" (v1: unlimited) and anything else that is no quota
        least = quota / period if least is None else min(least, quota / period)
    return least


# Copies of the whole model beside the search, each with its own seed, on a machine with cores to spare
# (one core is the search's): HiGHS's path decides most of what a short run finds, and one seed's path can
# be far off another's. The whole model alone for 20 s with seeds 0 to 3 (2026-12-06, one at a time on an
# idle machine): 183 Bolivian cities x 6 reps, budget 0.0003 above the least share, 138,036 / 135,109 /
# 134,509 / 135,782 (plain PuLP + HiGHS 133,997; the run with one copy 137,944); 120 Quebec cities in
# districts (QA64, 8 s): 75,395 / no plan / 74,979 (plain 75,029).
PORTFOLIO_MOST = 4
_one_copy_users = 0  # runs under ``one_copy`` (a sweep's points) in this process now


@contextmanager
def one_copy() -> Iterator[None]:
    """Runs inside start one copy of the whole model, whatever cores are spare: a sweep's points, each
    solved with one solver thread while others share the machine (a local pool's workers, a Dask
    worker's threads)."""
    global _one_copy_users
    with _switch_lock:
        _one_copy_users += 1
    try:
        yield
    finally:
        with _switch_lock:
            _one_copy_users -= 1


def portfolio_size(threads: int | None) -> int:
    """How many copies of the whole model run beside the search: one per core the search and the other
    copies leave (each using ``threads``), at least one, at most ``PORTFOLIO_MOST``; one under
    ``one_copy``."""
    if _one_copy_users:
        return 1
    return max(1, min(PORTFOLIO_MOST, (cores() - 1) // max(1, threads or 1)))


def available(backend: Backend) -> bool:
    """A second core, and a backend that can be cancelled from this thread (HiGHS)."""
    return backend.name == "highs" and cores() >= 2


class WholeModel:
    """The MIP over every allowed pair, solving in a thread until ``deadline`` or ``finish(stop=True)``.

    It gets no MIP start, as plain PuLP + HiGHS does not: a poor first plan as a MIP start steered
    HiGHS's heuristics around it (Georgia counties at 8 reps with a tight disruption budget: nothing
    better than the 289,174 start in 111 s, against 261,075 without). While it runs, the two members
    share what they find: each plan the run keeps (today's alignment when it satisfies the model, then
    each better plan of the search) is handed to HiGHS (``offer``) through its user-solution callback,
    whose tree search prunes with it, and HiGHS's dual bound (``bound``) holds for the whole model at any
    time, so the run can stop as soon as its plan and that bound meet the gap."""

    def __init__(
        self,
        spec: ModelSpec,
        backend: Backend,
        *,
        deadline: float,
        gap: float,
        seed: int,
        threads: int | None,
    ) -> None:
        self.deadline = deadline
        self.started = time.perf_counter()  # for the run's account of what it did (``stage_whole``)
        self.gap = gap  # HiGHS's relative gap: "optimal" from it means within this gap
        self.seed = seed
        self.raced = False  # a second copy with another seed ran beside it: the notes name each by seed
        self.live = LiveMip()
        self.result: repair.MipResult | None = None
        n = spec.problem.n_units
        self._cols = spec.allowed.copy()
        self._free = np.arange(n)
        self._col_unit, self._col_rep = repair.restricted_columns(self._cols, self._free)
        self._seen = 0  # improving plans of HiGHS already handed to the caller (``new_plan``)
        self.ended = threading.Event()  # set when its solve has ended, for whatever reason
        args = (spec, backend, gap, seed, threads)
        self._thread = threading.Thread(target=self._solve, args=args, name="whole-model", daemon=True)
        _MEMBERS.add(self)
        self._thread.start()

    name = "whole_parallel"  # the model's name (a subclass adds rows through ``extend``)
    extend: Callable[[formulation.Formulation], None] | None = None

    def _solve(
        self,
        spec: ModelSpec,
        backend: Backend,
        gap: float,
        seed: int,
        threads: int | None,
    ) -> None:
        try:
            with fast_handoff():
                self.result = repair._solve_restricted(
                    spec,
                    backend,
                    self._cols,
                    np.full(len(self._free), -1, dtype=np.int64),
                    self._free,
                    deadline=self.deadline,
                    gap=gap,
                    seed=seed,
                    threads=threads,
                    name=self.name,
                    live=self.live,
                    extend=self.extend,
                )
        except Exception as exc:  # noqa: BLE001 - the search's plan stands; a failed member only costs its help
            # one line on the console, the traceback in the debug log (as the warm-up LPs', QA61 F10)
            log.warning("the %s model beside the search failed (%s: %s)", self.name, type(exc).__name__, exc)
            log.debug("the %s model beside the search failed", self.name, exc_info=True)
        finally:
            self.ended.set()

    def running(self) -> bool:
        return self._thread.is_alive()

    def offer(self, plan: np.ndarray, *, counted: bool = True) -> None:
        """A plan of the search (it satisfies the model): HiGHS takes it up before its next dive.
        ``counted`` False: another copy's plan, not counted among the search's plans it took up."""
        self.live.post((plan[self._col_unit] == self._col_rep).astype(float), counted=counted)

    def new_plan(self) -> np.ndarray | None:
        """HiGHS's best plan (a rep per unit) while it runs, when it has reported one since the last
        call: the search takes it up without waiting for the end. None otherwise."""
        found, values = self.live.solution()
        if found == self._seen or values is None or len(values) < len(self._col_unit):
            return None
        self._seen = found
        take = values[: len(self._col_unit)] > 0.5
        plan = np.full(len(self._free), -1, dtype=np.int64)
        plan[self._col_unit[take]] = self._col_rep[take]
        return plan if (plan >= 0).all() else None

    @property
    def bound(self) -> float:
        """HiGHS's dual bound so far (-inf before its first one): valid for the whole model."""
        return self.live.bound

    @property
    def taken(self) -> int:
        """Plans of the search HiGHS took up."""
        return self.live.taken

    def finish(self, *, stop: bool, grace: float = GRACE) -> repair.MipResult | None:
        """Its result: ``stop`` cancels it now (the run is done) and waits at most ``grace`` for it (HiGHS
        does not look at the cancel during its presolve and feasibility jump: the demo, done at 7 s, used
        to wait for its 50-s deadline; a run still in those is left to end on its own, its result unused),
        else it may use the time to its deadline, then ``grace`` to end on its own and, cancelled, another
        ``grace``. None when it has not ended by then (its best plan and bound so far are ``new_plan`` and
        ``bound``, from HiGHS's callbacks)."""
        if stop:
            self.live.cancel.set()
            self._thread.join(timeout=grace)
            return None if self._thread.is_alive() else self.result
        self._thread.join(timeout=max(self.deadline - time.perf_counter(), 0.0) + grace)
        if self._thread.is_alive():
            self.live.cancel.set()
            self._thread.join(timeout=grace)
        return None if self._thread.is_alive() else self.result


class Portfolio:
    """Copies of the whole model with different seeds (``PORTFOLIO_MOST`` at most), each in its own thread,
    seen by the run as one member: its bound is the best of theirs (each holds for the model), a plan one
    copy finds is handed to the others, and the first proof (optimal within the gap, or infeasible) ends
    them all. ``seed`` names the copy whose result ``finish`` returned."""

    def __init__(
        self,
        spec: ModelSpec,
        backend: Backend,
        *,
        deadline: float,
        gap: float,
        seeds: list[int],
        threads: int | None,
    ) -> None:
        self.deadline = deadline
        self.started = time.perf_counter()
        self.gap = gap
        self.raced = True  # the notes name the copy by its seed
        self.members = [
            WholeModel(spec, backend, deadline=deadline, gap=gap, seed=s, threads=threads) for s in seeds
        ]
        self.seed = self.members[0].seed
        self.ended = threading.Event()  # set at the first proof, or when every copy has ended
        self._proof: WholeModel | None = None
        self._from: WholeModel | None = None  # the copy ``new_plan`` took its last plan from
        self._finder: WholeModel | None = None  # the copy whose plan the run kept last
        threading.Thread(target=self._watch, name="portfolio", daemon=True).start()

    def _watch(self) -> None:
        while not self.ended.is_set():
            for member in self.members:
                res = member.result if member.ended.is_set() else None
                if res is not None and res.status in (SolveStatus.OPTIMAL, SolveStatus.INFEASIBLE):
                    self._proof = member
                    for other in self.members:
                        if other is not member:
                            other.live.cancel.set()
                    self.ended.set()
                    return
            if all(member.ended.is_set() for member in self.members):
                self.ended.set()
                return
            time.sleep(0.05)

    def running(self) -> bool:
        return not self.ended.is_set()

    @property
    def bound(self) -> float:
        return max(member.bound for member in self.members)

    @property
    def taken(self) -> int:
        """The search's plans taken up: every copy is handed each of them, the count is the most any
        copy took up (QA73 F1: the sum over copies, with the plans they handed each other, said 25
        plans of the search where it had handed over 7)."""
        return max(member.taken for member in self.members)

    def offer(self, plan: np.ndarray) -> None:
        for member in self.members:
            member.offer(plan)

    def new_plan(self) -> np.ndarray | None:
        """A copy's best plan reported since the last call (the first copy's in order that has one; the
        others keep theirs for the next call). The run hands it to the other copies through ``kept`` once
        it has kept it."""
        for member in self.members:
            plan = member.new_plan()
            if plan is not None:
                self._from = member
                return plan
        return None

    def kept(self, plan: np.ndarray) -> None:
        """The run kept the plan ``new_plan`` gave last (better than every plan handed over before): the
        other copies take it up, not counted among the search's, and the note names its copy. Only kept
        plans are handed: each then beats any plan still pending in a copy (QA73 F6: a copy's plan 7.4%
        worse replaced the search's plan pending in the three others)."""
        finder = self._from
        if finder is None:
            return
        self._finder = finder
        for other in self.members:
            if other is not finder:
                other.offer(plan, counted=False)

    def finish(self, *, stop: bool, grace: float = GRACE) -> repair.MipResult | None:
        """As ``WholeModel.finish``, over the copies: the first proof's result, else the best plan's, else
        a result without a plan; None when no copy has ended in time. ``grace`` is shared by the copies."""
        if not stop:
            self.ended.wait(timeout=max(self.deadline - time.perf_counter(), 0.0) + grace)
        end = time.perf_counter() + grace
        for member in self.members:
            member.finish(stop=True, grace=max(end - time.perf_counter(), 0.0))
        self.ended.set()
        chosen = self._proof
        if chosen is None:
            done = [m for m in self.members if m.result is not None and not m.running()]
            # the best plan; of copies holding the same one (handed between them), the one that found it
            planned = [
                (m.result.objective, m is not self._finder, k)
                for k, m in enumerate(done)
                if m.result and m.result.objective is not None
            ]
            if planned:
                chosen = done[min(planned)[2]]
            elif done:
                chosen = done[0]
        if chosen is None:
            return None
        self.seed = chosen.seed
        return chosen.result


Member = WholeModel | Portfolio  # what runs beside the search: one copy, or several
