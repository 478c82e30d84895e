"""Every option of ``plan`` in one frozen dataclass, shared by the CLI, scenario files and the API."""

from __future__ import annotations

import dataclasses
import difflib
import logging
import math
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from territory_planner.currency import DEFAULT_CURRENCY, parse_currency
from territory_planner.errors import COMMAND_LINE, InputError, Problem

log = logging.getLogger(__name__)

DEFAULT_TOLERANCE = 0.05
QUOTA_METHODS = ("potential", "forecast")
DESIGN_TOLERANCE = 0.10  # district potential band of --design-districts when no --district-tolerance


@dataclass(frozen=True)
class PlanOptions:
    accounts: Path | None = None
    reps: Path | None = None
    balance: tuple[str, ...] = ("potential", "workload")
    tolerance: dict[str, float] = field(default_factory=dict)  # per measure; missing -> DEFAULT_TOLERANCE
    max_moved_share: float | None = None
    max_moved_share_per_rep: float | None = None
    disruption_weight: float = 0.0
    min_accounts: int | None = None
    max_accounts: int | None = None
    solver: str = "highs"
    time_limit: float | None = 120.0
    gap: float = 0.001
    seed: int = 0
    relax: bool = False
    candidates: int = 8
    threads: int | None = None
    choose_centres: bool = False
    keep_home: float | None = None  # km: accounts this near a rep's home stay with a rep based there
    offline: bool = False
    crm: Path | None = None
    period: str | None = None
    company_target: float | None = None
    forecast_horizon: str | None = None  # with crm: forecast section in report.html, forecast*.csv
    quota_method: str = "potential"  # suggested quotas by potential (and history) or by the forecast
    quota_history_weight: float | None = None  # history/forecast weight in the quota shares (None: default)
    reps_add: tuple[dict[str, Any], ...] = ()  # extra rep rows (scenario ``[[reps.add]]``)
    reps_remove: tuple[str, ...] = ()  # rep ids dropped from the roster; their accounts are reassigned
    areas: Path | None = None  # area polygons: point accounts are merged into the area holding them
    adjacency: Path | None = None  # edge list (u,v account ids); default: from the accounts' polygons
    contiguous: bool = False  # every territory one connected piece of the adjacency graph
    rook: bool = False  # rook adjacency (shared edge) instead of queen (shared point)
    bridge_islands: bool = False  # join disconnected pieces of the map to their nearest neighbour
    locks: Path | None = None  # CSV account_id,rep_id laid over locked_rep (edit --rebalance writes one)
    district_tolerance: dict[str, float] = field(default_factory=dict)  # per measure ("*": all); {} none
    region_tolerance: dict[str, float] = field(default_factory=dict)
    district_contiguous: bool = False  # each district's territories together one connected piece
    design_districts: int | None = None  # group the reps into this many districts
    xlsx: bool = False  # also write the plan as an Excel workbook, plan.xlsx in the plan folder
    currency: str = DEFAULT_CURRENCY  # money in the report: "$", "€", "EUR" or "" (none: plain numbers)

    def group_tolerance(self) -> dict[str, dict[str, float]]:
        """{"district": {...}, "region": {...}} for ``ModelSpec.build`` (levels without rows left out);
        designed districts default to +-10% potential."""
        out = {}
        district = dict(self.district_tolerance)
        if self.design_districts and not district:
            district = (
                {"potential": DESIGN_TOLERANCE} if "potential" in self.balance else {"*": DESIGN_TOLERANCE}
            )
        if district:
            out["district"] = district
        if self.region_tolerance:
            out["region"] = dict(self.region_tolerance)
        return out

    def tol(self, measure: str) -> float:
        return float(self.tolerance.get(measure, self.tolerance.get("*", DEFAULT_TOLERANCE)))

    def to_json(self) -> dict[str, Any]:
        out: dict[str, Any] = {}
        for f in dataclasses.fields(self):
            v = getattr(self, f.name)
            if isinstance(v, Path):
                v = str(v)
            elif isinstance(v, tuple):
                v = list(v)
            out[f.name] = v
        out["tolerance"] = {m: self.tol(m) for m in self.balance}
        return out


