"""Scenario files (TOML): paths to the tables (relative to the file) and every option of ``plan``.

    accounts = "../accounts.csv"
    reps = "../reps.csv"
    balance = ["potential", "workload"]
    max_moved_share = 0.1
    [tolerance]
    potential = 0.05
    workload = 0.10

Command-line flags override the file. Unknown keys are errors (a typo must not pass silently).

**Inheritance.** ``extends = "base.toml"`` (relative to the file) loads the parent first; the child's keys
override the parent's, tables (``[tolerance]``, ``[reps]``) are merged key by key, other values (lists
included) are replaced. An empty string unsets a path option (``crm = ""``, ``areas = ""``, ...), ``period``
or ``forecast_horizon``, so a child can drop what its parent sets. Chains are allowed, cycles are an error.
Paths are resolved against the file that names them, so a child in another folder still finds its parent's
tables.

**Adding and removing reps** without editing the reps table: ``reps`` may be a table instead of a path::

    extends = "base.toml"
    [reps]
    remove = ["R07"]            # their accounts are reassigned (R07 becomes a departed rep)
    [[reps.add]]
    rep_id = "R21"
    name = "New hire Dallas"
    lat = 32.78
    lon = -96.80

``[reps] path = "reps.csv"`` names the table (inherited when omitted). Along a chain, ``add`` and ``remove``
accumulate (a child's rows come after its parent's), except that a child's ``remove`` of a rep its
parents add withdraws that add. The flat mapping returned by ``load_scenario`` carries
them as the ``reps_add`` / ``reps_remove`` options; those two names are internal and not valid top-level keys.
"""

from __future__ import annotations

import difflib
import logging
import re
import tomllib
from pathlib import Path
from typing import Any

from territory_planner.errors import InputError, Problem
from territory_planner.io.scenario_lines import TABLE_OPTIONS, as_written, chain_texts, key_lines
from territory_planner.options import OPTION_NAMES, PATH_OPTIONS, balance_measures, rebanded, unbanded

log = logging.getLogger(__name__)

_INTERNAL = {"reps_add", "reps_remove"}
# an empty string unsets these (a child scenario clears its parent's value); as a path it named the
# scenario's own folder: `crm = ""` read the folder as CRM history and failed after the solve
_CLEARABLE = {*PATH_OPTIONS, "period", "forecast_horizon"}
_REPS_KEYS = {"path", "add", "remove"}


def _read_toml(path: Path, shown: str) -> dict[str, Any]:
    if not path.is_file():
        raise InputError(Problem(shown, None, None, "scenario file not found"))
    try:
        return tomllib.loads(path.read_text(encoding="utf-8-sig"))
    except UnicodeDecodeError as exc:
        utf16 = path.read_bytes()[:2] in (b"\xff\xfe", b"\xfe\xff")
        why = "it is UTF-16 (Notepad's 'Unicode')" if utf16 else str(exc)
        raise InputError(
            Problem(shown, None, None, f"scenario file is not UTF-8: {why}; save it as UTF-8")
        ) from exc
    except tomllib.TOMLDecodeError as exc:
        problem = _value_and_table(path, shown, exc)
        raise InputError(problem or Problem(shown, None, None, f"not valid TOML: {exc}")) from exc


_AT_LINE = re.compile(r"\(at line (\d+), column \d+\)")
_KEY = r'\s*(?:"([^"]+)"|\'([^\']+)\'|([A-Za-z0-9_-]+))\s*'
_TABLE_HEADER = re.compile(r"^\s*\[\[?" + _KEY)  # [reps], [[reps.add]], [reps.add]
_DOTTED_KEY = re.compile(r"^" + _KEY + r"\.")  # reps.remove = [...]
_ASSIGNMENT = re.compile(r"^" + _KEY + r"=")


def _key_of(match: re.Match[str]) -> str:
    return next(g for g in match.groups() if g is not None)


