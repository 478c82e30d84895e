"""Parameter sweeps: one plan per grid point, a results table and the balance/disruption/travel trade-off.

``run_sweep(scenario, {"tolerance": [0.03, 0.05], "max_moved_share": [0, 0.1]}, out)`` solves every
combination (grid names are scenario keys) and writes::

    out/points/p000_tolerance-0.03_max_moved_share-0/   a complete plan folder per point
    out/sweep.csv                                       parameters, status, objective, gap, deviation, ...
    out/sweep.html                                      the trade-off chart (inline SVG) and the table

Points run on a local process pool (``workers``) or on a Dask cluster (``executor="dask"``); each solve uses
one solver thread. A point that fails or is infeasible is recorded with its reason and the sweep goes on.
A point whose folder already holds a complete plan solved from the same options (the scenario after
inheritance, the grid values and the base options such as ``--time-limit``) and the same input files (their
SHA-256 in the point's ``manifest.json``) is not recomputed (resume), and an interrupted sweep still writes
the rows it finished. A point solved from anything else is solved again, and ``on_note`` says why (QA15 H2:
after the scenario file changed, the old plans were reported as current).

A point that relaxes others (a wider band, a larger moved-potential budget, ...: every plan of those points
is a plan of this one, ``relaxes``) runs after them and keeps the best of their plans when its own search
ends with a worse one (``seeding.keep_better``), so that it is never worse than a stricter point: within
the solver's gap a looser point could come out worse, and the chart then said that allowing more moves
costs travel (QA7 O3). ``plan_from`` names the point whose plan was kept (empty: the point's own).

The grid (parsed, checked, its points and which relaxes which) is ``sweep_grid``; the page, ``sweep_html``.
"""

from __future__ import annotations

import concurrent.futures as cf
import contextlib
import functools
import importlib
import json
import logging
import multiprocessing
import shutil
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pandas as pd

from territory_planner.errors import COMMAND_LINE, InfeasibleError, InputError, Problem, TerritoryPlannerError
from territory_planner.io.labels import first_few
from territory_planner.io.scenario import load_scenario
from territory_planner.io.scenario_lines import locate, locate_added
from territory_planner.io.writers import atomic_write_text, json_text, write_csv
from territory_planner.options import (
    DEFAULT_TOLERANCE,
    RESTING_BANDS,
    PlanOptions,
    balance_measures,
    build_options,
    unbanded,
)
from territory_planner.sweep_grid import (
    SOLVED,
    SweepPoint,
    check_grid,
    dedupe_grid,
    grid_points,
    grid_words,
    param_text,
    point_options,
    short_json,
    stricter_points,
    try_options,
    with_params,
)
from territory_planner.sweep_html import render_html

log = logging.getLogger(__name__)

RESULT_COLUMNS = [
    "status",
    "objective",
    "travel",
    "gap",
    "max_dev_pct",
    "moved_share",
    "budgeted_share",
    "moved_accounts",
    "seconds",
    "pareto",
    "plan_from",
    "error",
]
OnPoint = Callable[[dict[str, Any], int, int], None]
OnNote = Callable[[str], None]
NOT_FINISHED = (
    "the sweep stopped before this point finished: the same sweep command with the same --out solves it"
)