OPTION_NAMES = {f.name for f in dataclasses.fields(PlanOptions)}
MAX_WHOLE = 2**31 - 1  # a count, seed or thread number beyond this fits no solver's integer
# the largest number an input cell or a company target may hold: two potentials of 1e308 summed to inf and a
# proof read "$nan" (QA57 F5), a target of 1e20 overflowed the quotas' split in cents (QA59); sums of
# values above it lose their cents anyway
MAX_NUMBER = 1e15
PATH_OPTIONS = {"accounts", "reps", "crm", "adjacency", "areas", "locks"}
NUMBER_OPTIONS = {
    "keep_home", "max_moved_share", "max_moved_share_per_rep", "gap", "disruption_weight", "time_limit",
    "company_target", "quota_history_weight", "min_accounts", "max_accounts", "seed", "candidates",
    "threads", "design_districts",
}  # fmt: skip


_DECIMAL_COMMA = re.compile(r"^(\d+),(\d+)$")
_MEASURE_DECIMAL_COMMA = re.compile(r"=\s*(\d+),(\d+)(?=\s*(?:,\s*[A-Za-z_]|$))")


def parse_tolerance(
    value: object, source: str, column: str = "tolerance", problems: list[Problem] | None = None
) -> dict[str, float]:
    """``0.05`` | ``"potential=0.05,workload=0.1"`` | ``{"potential": 0.05}`` -> {measure: tol}.

    A flag's problem shows the value as written (``abc``, ``potential=abc``); a scenario file's gets it
    from the line that writes it (``io.scenario_lines.locate``, which finds a measure's line by it). Every
    measure's problem is found (QA44 F9: a bad value hid the next measure's); with ``problems`` they are
    added to it and the good measures returned, else raised together."""
    out: dict[str, float] = {}
    found: list[Problem] = []
    shown = str(value).strip() if source == COMMAND_LINE else ""
    table = isinstance(value, dict) and source != COMMAND_LINE  # a scenario's [tolerance] table
    if not isinstance(value, dict | int | float):
        text = str(value).strip()
        # QA22 M9: "0,05" was read as 0 and 5, and "5.0 must be in [0, 1)" quoted a number never written
        if "=" not in text and _DECIMAL_COMMA.match(text) or _MEASURE_DECIMAL_COMMA.search(text):
            point = _MEASURE_DECIMAL_COMMA.sub(r"=\1.\2", _DECIMAL_COMMA.sub(r"\1.\2", text))
            message = f"{column} {text!r} has a decimal comma: write {point}"
            raise InputError(Problem(source, None, column, message, value=shown or text))
    for k, v in _band_items(value):
        # in a [tolerance] table the problem names its measure, by which ``locate`` finds its line
        where = str(k) if table else shown
        named = column if k == "*" else f"{column} for {str(k).lower()}"
        tol = None
        if isinstance(v, bool):  # TOML's false is no 0 (QA12 N4: bands at a tolerance of 0)
            message = f"{named} must be a number, not {str(v).lower()}"
        else:
            try:
                tol = float(v)
                message = f"{named} {tol} must be in [0, 1)"
            except (TypeError, ValueError):
                message = f"{named} {v!r} is not a number"
        if tol is None or not 0 <= tol < 1:
            found.append(Problem(source, None, column, message, value=where))
            continue
        if str(k).lower() in out and out[str(k).lower()] != tol:  # QA18 F12: the last one was kept
            name = "every measure" if k == "*" else repr(str(k).lower())
            message = f"{column} gives {name} twice ({out[str(k).lower()]:g} and {tol:g})"
            found.append(Problem(source, None, column, message, value=where))
            continue
        out[str(k).lower()] = tol
    if problems is not None:
        problems.extend(found)
    elif found:
        raise InputError(found)
    return out


def names_measures(value: object) -> bool:
    """``potential=0.05,workload=0.1``: every part names its measure (a bare ``0.05`` sets them all)."""
    if isinstance(value, dict):
        return bool(value) and "*" not in value
    parts = [p for p in str(value).split(",") if p.strip()]
    return bool(parts) and all("=" in p for p in parts)


def narrowed_band(key: str, base: object, value: object, source: str, column: str) -> object:
    """A band option given over a scenario's: a value that names its measures overrides those measures
    only, the others keep the scenario's (QA6 for flags, QA62 F2 for a sweep's grid values); a bare
    number replaces them all. Either value's problems are left to ``build_options``."""
    if base in (None, "", {}) or not names_measures(value):
        return value
    try:
        return {**parse_tolerance(base, source, key), **parse_tolerance(value, COMMAND_LINE, column)}
    except InputError:  # both as written, each measure's entry for ``build_options`` to refuse (QA63 F7:
        # a scenario's workload band of 1.5 was dropped, and workload solved at the default 5%)
        return {**_band_entries(base), **_band_entries(value)}