def _value_and_table(path: Path, shown: str, exc: tomllib.TOMLDecodeError) -> Problem | None:
    """Say what to write when a top-level key is also opened as a table (TOML's bare "Cannot overwrite a
    value"): a planner adding ``[reps] remove = [...]`` to a scenario with ``reps = "reps.csv"`` writes just
    that. None when the error is another one."""
    if "Cannot overwrite a value" not in str(exc):
        return None
    found = getattr(exc, "lineno", None) or (m.group(1) if (m := _AT_LINE.search(str(exc))) else None)
    if found is None:
        return None
    table_line = int(found)
    lines = path.read_text(encoding="utf-8-sig").splitlines()
    if not 1 <= table_line <= len(lines):
        return None
    root = list(enumerate(lines[: table_line - 1], start=1))
    header = _TABLE_HEADER.match(lines[table_line - 1])
    dotted = None if header else _DOTTED_KEY.match(lines[table_line - 1])
    if header is None and (dotted is None or any(_TABLE_HEADER.match(t) for _, t in root)):
        return None  # a dotted key inside a table names that table's key, not the top-level one
    key = _key_of(header or dotted)  # type: ignore[arg-type]
    value_line, value = None, None
    for number, text in root:
        if _TABLE_HEADER.match(text):
            break  # the top-level keys end at the first table
        assignment = _ASSIGNMENT.match(text)
        if assignment and _key_of(assignment) == key:
            value_line = number
            try:
                value = tomllib.loads(text).get(key)
            except tomllib.TOMLDecodeError:
                value = None  # a value over several lines: its line is still named
    if value_line is None:
        return None
    opened_text = lines[table_line - 1].split("#")[0].split("=")[0].strip()
    opened = f"the table {opened_text}" if header else f"the key {opened_text}"
    told = f"{key} is given twice: as a value on line {value_line} and as {opened} on line {table_line}"
    if key == "reps":
        name = f'"{value}"' if isinstance(value, str) else '"reps.csv"'
        if dotted:
            fix = f"write the file as reps.path = {name} on line {value_line} instead, beside {opened_text}"
        elif re.fullmatch(r"\[" + _KEY + r"\]", opened_text):
            fix = (
                f"name the file inside the table instead: delete line {value_line} and write "
                f"path = {name} under [reps], beside add/remove"
            )
        else:
            fix = (
                f"name the file in a [reps] table instead: delete line {value_line} and write [reps] "
                f"with path = {name} under it above line {table_line}, beside add/remove"
            )
    else:
        fix = f"TOML allows one of them: keep either the value on line {value_line} or the table"
    return Problem(shown, table_line, key, f"{told}; {fix}", "" if value is None else str(value))


def _toml_text(value: Any) -> str:
    """A value as TOML writes it, for a message saying what to write."""
    if isinstance(value, bool):
        return str(value).lower()
    return f'"{value}"' if isinstance(value, str) else str(value)


def _unknown_key_hint(k: str, value: Any, data: dict[str, Any], lines: dict[tuple[str, ...], int]) -> str:
    """What the writer of an unknown key probably meant: a per-measure tolerance written as one key
    (``tolerance_potential = 0.2``; the file's other keys ``data`` say whether a value for every measure
    stands in the table's way), the nearest key name (``time_limt``), or the [reps] table."""
    if k in _INTERNAL:
        return " (use a [reps] table with add/remove)"
    for table in TABLE_OPTIONS:
        measure = k[len(table) + 1 :] if k.startswith(table + "_") else ""
        if not measure:
            continue
        hint = f" (a tolerance per measure is a table: write [{table}] with {measure} = {_toml_text(value)}"
        other = data.get(table)
        if other is not None and not isinstance(other, dict):
            line = lines.get((table,))
            at = f" on line {line}" if line else ""
            hint += f" and the other measures, in place of {table} = {_toml_text(other)}{at}"
        return hint + ")"
    close = difflib.get_close_matches(k, sorted(OPTION_NAMES - _INTERNAL), n=1, cutoff=0.75)
    return f" (did you mean {close[0]!r}?)" if close else ""


