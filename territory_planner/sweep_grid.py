"""The grid of a parameter sweep: ``--grid`` values parsed and checked against the scenario, its
points and their options, and which point relaxes which (``relaxes``: every plan of the stricter point is
a plan of the looser one, so a looser point can start from a stricter point's plan).
"""

from __future__ import annotations

import dataclasses
import difflib
import itertools
import json
import re
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from territory_planner.errors import COMMAND_LINE, InputError, Problem
from territory_planner.options import (
    BAND_OPTIONS,
    OPTION_NAMES,
    RESTING_BANDS,
    PlanOptions,
    balance_measures,
    build_options,
    flag_name,
    narrowed_band,
    rebanded,
    unbanded,
)

SOLVED = ("optimal", "feasible")  # the statuses of a point with a plan
#: scenario keys a grid cannot vary: the tables (a sweep compares options on the same data)
NOT_SWEPT = frozenset({"accounts", "reps", "crm", "reps_add", "reps_remove"})


@dataclass(frozen=True)
class SweepPoint:
    index: int
    params: dict[str, Any]

    @property
    def name(self) -> str:
        def fmt(v: Any) -> str:
            return "".join(c if c.isalnum() or c in ".-+" else "_" for c in param_text(v))

        return f"p{self.index:03d}_" + "_".join(f"{k}-{fmt(v)}" for k, v in self.params.items())


def _coerce(text: str) -> Any:
    text = text.strip()
    for cast in (int, float):
        try:
            return cast(text)
        except ValueError:
            pass
    return {"true": True, "false": False}.get(text.lower(), text)


def _grid_value(key: str, text: str) -> Any:
    """One grid value; a balance value joins its measures with ``+``
    (``balance=potential,potential+workload``: the grid's comma separates the points)."""
    parts = [m.strip() for m in text.split("+")]
    if key == "balance" and len(parts) > 1 and all(parts):  # "potential+" is no measure set (QA18 F12)
        return parts
    return _coerce(text)


def _not_swept(name: str, key: str) -> str:
    """Why ``name`` is no grid key, with the key the user probably meant (as scenario files say it)."""
    if key in NOT_SWEPT:
        return f"{name!r} is not an option that can be swept (a sweep varies options over the same tables)"
    close = difflib.get_close_matches(key, sorted(OPTION_NAMES - NOT_SWEPT), n=1, cutoff=0.75)
    hint = f" (did you mean {close[0]!r}?)" if close else ""
    return f"{name!r} is not an option that can be swept{hint}"


def parse_grid(specs: list[str] | tuple[str, ...]) -> dict[str, list[Any]]:
    """``["tolerance=0.03,0.05", "max_moved_share=0,0.1"]`` -> {name: values}, names checked. Problems
    are the command line's (a usage error, exit 2, QA15 M1); the values are checked by ``check_grid``."""
    grid: dict[str, list[Any]] = {}
    problems: list[Problem] = []
    for spec in specs:
        name, sep, values = spec.partition("=")
        key = name.strip().replace("-", "_")
        if not sep or not values.strip():
            message = f"expected NAME=V1,V2,...; got {spec!r}"
            problems.append(Problem(COMMAND_LINE, None, "--grid", message, spec))
        elif key not in OPTION_NAMES or key in NOT_SWEPT:
            problems.append(Problem(COMMAND_LINE, None, "--grid", _not_swept(name.strip(), key), spec))
        elif key in grid:
            problems.append(Problem(COMMAND_LINE, None, "--grid", f"{name!r} is given twice", spec))
        else:
            grid[key] = [_grid_value(key, v) for v in values.split(",") if v.strip()]
    if problems:
        raise InputError(problems)
    return grid


def _same_key(value: Any) -> tuple[bool, Any]:
    """Equal grid values have one key (0.3 and 0.30, 1 and 1.0); true is no 1."""
    try:
        hash(value)
    except TypeError:  # a list (balance): its measures in any order are one value (QA18 F12)
        return False, short_json(sorted(value) if isinstance(value, list) else value)
    return isinstance(value, bool), value


def dedupe_grid(grid: dict[str, list[Any]]) -> tuple[dict[str, list[Any]], list[str]]:
    """The grid with each value once (``0.3,0.3`` or ``0.3,0.30`` is one point, not the same plan solved
    twice, QA15 L2), and a note for every value given more than once."""
    out: dict[str, list[Any]] = {}
    notes: list[str] = []
    for key, values in grid.items():
        first: dict[tuple[bool, Any], Any] = {}  # each value as first written, in the grid's order
        count: dict[tuple[bool, Any], int] = {}
        for v in values:
            key_of_v = _same_key(v)
            first.setdefault(key_of_v, v)
            count[key_of_v] = count.get(key_of_v, 0) + 1
        out[key] = list(first.values())
        notes += [
            f"--grid {key} lists {param_text(first[k])} {n} times: its points are solved once"
            for k, n in count.items()
            if n > 1
        ]
    return out, notes


def grid_words(message: str, key: str) -> str:
    return re.sub(rf"(?<![\w-]){re.escape(flag_name(key))}(?![\w-])", key, message)