def _band_entries(value: object) -> dict[str, object]:
    """A band value as {measure: value as written} ("*": every measure)."""
    return {str(k).strip().lower(): v for k, v in _band_items(value)}


def _band_items(value: object) -> list[tuple[Any, Any]]:
    """A band value's (measure, value as written) pairs, in order ("*": every measure): a table's items,
    one number, or ``potential=0.05,workload=0.1`` / ``0.05`` split at its commas."""
    if isinstance(value, dict):
        return list(value.items())
    if isinstance(value, int | float):
        return [("*", value)]
    items: list[tuple[Any, Any]] = []
    for part in str(value).strip().split(","):
        part = part.strip()
        if not part:
            continue
        if "=" in part:
            k, v = part.split("=", 1)
            items.append((k.strip().lower(), v.strip()))
        else:
            items.append(("*", part))
    return items


BAND_OPTIONS = ("tolerance", "district_tolerance", "region_tolerance")
# a sweep's values: the bands a file of the scenario's chain left out of its balance, for a point that
# balances the measure again (``sweep_grid.with_params``); no option of its own, passed over by build_options
RESTING_BANDS = "_resting_bands"


def unbanded(values: dict[str, Any], balance: object) -> tuple[dict[str, Any], dict[str, dict[str, Any]]]:
    """``values`` without the measures of their band tables (``[tolerance]`` and the level ones, or the
    same written as ``"potential=0.1,workload=0.15"``) that ``balance`` leaves out, and those measures'
    bands per option: a scenario narrowing what its parent balances, or a sweep's ``balance`` grid value,
    drops the bands on what it no longer balances, as ``--balance`` does (QA44 F7: refused, with the hint
    to balance the measure again; QA47 F1: the string form was still refused)."""
    measures = set(balance_measures(balance))
    out = dict(values)
    dropped: dict[str, dict[str, Any]] = {}
    for key in BAND_OPTIONS:
        table = values.get(key)
        if isinstance(table, str) and "=" in table:
            try:
                table = parse_tolerance(table, "scenario", key)
            except InputError:  # reported where the options are checked
                continue
        if isinstance(table, dict):
            gone = {str(m): v for m, v in table.items() if str(m).strip().lower() not in measures}
            if gone:
                dropped[key] = gone
                out[key] = {m: v for m, v in table.items() if str(m) not in gone}
    return out, dropped


def rebanded(values: dict[str, Any], resting: dict[str, dict[str, Any]], balance: object) -> dict[str, Any]:
    """``values`` with the bands ``resting`` (by option and measure: those a file of a scenario's chain left
    out of its balance) of the measures ``balance`` balances again, where no band on them is written; a
    band table replaced by one number stays as it is."""
    measures = set(balance_measures(balance))
    out = dict(values)
    for key, table in resting.items():
        current = out.get(key)
        if not (current is None or isinstance(current, dict)):
            continue
        have = {str(m).strip().lower() for m in (current or {})}
        back = {m: v for m, v in table.items() if m.strip().lower() in measures - have}
        if back:
            out[key] = {**back, **(current or {})}
    return out


def _as_written(value: object) -> str:
    """A value as a scenario file wrote it: true, "5", a list."""
    if isinstance(value, bool):
        return str(value).lower()
    if isinstance(value, str):
        return f'"{value}" (a text)'
    return "a list" if isinstance(value, list | tuple) else type(value).__name__


def flag_name(key: str) -> str:
    """The command-line flag of an option: ``keep_home`` -> ``--keep-home``."""
    return "--" + key.replace("_", "-")


def _column(key: str, source: str) -> str:
    """A problem's column: the flag (``--keep-home``) for a value given on the command line."""
    return flag_name(key) if source == COMMAND_LINE else key


def balance_measures(value: object) -> tuple[str, ...]:
    """The measures a ``balance`` value names: a list, or names separated by commas (or by ``+``, as a
    sweep's grid joins them: QA47 F9, ``balance = "potential+workload"`` was one measure); lower case."""
    items = value if isinstance(value, list | tuple) else re.split(r"[,+]", str(value))
    return tuple(str(m).strip().lower() for m in items if str(m).strip())