def _normalise(
    path: Path, data: dict[str, Any], src: str, lines: dict[tuple[str, ...], int], text: list[str]
) -> tuple[dict[str, Any], list[Problem]]:
    """Check one file's keys and resolve its paths; ``reps`` becomes a table {path?, add, remove}. ``src``
    names the file in problems, ``lines`` (``key_lines``) gives their line and ``text`` (the file's lines)
    the value as written."""
    out: dict[str, Any] = {}
    problems: list[Problem] = []
    for key, value in data.items():
        k = key.replace("-", "_")
        if k == "extends":
            continue
        if k not in OPTION_NAMES or k in _INTERNAL:
            message = f"unknown scenario key {key!r}{_unknown_key_hint(k, value, data, lines)}"
            line = lines.get((key,))
            problems.append(Problem(src, line, key, message, as_written(text, line)))
            continue
        if k == "reps":
            table = value if isinstance(value, dict) else {"path": value}
            reps: dict[str, Any] = {"add": [], "remove": []}
            for rk, rv in table.items():
                line = lines.get((key, rk), lines.get((key,)))
                if rk not in _REPS_KEYS:
                    problems.append(
                        Problem(src, line, f"reps.{rk}", f"unknown key reps.{rk} (path, add, remove)")
                    )
                elif rk == "path" and not isinstance(rv, str):  # QA57 F13: `reps = true` read "True"
                    shown = str(rv).lower() if isinstance(rv, bool) else repr(rv)
                    problems.append(
                        Problem(
                            src,
                            line,
                            "reps.path" if isinstance(value, dict) else "reps",
                            f"reps must be a file path (a text in quotes) or a [reps] table, not {shown}",
                        )
                    )
                elif rk == "path":
                    reps["path"] = (path.parent / str(rv)).resolve()
                elif rk == "add":
                    rows = rv if isinstance(rv, list) else [rv]
                    if not all(isinstance(r, dict) for r in rows):
                        problems.append(
                            Problem(src, line, "reps.add", "reps.add must be [[reps.add]] tables")
                        )
                    else:
                        added = [
                            _added_rep(src, i, r, problems, lines, (key, rk))
                            for i, r in enumerate(rows, start=1)
                        ]
                        reps["add"] = added
                else:
                    ids = rv if isinstance(rv, list) else [rv]
                    reps["remove"] = [str(r) for r in ids]
            out["reps"] = reps
            continue
        if k in _CLEARABLE and isinstance(value, str) and not value.strip():
            out[k] = None  # unset: `crm = ""` drops the parent's CRM (TOML has no null)
            continue
        if k in PATH_OPTIONS and isinstance(value, str):
            value = (path.parent / value).resolve()
        out[k] = value
    return out, problems


def _added_rep(
    src: str,
    index: int,
    row: dict[str, Any],
    problems: list[Problem],
    lines: dict[tuple[str, ...], int],
    at: tuple[str, ...],
) -> dict[str, Any]:
    """One ``[[reps.add]]`` table as the roster's text cells: ``segments`` may be a TOML list (written
    ``a;b`` as in reps.csv); any other list or table is reported, never turned into its Python text
    (``segments = ["enterprise", "mid"]`` became the one segment "['enterprise', 'mid']", and the rep
    could serve nothing)."""
    out: dict[str, Any] = {}
    for key, value in row.items():
        where = f"reps.add[{index}].{key}"
        line = lines.get((*at, f"[{index}]", key), lines.get(at))
        if isinstance(value, list) and str(key).lower() == "segments":
            if all(isinstance(v, str) and v.strip() and ";" not in v for v in value):
                out[key] = ";".join(v.strip() for v in value)
                continue
            problems.append(Problem(src, line, where, "segments must be a list of segment names", str(value)))
        elif isinstance(value, list | dict):
            problems.append(Problem(src, line, where, f"{key} must be a single value", str(value)))
        else:
            out[key] = value
    return out


def _merge(parent: dict[str, Any], child: dict[str, Any]) -> dict[str, Any]:
    out = dict(parent)
    for key, value in child.items():
        old = out.get(key)
        if key == "reps" and isinstance(old, dict):
            merged = {**old, **{k: v for k, v in value.items() if k == "path"}}
            # a child's remove of a rep its parents add withdraws the add ("what if the hire does not
            # happen" as a what-if of the hiring scenario; QA62 F7: refused with two messages that
            # contradicted each other); any other remove joins the parents'
            removed = [str(r) for r in value.get("remove", [])]
            added = list(old.get("add", []))
            # ids compared as the roster reads them, spaces around them dropped (QA65 F4: " R21 ")
            withdrawn = {r.strip() for r in removed} & {_added_id(row) for row in added}
            merged["add"] = [row for row in added if _added_id(row) not in withdrawn]
            merged["add"] += list(value.get("add", []))
            kept = [r for r in removed if r.strip() not in withdrawn]
            merged["remove"] = list(old.get("remove", [])) + kept
            out[key] = merged
        elif isinstance(old, dict) and isinstance(value, dict):
            out[key] = _merge(old, value)
        else:
            out[key] = value
    return out


def _added_id(row: object) -> str:
    """The rep_id of a [[reps.add]] row, as the roster will read it ("" when it has none)."""
    if not isinstance(row, dict):
        return ""
    return str({str(k).strip().lower(): v for k, v in row.items()}.get("rep_id", "")).strip()


