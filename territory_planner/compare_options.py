"""The options plans were made with, side by side (compare's options.csv and its "Options that differ").

Each plan's summary.json records its options (``config``) and the CLI the scenario file it read. Settings
are normalised so that equal settings compare equal: a tolerance given as one number equals the same bands
per measure, and the input tables compare by their SHA-256, not their paths.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pandas as pd

from territory_planner.manifest import current_sha256
from territory_planner.options import DEFAULT_TOLERANCE, PlanOptions, flag_name

if TYPE_CHECKING:
    from territory_planner.compare import PlanFolder

NOT_RECORDED = "not recorded"
OPTION_ORDER = ("scenario", *PlanOptions.__dataclass_fields__)  # the scenario file, then PlanOptions'
_NO_FLAG = {"reps_add": "reps.add", "reps_remove": "reps.remove", "locks": "locks", "scenario": "scenario"}
# options of what is written beside the plan, not of the plan: listed, never "an option that differs"
# (QA41 F7: a plan drawn with --offline was said to differ from its twin by it)
OUTPUT_ONLY = frozenset({"offline", "xlsx"})


def option_flag(name: str) -> str:
    """How a user sets the option: its flag (``--keep-home``), or its scenario key when it has no flag."""
    return _NO_FLAG.get(name, flag_name(name))


@dataclass(frozen=True)
class Setting:
    """One option of one plan: ``value`` normalised (equal settings are equal values), ``key`` what
    compares (for accounts and reps the file's SHA-256 when recorded: the same table under another path
    is the same setting)."""

    value: Any
    key: str


def _bands(raw: object, measures: list[str], default: float | None) -> dict[str, float]:
    """A tolerance as {measure: band} over the balanced measures, whether it was given as one number
    (``"*"``) or per measure; a measure without a band is left out (``default`` None) or gets ``default``."""
    given = {}
    for k, v in raw.items() if isinstance(raw, dict) else ():
        try:
            given[str(k)] = float(v)
        except (TypeError, ValueError):  # a summary.json edited by hand: that band is not compared
            continue
    out = {}
    for m in measures:
        band = given.get(m, given.get("*", default))
        if band is not None:
            out[m] = band
    return out


def _key(value: object) -> str:
    def rounded(v: object) -> object:
        if isinstance(v, float):
            return round(v, 10)
        if isinstance(v, dict):
            return {str(k): rounded(x) for k, x in v.items()}
        if isinstance(v, list | tuple):
            return [rounded(x) for x in v]
        return v

    return json.dumps(rounded(value), sort_keys=True, default=str)


def _effective(name: str, value: Any, config: dict[str, Any]) -> Any:
    """The value a blank option takes when the plan is made: ``plan`` records --threads as given (blank
    by default) and ``sweep`` its points' 1, the same setting (QA15 L10: listed as an option that
    differs); a blank quota history weight is its quota method's default."""
    if value is not None:
        return value
    if name == "threads":
        return 1  # api.solve: options.threads or 1
    if name == "quota_history_weight":
        from territory_planner.report.quota import default_history_weight

        return default_history_weight(str(config.get("quota_method") or "potential"))
    return value


HASHED = "sha256 "  # the key of an input told apart by its contents


def plans_settings(plans: list[PlanFolder]) -> list[dict[str, Setting]]:
    """``folder_settings`` of each plan, an input compared by its path as written wherever one of the
    plans records no hash for it (QA71 F3: a plan and its copy without manifest.json, the same CRM folder,
    compared hash against path and listed as differing)."""
    settings = [folder_settings(p) for p in plans]
    names = {n for s in settings for n in s}
    for name in names:
        keys = [s[name].key for s in settings if name in s]
        hashed = [k.startswith(HASHED) for k in keys]
        if any(hashed) and not all(hashed):
            for s in settings:
                if name in s and s[name].key.startswith(HASHED):
                    s[name] = Setting(s[name].value, _key(s[name].value))
    return settings


def folder_settings(plan: PlanFolder) -> dict[str, Setting]:
    """``plan_settings`` of a plan folder, its input files and folders told apart by the contents its
    manifest.json records (``inputs``: path and sha256)."""
    inputs: dict[str, Any] = {}
    try:
        manifest = json.loads((plan.path / "manifest.json").read_text(encoding="utf-8"))
        inputs = manifest.get("inputs") or {} if isinstance(manifest, dict) else {}
    except (OSError, ValueError):  # no manifest (an older plan) or an unreadable one: the paths as written
        pass
    return plan_settings(plan.summary, inputs if isinstance(inputs, dict) else {})