@dataclass
class _Reading:
    """What ``build_options`` gathers while it reads the values: every problem found (all are reported in
    one pass), the good values, and the keys whose value was refused."""

    values: dict[str, Any]
    source: str  # the scenario's (a flag's problems name the command line instead)
    flags: frozenset[str]
    problems: list[Problem] = field(default_factory=list)
    kwargs: dict[str, Any] = field(default_factory=dict)
    # keys whose value is reported: the checks across keys leave them out
    bad: set[str] = field(default_factory=set)


def build_options(
    values: dict[str, Any],
    source: str = "options",
    flags: frozenset[str] = frozenset(),
    *,
    drop_unbalanced: bool = False,
) -> PlanOptions:
    """Validate a flat mapping of option values (scenario + flags) into ``PlanOptions``. ``flags``: the
    keys given on the command line, whose problems name it instead of ``source`` (QA11 O9: a bad
    --keep-home was blamed on the scenario file). ``drop_unbalanced``: a ``--balance`` flag over a
    scenario that bands a measure it leaves out drops that band, with a warning (the CLI's what-if; a
    sweep's grid still refuses it up front)."""
    reading = _Reading(values, source, flags)
    for key, value in values.items():
        if value is None or key == RESTING_BANDS:
            continue
        _read_value(reading, key, value)
    opts = PlanOptions(**reading.kwargs)  # the good values: every check below runs in the same pass (QA13 7)
    _check_across_keys(reading, opts)
    opts = _bands_balanced(reading, opts, drop_unbalanced)
    if reading.problems:
        raise InputError(reading.problems)
    return opts


def checked(options: PlanOptions, source: str = "PlanOptions") -> PlanOptions:
    """``options`` checked as ``build_options`` checks a scenario's values, in the form it gives them: a
    ``PlanOptions`` a library caller built by hand was solved as it stood (QA90 F4: ``tolerance=
    {"potential": 3}`` solved within +-300%, ``tolerance=0.05`` was an AttributeError, ``balance=
    "potential"`` nine problems about columns 'p', 'o', ..., ``max_moved_share=-1`` a proof of
    infeasibility). Values left at their defaults are not read again; ``None`` stays ``None``
    (``time_limit=None``: no limit). Raises ``InputError`` with every problem."""
    defaults = PlanOptions()
    values: dict[str, Any] = {}
    nones: dict[str, Any] = {}
    for f in dataclasses.fields(options):
        value = _plain(getattr(options, f.name))
        if value is None:
            if getattr(defaults, f.name) is not None:
                nones[f.name] = None
        elif value != getattr(defaults, f.name):
            values[f.name] = value
    made = build_options(values, source)
    return dataclasses.replace(made, **nones) if nones else made


def _plain(value: Any) -> Any:
    """A numpy number as the Python number it holds (QA93 F1: ``time_limit=np.int64(8)``, a caller's
    value read from a DataFrame, was "time_limit must be a number, not int64"), in containers too."""
    if type(value).__module__ == "numpy" and hasattr(value, "item"):
        return value.item()
    if isinstance(value, dict):
        return {k: _plain(v) for k, v in value.items()}
    if isinstance(value, list | tuple) and not isinstance(value, str):
        return type(value)(_plain(v) for v in value)
    return value


def _read_value(reading: _Reading, key: str, value: object) -> None:
    """One option's value checked and kept, or its problem noted (named after the command line for a
    flag, else the scenario) and its key marked bad."""
    problems = reading.problems
    source = COMMAND_LINE if key in reading.flags else reading.source
    if key not in OPTION_NAMES:
        problems.append(Problem(source, None, key, f"unknown option {key!r}"))
        return
    before = len(problems)
    try:
        _keep_value(reading.kwargs, key, value, source)
    except InputError as exc:
        problems.extend(exc.problems)
    except (TypeError, ValueError) as exc:
        column = _column(key, source)
        message = str(exc).replace(key, column, 1)  # "--keep-home must be ..." for a flag
        problems.append(Problem(source, None, column, message, value=str(value)))
    if len(problems) > before:
        reading.bad.add(key)