def _load_chain(path: Path, shown: str, seen: tuple[Path, ...], problems: list[Problem]) -> dict[str, Any]:
    """The merged values of ``path`` and its parents; the problems of every file's keys go to
    ``problems`` (all of them, the parents' too), a file that cannot be read ends the load at once.
    ``shown``: the file's name in problems (as given for the file named on the command line)."""
    path = path.resolve()
    if path in seen:
        chain = " -> ".join(p.name for p in (*seen, path))
        raise InputError(Problem(shown, None, "extends", f"scenario inheritance cycle: {chain}"))
    data = _read_toml(path, shown)
    text = path.read_text(encoding="utf-8-sig")
    lines = key_lines(text)
    own, found = _normalise(path, data, shown, lines, text.splitlines())
    problems.extend(found)
    parent_name = data.get("extends")
    if parent_name is None:
        return own
    line = lines.get(("extends",))
    if not isinstance(parent_name, str):
        raise InputError(Problem(shown, line, "extends", "extends must be a file name", str(parent_name)))
    parent_path = path.parent / parent_name
    if not parent_path.is_file():
        raise InputError(
            Problem(shown, line, "extends", f"parent scenario {parent_path} not found", parent_name)
        )
    parent = _load_chain(parent_path, str(parent_path.resolve()), (*seen, path), problems)
    if "balance" in own:  # a child narrowing what is balanced: the inherited bands it leaves out rest
        parent, dropped = unbanded(parent, own["balance"])
        resting = {k: dict(v) for k, v in parent.get(_RESTING, {}).items()}
        for key, table in dropped.items():
            resting.setdefault(key, {}).update({m: (v, shown) for m, v in table.items()})
        parent[_RESTING] = resting
    return _merge(parent, own)


# the bands a file of the chain left out of its balance: {option: {measure: (band, that file)}}
_RESTING = "__resting_bands__"
_SAID: set[str] = set()  # warnings already given in this process (a sweep loads its scenario twice)


def _wake(merged: dict[str, Any]) -> dict[str, dict[str, Any]]:
    """The bands a file of the chain left out of its balance: back where a later file balances the measure
    again (QA47 F2: it fell to the default 5% band without a word), said as not used where the final
    balance leaves it out; a band a later file writes itself wins. Returns those still left out, by
    option (a sweep's ``balance`` value may balance them again)."""
    resting = merged.pop(_RESTING, {})
    asleep: dict[str, dict[str, Any]] = {}
    if not resting:
        return asleep
    balance = merged.get("balance", "")
    merged.update(
        rebanded(merged, {k: {m: b for m, (b, _) in t.items()} for k, t in resting.items()}, balance)
    )
    final_text = ", ".join(balance_measures(balance))
    final = set(balance_measures(balance))
    for key, table in resting.items():
        gone: dict[str, list[str]] = {}
        for m, (band, by) in table.items():
            if m.strip().lower() not in final:
                gone.setdefault(by, []).append(m)
                asleep.setdefault(key, {})[m] = band
        for by, measures in gone.items():
            named = ", ".join(measures)
            message = (
                f"{by} leaves {named} out of its balance (the scenario balances {final_text}): the inherited "
                f"{key} for {named} is not used"
            )
            if message not in _SAID:
                _SAID.add(message)
                log.warning("%s", message)
    return asleep


def scenario_files(path: Path | str | None) -> list[Path]:
    """The scenario file and the parents its ``extends`` chain names, as far as they can be read (a file
    that cannot be is left for the load to report): the files an output must never replace (QA44 F3:
    `validate child.toml --errors base.toml --force` wrote the problems over the parent)."""
    if path is None:
        return []
    return [file for file, _, _ in chain_texts(Path(path))]


def load_scenario(
    path: Path | str, problems: list[Problem] | None = None, *, resting: dict[str, Any] | None = None
) -> dict[str, Any]:
    """Read a scenario file (and its ``extends`` chain) into a flat option mapping with paths resolved.
    Every bad key of the chain is reported at once: raised as one ``InputError``, or, with ``problems``,
    added to it and the good keys returned (so that their values can be checked in the same run).
    ``resting`` gets the bands a file of the chain left out of the balance, by option and measure."""
    found: list[Problem] = []
    merged = _load_chain(Path(path), str(path), (), found)
    asleep = _wake(merged)
    if resting is not None:
        resting.update(asleep)
    if problems is None and found:
        raise InputError(found)
    if problems is not None:
        problems.extend(found)
    out = {k: v for k, v in merged.items() if k != "reps"}
    reps = merged.get("reps")
    if reps is not None:
        if "path" in reps:
            out["reps"] = reps["path"]
        if reps.get("add"):
            out["reps_add"] = reps["add"]
        if reps.get("remove"):
            out["reps_remove"] = reps["remove"]
    return out