def solved_otherwise(
    folder: Path, options: PlanOptions, sha: Callable[[Path], str | None] | None = None
) -> str:
    """Why the plan in ``folder`` is not this run's point (``options``), "" when it is: its manifest
    records other options (the scenario changed, or the base options such as --time-limit) or input files
    that have changed since (their SHA-256; ``sha`` hashes a path, by default ``path_sha256``)."""
    from territory_planner.manifest import MANIFEST_NAME, changed_inputs, path_sha256, resolved_options

    try:
        manifest = json.loads((folder / MANIFEST_NAME).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        manifest = None
    if not isinstance(manifest, dict) or not isinstance(manifest.get("options"), dict):
        return f"its {MANIFEST_NAME} (what it was solved from) is missing or unreadable"
    now = json.loads(json_text(resolved_options(options)))
    then = manifest["options"]
    differ = [k for k in now if now.get(k) != then.get(k)] + [k for k in then if k not in now]
    if differ:
        told = ", ".join(f"{k} {short_json(then.get(k))} then, {short_json(now.get(k))} now" for k in differ)
        return f"options changed since it was solved ({told})"
    changed = changed_inputs(manifest.get("inputs"), sha or path_sha256)
    if changed:
        told = ", ".join(f"{k} {path}" + ("" if exists else " (gone)") for k, path, exists in changed)
        return f"inputs changed since it was solved ({told})"
    return ""


def _row_from_summary(summary: dict[str, Any]) -> dict[str, Any]:
    devs = [v for v in (summary.get("max_abs_dev_pct") or {}).values() if v is not None]
    travel = summary.get("compactness")
    return {
        "status": summary.get("status"),
        "objective": summary.get("objective"),
        "travel": travel if travel is not None else summary.get("objective"),
        "gap": summary.get("gap"),
        "max_dev_pct": max(devs) if devs else None,
        "moved_share": summary.get("moved_potential_share"),
        # the share --max-moved-share limits: moves from reps who stay (a departed rep's accounts must move)
        "budgeted_share": summary.get("budgeted_moved_share", summary.get("moved_potential_share")),
        "moved_accounts": summary.get("moved_accounts"),
        "seconds": summary.get("solve_seconds"),
        "error": "",
    }


DASK_CONNECT_SECONDS = 20  # a scheduler that does not answer a sweep's client in this time is no scheduler


def _answers(address: str, seconds: float) -> None:
    """Raise a usage problem when nothing at ``address`` answers Dask's identity request in ``seconds``:
    a port where another service accepts connections and never replies held ``Client(address,
    timeout=...)`` past its timeout without a word (its handshake waits without one; QA63 F5's rest). Any
    other failure (a refused connection, TLS without its settings) is left to the client, which says it."""
    import asyncio
    import socket

    from distributed.comm import connect
    from distributed.comm.addressing import parse_address, parse_host_port

    try:
        scheme, location = parse_address(address)
        host, port = parse_host_port(location) if scheme == "tcp" else (None, None)
    except Exception:  # noqa: BLE001 - not an address the probe can read: the client's own message says it
        return
    if host is not None and port is not None:
        # a closed port or a name that does not resolve, said at once: Dask's connect retries either to
        # its timeout (QA65 F2: 43 s, or "something listens there" where nothing does)
        try:
            socket.create_connection((host, int(port)), timeout=seconds).close()
        except OSError as exc:
            why = f"the Dask scheduler {address} cannot be reached: {exc.strerror or exc}"
            raise InputError(Problem(COMMAND_LINE, None, "--address", why, address)) from None

    async def identity() -> object:
        # Dask's own connect timeout, longer: the wait below ends first and says why (at the same length
        # either could, and Dask's ends in an OSError that is left to the client, which then waited on)
        comm = await connect(address, timeout=2 * seconds)
        try:
            await comm.write({"op": "identity"})
            return await comm.read()
        finally:
            comm.abort()

    try:
        reply = asyncio.run(asyncio.wait_for(identity(), seconds))
    except TimeoutError:
        why = (
            f"the Dask scheduler {address} did not answer in {seconds:g} s: something listens there that "
            "is not a Dask scheduler, or the scheduler is stuck"
        )
        raise InputError(Problem(COMMAND_LINE, None, "--address", why, address)) from None
    except Exception:  # noqa: BLE001 - the client's own message says what is wrong
        return
    kind = reply.get("type") if isinstance(reply, dict) else None
    if kind not in (None, "Scheduler"):
        why = f"{address} is a Dask {kind}, not a scheduler: give the scheduler's address"
        raise InputError(Problem(COMMAND_LINE, None, "--address", why, address))


# the files every plan folder holds: a point whose folder lacks one is damaged (QA62 F4: a folder that
# had lost territories.csv, map.html and report.html was resumed)
PLAN_FILES = (
    "summary.json",
    "assignments.csv",
    "territories.csv",
    "manifest.json",
    "map.html",
    "report.html",
)


def point_damage(folder: Path) -> str:
    """What is wrong with a point's plan folder, "" when nothing: a file a plan writes missing, or an
    assignments.csv that is not the one its run wrote (``manifest.changed_by_hand``: QA62 F4, a cell
    changed by hand or a file cut short was resumed with the numbers of the plan it no longer holds)."""
    from territory_planner.manifest import changed_by_hand

    lacks = [n for n in PLAN_FILES if not (folder / n).is_file()]
    if lacks:
        return f"has no {' and no '.join(lacks)}"
    if changed_by_hand(folder) is not None:
        return "holds an assignments.csv changed after its plan was written"
    return ""


def read_complete(folder: Path) -> dict[str, Any] | None:
    """The result row of a finished point, or None when its folder is missing, incomplete or changed
    since (``point_damage``; whether it was solved from this run's options and inputs is
    ``solved_otherwise``'s question). ``plan_from``: the point whose plan it kept, as recorded when it
    was solved (QA15 L1: a resumed row lost it)."""
    if point_damage(folder):
        return None
    try:
        summary = json.loads((folder / "summary.json").read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    if not isinstance(summary, dict) or not summary.get("status"):
        return None
    sweep = summary.get("sweep")
    seed = sweep.get("seed") if isinstance(sweep, dict) else None
    return {**_row_from_summary(summary), "plan_from": str(seed) if seed and _warm_started(summary) else ""}


def _warm_started(summary: dict[str, Any]) -> bool:
    """Whether the plan kept the plan it was offered (``api.solve``'s ``warm_start`` event)."""
    return any(isinstance(h, dict) and h.get("event") == "warm_start" for h in summary.get("history") or [])


def _seed_plan(folder: str | None) -> dict[str, str] | None:
    """account_id -> rep_id of the plan in ``folder`` (a point this one relaxes), None when unreadable."""
    if folder is None:
        return None
    try:
        frame = pd.read_csv(
            Path(folder) / "assignments.csv",
            dtype=str,
            keep_default_na=False,
            usecols=["account_id", "rep_id"],
        )
    except (OSError, ValueError):
        return None
    return dict(zip(frame["account_id"], frame["rep_id"], strict=True))


_QUIET_LOCK = threading.Lock()
_quiet_points = 0  # points running in this process with their notes unlogged
_quiet_level = logging.NOTSET  # the package logger's level before the first of them


@contextmanager
def _notes_unlogged(quiet: bool) -> Iterator[None]:
    """With ``quiet``, the package logs only errors while a point runs: a plan's warnings (a home account
    given away, ...) are in the point's summary.json, and a quiet sweep prints only its table. The level
    comes back when the last quiet point of the process ends (points may run in threads)."""
    global _quiet_points, _quiet_level
    if not quiet:
        yield
        return
    logger = logging.getLogger("territory_planner")
    with _QUIET_LOCK:
        if _quiet_points == 0:
            _quiet_level = logger.level
            logger.setLevel(logging.ERROR)
        _quiet_points += 1
    try:
        yield
    finally:
        with _QUIET_LOCK:
            _quiet_points -= 1
            if _quiet_points == 0:
                logger.setLevel(_quiet_level)


def _stop_on_signals() -> None:
    """In a pool worker process's main thread: SIGINT and SIGTERM stop the point's solve at once, as the
    console script's handler does (HiGHS's callbacks answer it), so that a stopped sweep's workers drop
    their staged points and exit: the default handler waited for HiGHS to return, and a stopped
    ``--workers 2`` sweep took some 13 s to end (QA59)."""
    import signal

    from territory_planner.interrupt import on_sigint

    # a pool's worker process only: a sweep run in the caller's process (one worker, a library call)
    # leaves the caller's handlers as they are (QA60: run_sweep(workers=1) kept them installed for good)
    worker = multiprocessing.parent_process() is not None
    if worker and threading.current_thread() is threading.main_thread():
        # loaded now, not in the handler: a second signal there met it half imported (QA63 F3)
        importlib.import_module("psutil")

        def stop(signum: int, frame: Any) -> None:
            with contextlib.suppress(Exception):  # the stop goes on whatever ending the children meets
                end_children()
            on_sigint(signum, frame)

        signal.signal(signal.SIGINT, stop)
        signal.signal(signal.SIGTERM, stop)


def end_children() -> None:
    """Terminate this process's child processes: a pool worker stopped with its sweep left the ``cbc``
    that PuLP runs for ``solver=cbc`` going at full load until its own time limit (QA62 F8; the console
    script's Ctrl-C reaches it through the terminal's process group, a worker's SIGTERM does not)."""
    import psutil

    for child in psutil.Process().children(recursive=True):
        with contextlib.suppress(psutil.Error):
            child.terminate()


def run_point(
    values: dict[str, Any],
    params: dict[str, Any],
    folder: str,
    seed: tuple[str, str] | None = None,
    scenario: str | None = None,
    quiet: bool = False,
) -> dict[str, Any]:
    """Solve one grid point into ``folder`` (one solver thread). Never raises for a planning failure.
    ``seed``: (name, folder) of a point this one relaxes, whose plan is kept when it beats the search's
    (``api.solve``'s ``warm_start``: only a plan of this point's model, checked by ``repair.feasible``).
    The plan records the scenario file and the seed's name (summary.json ``sweep``), so that a resumed
    sweep still says which point's plan it kept. ``quiet``: the plan's warnings are not logged (they are
    in its summary.json), only errors."""
    from territory_planner import api
    from territory_planner.optimize import background

    _stop_on_signals()
    start = time.perf_counter()
    try:
        options = point_options(values, params, Path(folder).name)
        extra = {
            "scenario": scenario,
            "sweep": {"point": Path(folder).name, "seed": seed[0] if seed else None},
        }
        # one copy of the whole model beside the search: the points share the machine's cores
        with _notes_unlogged(quiet), background.one_copy():
            output = api.plan(
                options,
                Path(folder),
                force=True,
                warm_start=_seed_plan(seed[1] if seed else None),
                extra=extra,
            )
        row = _row_from_summary(output.summary)
        return {**row, "plan_from": seed[0] if seed and _warm_started(output.summary) else ""}
    except InfeasibleError as exc:
        reason = "; ".join([str(exc), *(c.message for c in exc.conflicts[:3])])
        return {"status": "infeasible", "seconds": round(time.perf_counter() - start, 3), "error": reason}
    except InputError as exc:
        reason = "; ".join(_located(p) for p in exc.problems[:3])
        return {"status": "input_error", "seconds": round(time.perf_counter() - start, 3), "error": reason}
    except TerritoryPlannerError as exc:
        return {"status": "failed", "seconds": round(time.perf_counter() - start, 3), "error": str(exc)}
    except Exception as exc:  # a crash in one point must not stop the sweep; the reason is recorded
        log.exception("sweep point %s crashed", folder)
        return {
            "status": "failed",
            "seconds": round(time.perf_counter() - start, 3),
            "error": f"{type(exc).__name__}: {exc}",
        }


def _located(problem: Problem) -> str:
    """An input problem with its place first, as ``plan`` shows it: "reps.csv, row 4, column district:
    ...". The cell then names where to look, and a message that starts with its option's name
    ("--region-tolerance needs ...") no longer starts the cell with "-", which the CSV's formula guard
    quotes (QA10: the cell read "'--region-tolerance needs ...")."""
    place = [Path(problem.file).name] * bool(problem.file)
    place += [f"row {problem.row}"] * (problem.row is not None)
    place += [f"column {problem.column}"] * bool(problem.column)
    return f"{', '.join(place)}: {problem.message}" if place else problem.message


def pareto_mask(
    frame: pd.DataFrame, criteria: tuple[str, ...] = ("max_dev_pct", "moved_share", "travel")
) -> pd.Series:
    """True for rows no other row beats on every criterion (all minimised) and strictly on one."""
    ok = frame["status"].isin(["optimal", "feasible"]) & frame[list(criteria)].notna().all(axis=1)
    values = frame.loc[ok, list(criteria)].astype(float).to_numpy()
    mask = pd.Series(False, index=frame.index)
    for pos, idx in enumerate(frame.index[ok]):
        v = values[pos]
        dominated = ((values <= v + 1e-9).all(axis=1) & (values < v - 1e-9).any(axis=1)).any()
        mask[idx] = not dominated
    return mask


def best_seed(stricter: list[int], rows: dict[int, dict[str, Any]]) -> int | None:
    """Of the finished points a point relaxes, the one with the best plan (lowest objective: the same
    model objective, since only bands, budgets and limits differ), None when none has a plan."""
    solved = [
        (float(rows[p]["objective"]), p)
        for p in stricter
        if p in rows and rows[p].get("status") in SOLVED and rows[p].get("objective") is not None
    ]
    return min(solved)[1] if solved else None


def _executor_results(
    todo: list[SweepPoint],
    values: dict[str, Any],
    points_dir: Path,
    executor: str,
    workers: int,
    address: str | None,
    order: tuple[dict[int, list[int]], dict[int, dict[str, Any]], dict[int, str]] = ({}, {}, {}),
    scenario: str | None = None,
    quiet: bool = False,
) -> Iterator[tuple[SweepPoint, dict[str, Any]]]:
    """Each point's result as it finishes. ``order`` = (the points each point relaxes, the finished points'
    rows, every point's name): a point starts once every point it relaxes has finished (or was resumed),
    with the best of their plans as its warm start. The caller adds each result to the rows before asking
    for the next one."""
    stricter, rows, names = order
    waiting = sorted(todo, key=lambda p: p.index)

    def take_ready(idle: bool, limit: int | None = None) -> list[tuple[Any, ...]]:
        """The waiting points whose stricter points have all finished, in grid order, with their run
        arguments. ``idle`` (nothing running): never none while points wait (a stricter point that is
        not in this run cannot hold the sweep up)."""
        ready = [p for p in waiting if all(q in rows for q in stricter.get(p.index, []))]
        out = []
        for point in (ready or (waiting[:1] if idle else []))[:limit]:
            waiting.remove(point)
            best = best_seed(stricter.get(point.index, []), rows)
            seed = None if best is None else (names[best], str(points_dir / names[best]))
            out.append((point, (values, point.params, str(points_dir / point.name), seed, scenario, quiet)))
        return out

    if executor == "dask":
        from dask.distributed import Client, as_completed

        if address:
            _answers(address, DASK_CONNECT_SECONDS)
        try:
            client = (
                # a port where something else listens hung without a word (QA63 F5)
                Client(address, timeout=DASK_CONNECT_SECONDS)
                if address
                else Client(processes=False, n_workers=workers, threads_per_worker=1)
            )
        except Exception as exc:  # noqa: BLE001 - QA62 F10, QA63 F5: a traceback for a mistyped address
            what = f"the Dask scheduler {address} cannot be reached" if address else "no local Dask cluster"
            problem = Problem(COMMAND_LINE, None, "--address", f"{what}: {exc}", address or "")
            raise InputError(problem) from None
        futures: dict[Any, SweepPoint] = {}
        try:
            running = as_completed()
            try:
                while waiting or futures:
                    for point, args in take_ready(not futures):
                        job = client.submit(run_point, *args, pure=False)
                        futures[job] = point
                        running.add(job)
                    finished = next(running)
                    yield futures.pop(finished), finished.result()
            finally:
                client.cancel(list(futures))
        finally:
            client.close()
        return
    if workers <= 1:
        while waiting:  # one at a time, so that the next point can start from this one's plan
            for point, args in take_ready(True, 1):
                yield point, run_point(*args)
        return
    pool = cf.ProcessPoolExecutor(max_workers=workers, mp_context=multiprocessing.get_context("spawn"))
    try:
        local: dict[cf.Future[dict[str, Any]], SweepPoint] = {}
        while waiting or local:
            for point, args in take_ready(not local):
                local[pool.submit(run_point, *args)] = point
            done, _ = cf.wait(list(local), return_when=cf.FIRST_COMPLETED)
            for fut in done:
                yield local.pop(fut), fut.result()
    except BaseException:
        # stopped (Ctrl-C, SIGTERM, an error): the running points are stopped too, their staged folders
        # dropped (``_stop_on_signals``), rather than waited for
        for proc in list(getattr(pool, "_processes", {}).values()):
            with contextlib.suppress(Exception):
                proc.terminate()
        raise
    finally:
        pool.shutdown(wait=False, cancel_futures=True)


SWEEP_FILES = frozenset({"points", "sweep.csv", "sweep.html", "input_errors.csv"})


def check_out(out: Path) -> None:
    """A sweep writes into its folder (it resumes there): a folder that holds anything else, a plan
    folder say, is refused (QA17 F18: the sweep's files were added among a plan's), as a usage error."""
    from territory_planner.errors import OutputExistsError

    if out.exists() and not out.is_dir():
        raise OutputExistsError(f"{out} exists and is not a folder")
    names = [p.name for p in out.iterdir()] if out.is_dir() else []
    other = sorted(n for n in names if n not in SWEEP_FILES and not n.startswith("."))  # no staging leftovers
    if other:
        shown = first_few(other)
        raise OutputExistsError(
            f"{out} holds files that are not a sweep's ({shown}): give a new folder, or a sweep folder "
            "to resume"
        )


def prepare_sweep(
    scenario: Path | str, grid: dict[str, list[Any]], overrides: dict[str, Any] | None = None
) -> tuple[dict[str, Any], dict[str, list[Any]], list[str]]:
    """The scenario's values (with ``overrides``), the grid with each value once and the notes about
    values given twice; raises ``InputError`` for a bad grid value (a usage error) or bad base options,
    before anything is solved or written."""
    resting: dict[str, Any] = {}
    found: list[Problem] = []
    values = {**load_scenario(scenario, found, resting=resting), **(overrides or {})}
    if found:  # the good keys' bad values too, in the same run, as `plan` says them (QA62 F3: 1 of 3)
        try:
            build_options(values, source=str(scenario), drop_unbalanced=True)
        except InputError as exc:
            found += exc.problems
        raise InputError(locate(scenario, locate_added(scenario, found)))
    if resting:
        values[RESTING_BANDS] = resting
    grid, notes = dedupe_grid(grid)
    bad = check_grid(values, grid, str(scenario))
    if bad:
        raise InputError(bad)
    _base_problems(scenario, values, grid)  # bad base options fail once, up front
    _table_problems(scenario, values, grid)  # and bad tables
    for value in grid.get("balance", []):
        notes += [
            f"{scenario}: the scenario's {key} for {', '.join(gone)} is not used at balance="
            f"{param_text(value)}, which leaves {'it' if len(gone) == 1 else 'them'} unbalanced"
            for key, gone in unbanded(values, value)[1].items()
        ]
        table = with_params(values, {"balance": value}).get("tolerance")
        unbanded_measures = [
            m
            for m in balance_measures(value)
            if isinstance(table, dict) and m not in {str(k).lower() for k in table}
        ]
        if unbanded_measures:  # QA47 F2: a measure balanced again at a point got the default band unsaid
            notes.append(
                f"{scenario}: the scenario's [tolerance] has no band for {', '.join(unbanded_measures)}: "
                f"balance={param_text(value)} holds it within the default {DEFAULT_TOLERANCE:.0%}"
            )
    return values, grid, notes


def _base_problems(scenario: Path | str, values: dict[str, Any], grid: dict[str, list[Any]]) -> None:
    """Raise the problems of the first point's options: the scenario's own with its file and line (they
    read "options", no line), and those only the grid's values make together (QA62 F9:
    ``tolerance=workload=0.2`` beside ``balance=potential``, blamed on "options", exit 1) as the
    command line's ``--grid`` (a usage error)."""
    first = grid_points(grid)[0].params
    built, problems = try_options(with_params(values, first), str(scenario), frozenset())
    if built is not None:
        return
    _, base = try_options(values, str(scenario), frozenset())
    own = {(p.column, p.message) for p in base}
    theirs = [p for p in problems if (p.column, p.message) in own]
    made = [
        Problem(
            COMMAND_LINE,
            None,
            f"--grid {p.column}" if p.column in grid else "--grid",
            grid_words(p.message, str(p.column))
            + f" (the grid's first point: {', '.join(f'{k}={param_text(v)}' for k, v in first.items())})",
            p.value,
        )
        for p in problems
        if (p.column, p.message) not in own
    ]
    raise InputError(locate(scenario, locate_added(scenario, theirs)) + made)


def _table_problems(scenario: Path | str, values: dict[str, Any], grid: dict[str, list[Any]]) -> None:
    """Raise the problems of the tables the first point reads, once, before any point is solved: they
    are every point's (a grid varies no table), and failed each point alone, recorded in sweep.csv as
    "scenario [[reps.add]]" without the file and line ``validate`` names (QA62 F6). Warnings are left
    to the points."""
    from territory_planner import api

    options = point_options(values, grid_points(grid)[0].params, "first point")
    try:
        with _notes_unlogged(True):
            api.load(options)
    except InputError as exc:
        raise InputError(locate_added(scenario, list(exc.problems))) from None


def run_sweep(
    scenario: Path | str,
    grid: dict[str, list[Any]],
    out: Path | str,
    *,
    overrides: dict[str, Any] | None = None,
    workers: int = 1,
    executor: str = "local",
    address: str | None = None,
    on_point: OnPoint = lambda _row, _done, _total: None,
    on_note: OnNote = lambda _message: None,
    quiet: bool = False,
) -> pd.DataFrame:
    """Run (or resume) a sweep and return the sweep.csv table; ``on_point(row, done, total)`` reports,
    ``on_note(message)`` says what the run does otherwise than asked (a value given twice, a point
    solved again because it was solved from other options or inputs). Every grid value is checked before
    any point is solved (``check_grid``). ``quiet``: the points' plans log no warnings (each point's
    notes are in its summary.json), as ``sweep --quiet`` prints only its table."""
    if executor not in {"local", "dask"}:
        raise InputError(Problem("--executor", None, None, f"unknown executor {executor!r} (local or dask)"))
    out = Path(out)
    values, grid, notes = prepare_sweep(scenario, grid, overrides)
    points = grid_points(grid)
    check_out(out)
    for note in notes:
        on_note(note)
    points_dir = out / "points"
    if points_dir.is_dir():
        names = {p.name for p in points}
        stale = sorted(f.name for f in points_dir.iterdir() if f.is_dir() and f.name not in names)
        if stale:  # QA17 F18: an earlier grid's points stayed, unlisted, beside this one's
            shown = first_few(stale)
            on_note(
                f"{out / 'points'} holds {len(stale)} point(s) of an earlier grid that this sweep does not "
                f"list ({shown}): they are left as they are; delete them, or give another --out"
            )
    points_dir.mkdir(parents=True, exist_ok=True)
    rows: dict[int, dict[str, Any]] = {}
    from territory_planner.manifest import path_sha256

    sha = functools.cache(path_sha256)  # every point names the same tables: each hashed once
    unfinished = _not_finished_before(out)
    for p in points:
        folder = points_dir / p.name
        done = read_complete(folder)
        if done is None:
            if folder.is_dir():  # plans are written whole (staged, then renamed): a part of one is damage
                what = point_damage(folder) or "has an unreadable summary.json"
                on_note(f"{p.name}: its folder {what} (damaged, or edited by hand); solved again")
                # removed first: a re-solve that fails must not leave the old plan as the point's (QA63 F4)
                shutil.rmtree(folder)
            continue
        if p.name in unfinished:
            # written behind the sweep's back: a point the sweep stopped (QA62 F1: a Dask worker went on
            # and wrote the plan it had been stopped in, after the signal, and the next run resumed it)
            on_note(
                f"{p.name}: its plan was written after the sweep that ran it had stopped (sweep.csv lists "
                "it as not run); solved again"
            )
            shutil.rmtree(folder)
            continue
        why = solved_otherwise(folder, point_options(values, p.params, p.name), sha)
        if why:  # not this run's point: its plan goes (a failed re-solve must not leave it as current)
            on_note(f"{p.name}: {why}; solved again")
            shutil.rmtree(folder)
            continue
        rows[p.index] = {**done, "resumed": True}
    total = len(points)
    for p in points:
        if p.index in rows:
            on_point(rows[p.index], len(rows), total)
    todo = [p for p in points if p.index not in rows]
    order = (stricter_points(points, values), rows, {p.index: p.name for p in points})
    try:
        for point, row in _executor_results(
            todo,
            values,
            # absolute: a Dask worker writes it from its own working folder (QA62 F5: a relative --out
            # put every point under the workers' folder, and each re-run solved them all again)
            points_dir.resolve(),
            executor,
            max(workers, 1),
            address,
            order,
            str(Path(scenario).resolve()),
            quiet,
        ):
            rows[point.index] = {**row, "resumed": False}
            on_point(rows[point.index], len(rows), total)
            # sweep.csv says which points the sweep has seen finish, as they finish: a point folder it
            # lists as not run was written behind its back (see ``_not_finished_before``)
            write_outputs(sweep_table(points, rows, grid), out, list(grid))
    finally:  # Ctrl-C or a cluster failure: keep what finished
        table = sweep_table(points, rows, grid)
        write_outputs(table, out, list(grid))
    return table


def _not_finished_before(out: Path) -> set[str]:
    """The points an earlier run's sweep.csv lists as not run: their folders, when there are any, were
    written after that sweep stopped (it writes sweep.csv as each point finishes). Empty without a
    readable sweep.csv."""
    try:
        earlier = pd.read_csv(
            out / "sweep.csv", dtype=str, keep_default_na=False, usecols=["point", "status"]
        )
    except (OSError, ValueError):
        return set()
    return set(earlier.loc[earlier["status"] == "not_run", "point"])


def sweep_table(
    points: list[SweepPoint], rows: dict[int, dict[str, Any]], grid: dict[str, list[Any]]
) -> pd.DataFrame:
    records = []
    for p in points:
        # the point being solved when the sweep stopped is one of these too (QA44 F16: "before it ran")
        row = rows.get(p.index, {"status": "not_run", "error": NOT_FINISHED})
        records.append(
            {
                "point": p.name,
                **{k: param_text(v) if isinstance(v, list) else v for k, v in p.params.items()},
                **{c: row.get(c) for c in RESULT_COLUMNS if c != "pareto"},
                "resumed": row.get("resumed", False),
            }
        )
    table = pd.DataFrame(records, columns=["point", *grid, *RESULT_COLUMNS, "resumed"])
    table["error"] = table["error"].fillna("")
    table["moved_accounts"] = pd.to_numeric(table["moved_accounts"]).astype("Int64")
    table["pareto"] = pareto_mask(table)
    return table


def write_outputs(table: pd.DataFrame, out: Path, params: list[str]) -> None:
    write_csv(table, out / "sweep.csv")
    atomic_write_text(out / "sweep.html", render_html(table, params))