def _keep_value(kwargs: dict[str, Any], key: str, value: Any, source: str) -> None:
    """Puts the value of option ``key`` into ``kwargs`` as ``PlanOptions`` holds it; a value it cannot
    hold is ``ValueError`` (or ``InputError``, with problems of its own)."""
    if key in NUMBER_OPTIONS:
        kwargs[key] = _number(key, value)
    elif key in PATH_OPTIONS:
        if not isinstance(value, str | Path):  # QA57 F13: `crm = 5`: Python's own message
            shown = value if isinstance(value, int | float) and not isinstance(value, bool) else None
            what = _as_written(value) if shown is None else repr(shown)
            raise ValueError(f"{key} must be a file path (a text in quotes), not {what}")
        kwargs[key] = Path(value)
    elif key == "balance":
        measures = balance_measures(value)
        twice = sorted({m for m in measures if measures.count(m) > 1})
        if twice:  # QA18 F12: two band rows of one name crashed the model's build
            raise ValueError(f"balance lists {', '.join(map(repr, twice))} twice")
        kwargs[key] = measures
    elif key in BAND_OPTIONS:
        found: list[Problem] = []
        # the good measures stay, so that one not balanced is said in the same run (QA44 F9)
        kwargs[key] = parse_tolerance(value, source, _column(key, source), found)
        if found:
            raise InputError(found)
    elif key == "reps_add":
        rows = value if isinstance(value, list | tuple) else [value]
        if not all(isinstance(r, dict) and str(r.get("rep_id", "")).strip() for r in rows):
            raise ValueError("each added rep must be a table with a rep_id")
        kwargs[key] = tuple(dict(r) for r in rows)
    elif key == "forecast_horizon":
        from territory_planner.report.periods import parse_period

        kwargs[key] = parse_period(str(value)).label  # a bad period fails before the solve
    elif key == "period":
        from territory_planner.report.periods import parse_period

        parse_period(str(value))  # a bad period fails before the solve, not after it
        kwargs[key] = str(value)
    elif key == "quota_method":
        if value not in QUOTA_METHODS:
            raise ValueError(f"quota_method must be one of {', '.join(QUOTA_METHODS)}")
        kwargs[key] = value
    elif key == "currency":
        kwargs[key] = parse_currency(value, source)
    elif key == "reps_remove":
        ids = value if isinstance(value, list | tuple) else str(value).split(",")
        kwargs[key] = tuple(str(r).strip() for r in ids if str(r).strip())
    elif key in {
        "relax",
        "choose_centres",
        "offline",
        "contiguous",
        "rook",
        "bridge_islands",
        "district_contiguous",
        "xlsx",
    }:
        if not isinstance(value, bool):
            raise ValueError(f"{key} must be true or false")
        kwargs[key] = value
    else:
        kwargs[key] = str(value)


def _number(key: str, value: Any) -> float | int:
    """The value of a number option (``NUMBER_OPTIONS``) within its range, or ``ValueError``."""
    if isinstance(value, bool) or not isinstance(value, int | float):
        # TOML's true is no 1, "5" no 5, [1] no number (QA11 O10, QA12 N4): said, not coerced
        raise ValueError(f"{key} must be a number, not {_as_written(value)}")
    if not math.isfinite(value):  # TOML's inf and nan (QA57 F1, QA59)
        raise ValueError(f"{key} must be a finite number, not {value}")
    if key == "quota_history_weight":
        v = float(value)
        if not 0 <= v <= 1:
            raise ValueError("quota_history_weight must be in [0, 1]")
        return v
    if key in {"max_moved_share", "max_moved_share_per_rep", "gap", "disruption_weight"}:
        v = float(value)
        if not 0 <= v <= (1 if "share" in key or key == "gap" else float("inf")):
            raise ValueError(f"{key} must be {'in [0, 1]' if 'share' in key or key == 'gap' else '>= 0'}")
        return v
    if key == "keep_home":
        v = float(value)
        if not 0 <= v < float("inf"):
            raise ValueError("keep_home must be a distance in km, >= 0")
        return v
    if key in {"time_limit", "company_target"}:
        v = float(value)
        if v <= 0:  # nan and inf are refused above, for every number option (QA57 F1)
            raise ValueError(f"{key} must be a number > 0")
        if key == "company_target" and v > MAX_NUMBER:  # QA59: 1e20 overflowed the cents split
            raise ValueError(f"company_target must be at most {MAX_NUMBER:.0e} (a quota in cents)")
        return v
    # min_accounts, max_accounts, seed, candidates, threads, design_districts
    if isinstance(value, float) and not value.is_integer():
        raise ValueError(f"{key} must be a whole number")
    n = int(value)
    one = {"candidates", "threads", "design_districts"}
    if n < 0 or (key in one and n < 1):
        raise ValueError(f"{key} must be {'>= 1' if key in one else '>= 0'}")
    if n > MAX_WHOLE:  # QA60: max_accounts = 10**30 overflowed the model's integer arrays
        raise ValueError(f"{key} must be at most {MAX_WHOLE:,}")
    return n


