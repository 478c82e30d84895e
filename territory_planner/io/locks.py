"""Extra locks from a CSV (``account_id,rep_id``), laid over the accounts table's ``locked_rep``.

``plan --locks FILE`` (scenario key ``locks``) and ``edit --rebalance`` use them: the hand edits of a
plan become locks, and the planner rebalances the rest. The rep of a lock is checked like any
``locked_rep`` (it must be a rep, a family cannot be locked to two reps, segments must match).
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from territory_planner.errors import InputError, Problem
from territory_planner.io.labels import alike_ids, did_you_mean
from territory_planner.io.readers import canonical_name, read_csv_cells
from territory_planner.io.writers import unneutralise

LOCK_COLUMNS = ("account_id", "rep_id")


def read_locks(path: Path, problems: list[Problem], rows: dict[str, int] | None = None) -> dict[str, str]:
    """account_id -> rep_id; ``rows`` (when given) gets each lock's data row, for the problems of a lock's
    rep found later (an unknown rep is the locks file's row, not the accounts').

    Read as an ``edit --edits`` file is (QA32 F-h): ``;`` or tabs, a byte-order mark, any line ends, a
    ``sep=`` line, a trailing separator, ``Account ID`` for account_id; a cell keeps a leading ``'`` as the
    accounts reader does, unless the planner's own writer put it before ``=``, ``+``, ``-`` or ``@``
    (``unneutralise``: locks.csv of ``edit`` reads back)."""
    name = str(path)
    try:
        frame = read_csv_cells(path, "locks", problems)
    except InputError as err:
        problems += err.problems
        return {}
    frame.columns = [canonical_name(c, LOCK_COLUMNS) for c in frame.columns]
    missing = [c for c in LOCK_COLUMNS if c not in frame.columns]
    found = ", ".join(repr(str(c)) for c in frame.columns[:8]) or "none"
    for col in missing:
        problems.append(Problem(name, None, col, f"required column is missing (the header has {found})"))
    if missing:
        return {}
    locks: dict[str, str] = {}
    first: dict[str, int] = {}
    for row, (acc, rep) in enumerate(zip(frame["account_id"], frame["rep_id"], strict=True), start=1):
        acc, rep = unneutralise(acc.strip()), unneutralise(rep.strip())
        if not acc or not rep:
            problems.append(Problem(name, row, "account_id" if not acc else "rep_id", "empty value"))
        elif acc in locks and locks[acc] != rep:
            message = f"locked to {locks[acc]} on row {first[acc]}"
            problems.append(Problem(name, row, "account_id", message, acc))
        else:
            locks[acc] = rep
            first.setdefault(acc, row)
    if rows is not None:
        rows.update(first)
    return locks


def apply_locks(
    frame: pd.DataFrame, path: Path, accounts_file: str, problems: list[Problem]
) -> dict[str, int]:
    """Set ``locked_rep`` of the raw accounts ``frame`` from the locks file (in place); each lock's row in
    the locks file, by account_id. A lock of an account the table lacks names its row, and the account it
    may mean (``01003`` for ``1003``: QA32 F-x)."""
    rows: dict[str, int] = {}
    locks = read_locks(path, problems, rows)
    if not locks or "account_id" not in frame.columns:
        return rows
    ids = frame["account_id"].astype(str).str.strip()
    known = set(ids)
    alike = alike_ids(known)
    for acc in locks:  # in the file's order
        if acc not in known:
            message = f"account is not in {accounts_file}{did_you_mean(acc, alike, 'account')}"
            problems.append(Problem(str(path), rows[acc], "account_id", message, acc))
    if "locked_rep" not in frame.columns:
        frame["locked_rep"] = ""
    hit = ids.isin(set(locks))
    frame.loc[hit, "locked_rep"] = ids[hit].map(locks)
    return rows