def _unknown_solver(name: object) -> str:
    """The registry's message for a solver name it does not know, "" for a known one (one that is not
    installed fails when its point runs, as a solver failure)."""
    from territory_planner.errors import SolverError
    from territory_planner.solvers.registry import get_backend

    try:
        get_backend(str(name))
    except SolverError as exc:
        return str(exc) if str(exc).startswith("unknown solver") else ""
    return ""


def check_grid(values: dict[str, Any], grid: dict[str, list[Any]], source: str) -> list[Problem]:
    """Every grid value that is no value of its option, as a command-line problem (a usage error: the
    grid is a flag, QA15 M1: ``max_moved_share=0.3,abc`` solved 0.3 and exited 0 with an input_error
    row). Checked on the scenario's values, before any point is solved: a value's own problems, those
    it makes with the scenario's other keys (``balance=potential`` beside a ``[tolerance]`` table that
    names workload), and a balance measure the accounts file has no column for."""
    problems: list[Problem] = []
    # the scenario's own problems are said as the scenario's (``_base_problems``), whichever value meets
    # them (QA63 F7: a scenario band's bad measure, met by a grid value naming another, blamed on --grid)
    base = {p.message for p in try_options(values, source, frozenset())[1]}
    columns: frozenset[str] | None = None
    for key, options in grid.items():
        for v in options:
            if key == "solver" and (unknown := _unknown_solver(v)):
                problems.append(Problem(COMMAND_LINE, None, f"--grid {key}", unknown, param_text(v)))
                continue
            built, found = try_options(with_params(values, {key: v}), source, frozenset({key}))
            if found and key in BAND_OPTIONS:
                # a band value is checked with the grid's balance values too: one that some point balances
                # is no problem of its own (QA63 F1: tolerance=workload=0.2 beside balance=potential+workload
                # over a scenario balancing potential was refused; the point's combination is checked later)
                for b in grid.get("balance", []):
                    if try_options(with_params(values, {key: v, "balance": b}), source, frozenset({key}))[0]:
                        found = []
                        break
            problems += [  # the grid's key, not the flag: "max_moved_share must be in [0, 1]"
                Problem(COMMAND_LINE, None, f"--grid {key}", grid_words(p.message, key), param_text(v))
                for p in found
                if grid_words(p.message, key) not in base
            ]
            if key == "balance":  # said with the value's other problems (QA29 F4: only once they were fixed)
                columns = _account_columns(values) if columns is None else columns
                measures = built.balance if built is not None else balance_measures(v)
                problems += [
                    Problem(COMMAND_LINE, None, f"--grid {key}", message, param_text(v))
                    for message in _missing_measures(measures, columns, values)
                ]
    return list(dict.fromkeys(problems))


def try_options(
    values: dict[str, Any], source: str, flags: frozenset[str]
) -> tuple[PlanOptions | None, list[Problem]]:
    """The options ``values`` make, or None and their problems."""
    try:
        return build_options(values, source=source, flags=flags), []
    except InputError as exc:
        return None, list(exc.problems)


def _account_columns(values: dict[str, Any]) -> frozenset[str]:
    """The accounts file's column names as the loader reads them; empty when it cannot be read (each
    point then reports the file's problem itself)."""
    from territory_planner.io.readers import read_table

    try:
        raw = read_table(Path(values["accounts"]), "accounts")
    except (KeyError, TypeError, InputError, OSError):
        return frozenset()
    return frozenset(str(c).strip().lower() for c in raw.frame.columns)


def _missing_measures(
    measures: tuple[str, ...], columns: frozenset[str], values: dict[str, Any]
) -> list[str]:
    """A message per balance measure the accounts file has no column for (none when it was unread)."""
    if not columns:
        return []
    name = Path(values["accounts"]).name
    shown = ", ".join(sorted(columns)[:8]) + (", ..." if len(columns) > 8 else "")
    return [
        f"{name} has no column {m!r} to balance (its columns: {shown})" for m in measures if m not in columns
    ]


def grid_points(grid: dict[str, list[Any]]) -> list[SweepPoint]:
    keys = list(grid)
    return [
        SweepPoint(i, dict(zip(keys, combo, strict=True)))
        for i, combo in enumerate(itertools.product(*(grid[k] for k in keys)))
    ]


#: Options that change no constraint of the model: a plan of one value is a plan of another.
NEUTRAL = frozenset({"time_limit", "gap", "seed", "solver", "threads", "xlsx", "offline", "currency"})


def _band_looser(loose: dict[str, float], strict: dict[str, float], measures: set[str]) -> bool:
    """Every band of ``loose`` (per measure, "*" for the rest; a measure without one has no rows) at
    least as wide as ``strict``'s."""
    for m in measures:
        wide, narrow = loose.get(m, loose.get("*")), strict.get(m, strict.get("*"))
        if wide is not None and (narrow is None or wide < narrow):
            return False
    return True


def _at_least(loose: float | None, strict: float | None) -> bool:
    """A limit that binds less when larger; None is no limit."""
    return loose is None or (strict is not None and loose >= strict)