def _check_across_keys(reading: _Reading, opts: PlanOptions) -> None:
    """The checks that take several options together (each skipped when one of its options was refused
    already), their problems noted."""
    source, flags, problems, bad = reading.source, reading.flags, reading.problems, reading.bad

    def check(keys: set[str], failed: bool, column: str, message: str) -> None:
        if failed and not keys & bad:  # a check over a reported value would only repeat it
            # the option it is about, given as a flag, is the command line's (QA18 F8: such a problem
            # was blamed on the scenario file, which did not set it)
            where = COMMAND_LINE if column in flags else source
            problems.append(Problem(where, None, _column(column, where), message))

    check(  # QA34 F6: reported as a model infeasibility citing the minimum alone
        {"min_accounts", "max_accounts"},
        opts.min_accounts is not None
        and opts.max_accounts is not None
        and opts.min_accounts > opts.max_accounts,
        "min_accounts",
        f"the minimum number of accounts per rep ({opts.min_accounts}) is above the maximum "
        f"({opts.max_accounts}): no rep can hold both",
    )
    check(
        {"forecast_horizon", "crm"},
        opts.forecast_horizon is not None and opts.crm is None,
        "forecast_horizon",
        "a forecast needs CRM history (crm)",
    )
    check(  # the KPI report, written after the solve, needs it
        {"crm", "period"},
        opts.crm is not None and opts.period is None,
        "period",
        "a KPI period is required with CRM history (crm), e.g. 2026Q3",
    )
    check(  # QA18 F8: it was ignored without a word
        {"crm", "period"},
        opts.period is not None and opts.crm is None,
        "period",
        "a KPI period needs CRM history (crm) to report on",
    )
    check(
        {"quota_method", "forecast_horizon", "company_target"},
        opts.quota_method == "forecast" and (opts.forecast_horizon is None or opts.company_target is None),
        "quota_method",
        "quota_method forecast needs forecast_horizon and company_target",
    )
    check({"balance"}, not opts.balance, "balance", "balance needs at least one measure")


def _bands_balanced(reading: _Reading, opts: PlanOptions, drop_unbalanced: bool) -> PlanOptions:
    """Every band (``BAND_OPTIONS``) on a measure that ``balance`` balances: a band on another is a problem
    per measure, unless a ``--balance`` flag over the scenario left it out (``drop_unbalanced``: then the
    band is dropped, with a warning)."""
    flags, scenario_source = reading.flags, reading.source
    for key in BAND_OPTIONS:
        if not opts.balance or "balance" in reading.bad:  # a bad band's good measures are checked (QA44 F9)
            continue
        # a flag's own measures are its (a flag naming measures over a scenario's table is merged into
        # it by the CLI, and a measure there may be the file's)
        given = key in flags and not isinstance(reading.values.get(key), dict)
        where = COMMAND_LINE if given else scenario_source
        if drop_unbalanced and "balance" in flags and where != COMMAND_LINE:
            # --balance on the command line over a scenario that bands a measure it leaves out: the
            # what-if asked for, so the scenario's band for that measure is not used, and said (QA27 F24:
            # refused, with a hint to add the measure back)
            table = getattr(opts, key)
            dropped = [m for m in table if m != "*" and m not in opts.balance]
            if dropped:
                log.warning(
                    "%s: the scenario's %s for %s is not used: --balance %s leaves %s unbalanced",
                    scenario_source,
                    key,
                    ", ".join(dropped),
                    ",".join(opts.balance),
                    ", ".join(dropped),
                )
                kept: dict[str, Any] = {key: {m: v for m, v in table.items() if m not in dropped}}
                opts = dataclasses.replace(opts, **kept)
                continue
        reading.problems.extend(
            _not_balanced(where, _column(key, where), m, opts.balance)
            for m in getattr(opts, key)
            if m != "*" and m not in opts.balance
        )
    return opts


def _not_balanced(source: str, column: str, measure: str, balance: tuple[str, ...]) -> Problem:
    """A tolerance for a measure that is not balanced: one problem per measure (its line in a scenario
    file, ``scenario.locate``), with the balance measure it is probably a typo of."""
    close = difflib.get_close_matches(measure, balance, n=1, cutoff=0.75)
    hint = f"did you mean {close[0]!r}?" if close else "add it to balance to balance it"
    return Problem(
        source,
        None,
        column,
        f"{column} given for {measure!r}, which is not a balance measure ({', '.join(balance)}): {hint}",
        measure,
    )