def plan_settings(summary: dict[str, Any], inputs: dict[str, Any] | None = None) -> dict[str, Setting]:
    """The options a plan was made with (summary.json -> config, and the scenario file the CLI records),
    normalised so that equal settings compare equal: a tolerance given as one number equals the same
    tolerance given per measure, designed districts without a ``district_tolerance`` have the band
    the model gave them, and a blank option the value it took (``_effective``: --threads 1). An option
    missing here was not recorded (a plan written by an older version)."""
    config = summary.get("config")
    if not isinstance(config, dict):
        return {}
    out: dict[str, Setting] = {}
    balance = config.get("balance") or summary.get("tolerance") or {}  # older plans: the measures banded
    measures = [str(m).strip() for m in (balance.split(",") if isinstance(balance, str) else balance)]
    for name, value in config.items():
        if name == "tolerance":
            value = _bands(value or summary.get("tolerance"), measures, DEFAULT_TOLERANCE)
        elif name in ("district_tolerance", "region_tolerance"):
            value = _bands(value, measures, None)
            if name == "district_tolerance" and not value and config.get("design_districts"):
                designed = PlanOptions(balance=tuple(measures), design_districts=1).group_tolerance()
                value = _bands(designed.get("district"), measures, None)
        else:
            value = _effective(name, value, config)
        out[name] = Setting(value, "output only" if name in OUTPUT_ONLY else _key(value))
    # every input the manifest records (``inputs``) by its contents, not the path as typed: the same CRM
    # folder given as data/crm and as /tmp/x/data/crm (an `edit --rebalance` records absolute paths) is one
    # setting (QA70 F2: compare listed --crm as differing between a plan and its own rebalance)
    for name, entry in (inputs or {}).items():
        sha = entry.get("sha256") if isinstance(entry, dict) else None
        if sha and isinstance(entry, dict) and entry.get("path"):  # a folder hashed the earlier way
            sha = current_sha256(sha, Path(str(entry["path"])))
        if name in out and sha:
            out[name] = Setting(out[name].value, f"{HASHED}{sha}")
    hashes = summary.get("inputs_sha256")  # the plan's own record of its tables, first
    for name in ("accounts", "reps"):
        sha = hashes.get(name) if isinstance(hashes, dict) else None
        if name in out and sha:
            out[name] = Setting(out[name].value, f"{HASHED}{sha}")
    if "scenario" in summary or "command_line" in summary:  # the CLI records the scenario file it read
        scenario = summary.get("scenario")
        out["scenario"] = Setting(scenario, _key(scenario))
    return out


def csv_text(value: object) -> str:
    """A setting as a scenario file or flag spells it: 0.05, true, potential=0.05,workload=0.1; none: ""."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return str(value).lower()
    if isinstance(value, float):
        return str(int(value)) if value.is_integer() else repr(value)
    if isinstance(value, dict):
        return ",".join(f"{k}={csv_text(v)}" for k, v in value.items())
    if isinstance(value, list):
        if all(isinstance(v, str) for v in value):
            return ",".join(value)
        return json.dumps(value, sort_keys=True, ensure_ascii=False)
    return str(value)


def options_table(plans: list[PlanFolder]) -> pd.DataFrame:
    """One row per option (its scenario key): each plan's value as ``csv_text`` writes it (or "not
    recorded") and whether the recorded values differ (a plan that does not record it is not counted)."""
    settings = plans_settings(plans)
    names = {n for s in settings for n in s}
    ordered = [n for n in OPTION_ORDER if n in names] + sorted(names - set(OPTION_ORDER))
    rows = []
    for name in ordered:
        row: dict[str, Any] = {"option": name}
        for p, s in zip(plans, settings, strict=True):
            row[p.label] = csv_text(s[name].value) if name in s else NOT_RECORDED
        row["differs"] = len({s[name].key for s in settings if name in s}) > 1
        rows.append(row)
    return pd.DataFrame(rows, columns=["option", *(p.label for p in plans), "differs"])