def _at_most(loose: float | None, strict: float | None) -> bool:
    return loose is None or (strict is not None and loose <= strict)


def relaxes(loose: PlanOptions, strict: PlanOptions) -> bool:
    """Whether every plan satisfying ``strict``'s model satisfies ``loose``'s, for options that differ
    only where the model's rows get looser: each balance band (1 +- tolerance) x target at least as wide
    (district and region bands too, or none), the moved-potential budgets (overall, per rep) and
    ``max_accounts`` at least as large, ``min_accounts`` and ``keep_home`` at most as large (none the
    least), contiguity asked no more
    (a connected plan is a plan without it). Every other option that differs (the measures balanced, the
    disruption weight, the candidates, centres, locks, ...) changes the model or its objective otherwise:
    no relation. Options that change no row (time limit, gap, seed, solver) may differ."""
    differs = {
        f.name for f in dataclasses.fields(PlanOptions) if getattr(loose, f.name) != getattr(strict, f.name)
    } - NEUTRAL
    rules: dict[str, Callable[[], bool]] = {
        "tolerance": lambda: all(loose.tol(m) >= strict.tol(m) for m in strict.balance),
        "district_tolerance": lambda: _groups_looser(loose, strict, "district"),
        "region_tolerance": lambda: _groups_looser(loose, strict, "region"),
        "max_moved_share": lambda: _at_least(loose.max_moved_share, strict.max_moved_share),
        "max_moved_share_per_rep": lambda: _at_least(
            loose.max_moved_share_per_rep, strict.max_moved_share_per_rep
        ),
        "max_accounts": lambda: _at_least(loose.max_accounts, strict.max_accounts),
        "min_accounts": lambda: _at_most(loose.min_accounts, strict.min_accounts),
        # a smaller radius keeps a subset of the same accounts, each with the same reps
        "keep_home": lambda: _at_most(loose.keep_home, strict.keep_home),
        "contiguous": lambda: strict.contiguous or not loose.contiguous,
        "district_contiguous": lambda: strict.district_contiguous or not loose.district_contiguous,
    }
    return all(key in rules and rules[key]() for key in differs)


def _groups_looser(loose: PlanOptions, strict: PlanOptions, level: str) -> bool:
    wide = loose.group_tolerance().get(level, {})
    narrow = strict.group_tolerance().get(level, {})
    measures = (set(strict.balance) | set(wide) | set(narrow)) - {"*"}
    return _band_looser(wide, narrow, measures)


def stricter_points(points: list[SweepPoint], values: dict[str, Any]) -> dict[int, list[int]]:
    """For each point, the other points it relaxes (``relaxes``): their plans are plans of it."""
    built: dict[int, PlanOptions] = {}
    for p in points:
        try:
            built[p.index] = build_options(with_params(values, p.params))
        except InputError:  # the point fails on its own when it runs
            continue
    # strictly: two points that relax each other (the same bands written two ways) are not ordered
    return {
        q: [p for p in built if p != q and relaxes(built[q], built[p]) and not relaxes(built[p], built[q])]
        for q in built
    }


def point_options(values: dict[str, Any], params: dict[str, Any], name: str) -> PlanOptions:
    """The options a point is solved with: the scenario's, its grid values, one solver thread."""
    return build_options({**with_params(values, params), "threads": 1}, source=f"sweep point {name}")


def with_params(values: dict[str, Any], params: dict[str, Any]) -> dict[str, Any]:
    """The scenario's values with a point's grid values; a grid ``balance`` drops the scenario's bands on
    the measures it leaves out, as ``--balance`` does (QA44 F7: ``--grid balance=potential`` over a
    ``[tolerance]`` table naming workload was refused; ``prepare`` says it once)."""
    base = values
    if "balance" in params:
        # the scenario's bands are kept for the grid's own band values to narrow (below)
        kept, _ = unbanded(
            {k: v for k, v in values.items() if k not in params or k in BAND_OPTIONS}, params["balance"]
        )
        # a band a file of the chain left out of its balance, for a measure the point balances again (QA48
        # F4: held at the default 5% where a child file balancing it gets the chain's band)
        base = rebanded(kept, values.get(RESTING_BANDS) or {}, params["balance"])
    merged = {**base, **params}
    # a band value that names its measures changes those only, as its flag does (QA62 F2:
    # ``tolerance=potential=0.05`` over a [tolerance] table with workload 0.10 held workload at 5%)
    for key in BAND_OPTIONS:
        if key in params:
            merged[key] = narrowed_band(key, base.get(key), params[key], "scenario", f"--grid {key}")
    return merged


def param_text(value: object) -> str:
    """A grid value as written (unescaped): 0.05, EUR, true."""
    if isinstance(value, bool):
        return str(value).lower()
    if isinstance(value, list | tuple):  # balance measures, as the grid writes them
        return "+".join(str(v) for v in value)
    return str(value)


def short_json(value: Any) -> str:
    return json.dumps(value, sort_keys=True, default=str)
