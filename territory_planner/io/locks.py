"""Extra locks from a CSV (``account_id,rep_id``), laid over the accounts table's ``locked_rep``.

``plan --locks FILE`` (scenario key ``locks``) and ``edit --rebalance`` use them: the hand edits of a
plan become locks, and the planner rebalances the rest. The rep of a lock is checked like any
``locked_rep`` (it must be a rep, a family cannot be locked to two reps, segments must match).
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from territory_planner.errors import Problem


def read_locks(path: Path, problems: list[Problem], rows: dict[str, int] | None = None) -> dict[str, str]:
    """account_id -> rep_id; ``rows`` (when given) gets each lock's data row, for the problems of a lock's
    rep found later (an unknown rep is the locks file's row, not the accounts')."""
    name = str(path)
    try:
        frame = pd.read_csv(path, dtype=str, keep_default_na=False, encoding="utf-8-sig")
    except FileNotFoundError:
        problems.append(Problem(name, None, None, "locks file not found"))
        return {}
    except (UnicodeDecodeError, pd.errors.ParserError, pd.errors.EmptyDataError) as exc:
        problems.append(Problem(name, None, None, f"not a readable UTF-8 CSV: {exc}"))
        return {}
    frame.columns = [str(c).strip().lower() for c in frame.columns]
    missing = [c for c in ("account_id", "rep_id") if c not in frame.columns]
    for col in missing:
        problems.append(Problem(name, None, col, "required column is missing"))
    if missing:
        return {}
    locks: dict[str, str] = {}
    for row, (acc, rep) in enumerate(zip(frame["account_id"], frame["rep_id"], strict=True), start=1):
        acc, rep = acc.strip().removeprefix("'"), rep.strip().removeprefix("'")
        if not acc or not rep:
            problems.append(Problem(name, row, "account_id" if not acc else "rep_id", "empty value"))
        elif acc in locks and locks[acc] != rep:
            problems.append(
                Problem(name, row, "account_id", f"locked to {locks[acc]} on an earlier row", acc)
            )
        else:
            locks[acc] = rep
            if rows is not None:
                rows.setdefault(acc, row)
    return locks


def apply_locks(
    frame: pd.DataFrame, path: Path, accounts_file: str, problems: list[Problem]
) -> dict[str, int]:
    """Set ``locked_rep`` of the raw accounts ``frame`` from the locks file (in place); each lock's row in
    the locks file, by account_id."""
    rows: dict[str, int] = {}
    locks = read_locks(path, problems, rows)
    if not locks or "account_id" not in frame.columns:
        return rows
    ids = frame["account_id"].astype(str).str.strip()
    unknown = sorted(set(locks) - set(ids))
    for acc in unknown:
        problems.append(Problem(str(path), None, "account_id", f"account is not in {accounts_file}", acc))
    if "locked_rep" not in frame.columns:
        frame["locked_rep"] = ""
    hit = ids.isin(set(locks))
    frame.loc[hit, "locked_rep"] = ids[hit].map(locks)
    return rows
