"""Scenario files (TOML): paths to the tables (relative to the file) and every option of ``plan``.

    accounts = "../accounts.csv"
    reps = "../reps.csv"
    balance = ["potential", "workload"]
    max_moved_share = 0.1
    [tolerance]
    potential = 0.05
    workload = 0.10

Command-line flags override the file. Unknown keys are errors (a typo must not pass silently).
"""

from __future__ import annotations

import tomllib
from pathlib import Path
from typing import Any

from territory_planner.errors import InputError, Problem
from territory_planner.options import OPTION_NAMES, PATH_OPTIONS


def load_scenario(path: Path | str) -> dict[str, Any]:
    """Read a scenario file into a flat option mapping with paths resolved against the file's folder."""
    path = Path(path)
    if not path.is_file():
        raise InputError(Problem(str(path), None, None, "scenario file not found"))
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except UnicodeDecodeError as exc:
        raise InputError(Problem(str(path), None, None, f"scenario file is not UTF-8: {exc}")) from exc
    except tomllib.TOMLDecodeError as exc:
        raise InputError(Problem(str(path), None, None, f"not valid TOML: {exc}")) from exc
    out: dict[str, Any] = {}
    problems = []
    for key, value in data.items():
        k = key.replace("-", "_")
        if k not in OPTION_NAMES:
            problems.append(Problem(str(path), None, key, f"unknown scenario key {key!r}"))
            continue
        if k in PATH_OPTIONS and isinstance(value, str):
            value = (path.parent / value).resolve()
        out[k] = value
    if problems:
        raise InputError(problems)
    return out
