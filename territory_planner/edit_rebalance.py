"""``edit --rebalance``: the edits become locks and the plan is solved again under its own manifest (the
same inputs and options), so the planner rebalances everything the edits did not fix."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pandas as pd

from territory_planner.edit_input import read_edits
from territory_planner.errors import InputError, Problem
from territory_planner.io.outpaths import hidden_prefix
from territory_planner.io.writers import (
    atomic_write_text,
    json_text,
    staged_output_dir,
    write_csv,
)
from territory_planner.render.plan_folder import (
    PlanFolder,
    read_plan_folder,
)
from territory_planner.report.formatting import counted


def rebalance(
    plan_dir: Path,
    edits_path: Path,
    out: Path,
    *,
    force: bool = False,
    overrides: dict[str, Any] | None = None,
    progress: Any = None,
    extra: dict[str, Any] | None = None,
    begun: float | None = None,
    warn: Callable[[str], None] | None = None,
) -> tuple[Any, list[str], str]:
    """Re-solve the plan under its own manifest with the edits as locks. Returns the ``api.PlanOutput``,
    the manifest's warnings (inputs or versions that changed since the plan was made) and how many other
    accounts changed rep (``rebalanced_moves``). ``begun``: as
    for ``api.plan`` (the console script's start, from which --time-limit counts). ``warn``: given each
    warning before the solve, so that they are said when it fails too (QA74 F4: an infeasible re-solve
    blamed an account whose potential the changed accounts file had raised, and "changed since the plan
    was made" was said only when the re-solve succeeded).

    The locks the new plan is solved with (the plan's own, if it had any, and the edits) are kept in the
    new folder as ``locks.csv``, which its manifest names, so that the folder reruns by itself (QA15 M2:
    the first rebalance named the user's edits file, and ``plan --from-manifest`` ran with whatever that
    file held later). The manifest keeps the plan's scenario (QA15 L3)."""
    from territory_planner.io.writers import check_replace, refuse_replacing_inputs
    from territory_planner.manifest import MANIFEST_NAME, file_sha256, load_manifest, recorded_scenario

    plan_dir, edits_path, out = Path(plan_dir), Path(edits_path), Path(out)
    # the same checks as without --rebalance; a family goes to its lock whole, so all its segments count
    plan = read_plan_folder(plan_dir)
    edits = read_edits(edits_path, plan, whole_families=True)
    if not (plan_dir / MANIFEST_NAME).is_file():
        raise InputError(
            Problem(
                str(plan_dir / MANIFEST_NAME),
                None,
                None,
                "--rebalance needs the plan's manifest.json (written by `plan`) to solve the model again",
            )
        )
    values, warnings = load_manifest(plan_dir)
    values.update({k: v for k, v in (overrides or {}).items() if v is not None})
    from territory_planner.options import PATH_OPTIONS

    # the plan's own inputs (accounts, reps, CRM, ...) are this run's too (QA18 F11: --out their folder
    # with --force deleted them), and the plan itself (QA27 F21: an edit in place lost the solved plan)
    inputs = [plan_dir, edits_path, *(values.get(k) for k in sorted(PATH_OPTIONS - {"locks"}))]
    refuse_replacing_inputs(out, inputs)
    check_replace(out, force, "nothing was changed", "plan")  # before the solve, not after it
    context = {
        **(extra or {}),
        "scenario": recorded_scenario(plan_dir),
        "rebalanced_from": {
            "plan": str(plan_dir.resolve()),
            "edits": str(edits_path.resolve()),
            "edits_sha256": file_sha256(edits_path),
        },
    }
    kwargs: dict[str, Any] = {"extra": context, "begun": begun}
    if progress is not None:
        kwargs["progress"] = progress
    said = 0
    if warn is not None:  # before the plan's locks are read: a changed locks file may fail there (QA75 F2)
        for warning in warnings:
            warn(warning)
        said = len(warnings)
    locks = _rebalance_locks(values.get("locks"), edits, plan, warnings)
    if warn is not None:
        for warning in warnings[said:]:  # the locks' own
            warn(warning)
    output = _rebalance_with(locks, values, plan_dir, out, force, kwargs)
    after = pd.Series(output.assignments["rep_id"].to_numpy(), index=output.assignments["account_id"])
    return output, warnings, rebalanced_moves(plan, edits, after, plan_dir, out)


def rebalanced_moves(
    plan: PlanFolder, asked: dict[str, str], after: pd.Series, plan_dir: Path, out: Path
) -> str:
    """How many accounts a rebalance gave another rep (``after``: rep by account) than the plan it edits,
    beside the edits ``asked`` themselves (QA44 F6: a one-account edit re-cut 88 of 287 accounts without a
    word): the re-solve balances from the current alignment, as the plan did, so the reviewed plan is not
    its starting point."""
    before = plan.assignments.set_index("account_id")["rep_id"]
    edited = {acc for acc, rep in asked.items() if before.get(acc) != rep}  # a workbook's every row
    changed = after.index[after.ne(before.reindex(after.index))]
    # the members of an edited account's family go with it (QA47 F10: counted as the re-solve's moves)
    parents = dict(zip(plan.assignments["account_id"], plan.assignments["parent_id"], strict=True))
    families = {parents[acc] for acc in edited if parents.get(acc)}
    following = [acc for acc in changed if acc not in edited and parents.get(acc) in families]
    others = [acc for acc in changed if acc not in edited and acc not in set(following)]
    verb = "follows" if len(following) == 1 else "follow"
    with_them = f" and the {counted(len(following), 'family member')} that {verb} them" if following else ""
    if not others:
        return f"no account besides the edits{with_them} changed rep against {plan_dir}"
    return (
        f"{counted(len(others), 'account')} besides the edits{with_them} changed rep against {plan_dir} "
        f"(of {len(after):,}; the new solve starts from the current alignment, as the plan did): "
        f"`territory-planner compare {plan_dir} {out} --out COMPARE_FOLDER` lists them; an edit without "
        "--rebalance changes "
        "only the edited accounts (a manual plan: the bands and families it breaks are listed)"
    )


def _rebalance_locks(
    previous: object, edits: dict[str, str], plan: PlanFolder, warnings: list[str]
) -> pd.DataFrame:
    """account_id, rep_id: the plan's locks file (if it had one) with the edits laid over it. The plan's
    locks are locked in the plan, so the edits cannot touch them. A locks file that no longer exists is
    replaced by the locks the plan was solved with (assignments.csv's ``locked_rep``), with a warning.
    The edits come as ``read_edits`` read them (a workbook too: they were read again as a locks CSV, and
    an .xlsx failed with "not UTF-8 text")."""
    from territory_planner.io.locks import read_locks

    problems: list[Problem] = []
    merged: dict[str, str] = {}
    if previous:
        if Path(str(previous)).is_file():
            merged = read_locks(Path(str(previous)), problems)
        else:
            a = plan.assignments
            held = a["locked_rep"].fillna("").astype(str)
            merged = dict(zip(a["account_id"][held != ""], held[held != ""], strict=True))
            warnings.append(
                f"the plan's locks file {previous} no longer exists: the {len(merged)} lock(s) the plan was "
                "solved with (assignments.csv, locked_rep) are kept instead"
            )
    merged.update(edits)
    if problems:
        raise InputError(problems)
    return pd.DataFrame({"account_id": list(merged), "rep_id": list(merged.values())})


def _rebalance_with(
    table: pd.DataFrame,
    values: dict[str, Any],
    plan_dir: Path,
    out: Path,
    force: bool,
    kwargs: dict[str, Any],
) -> Any:
    """Solve with the locks ``table`` into a folder beside ``out``, keep the locks there as locks.csv
    (summary.json and manifest.json naming it at its final place), then put the folder in place in one
    rename: on failure nothing is left and an existing ``out`` is untouched."""
    import os
    import shutil
    import tempfile

    from territory_planner import api
    from territory_planner.manifest import MANIFEST_NAME, file_sha256
    from territory_planner.options import build_options

    out.parent.mkdir(parents=True, exist_ok=True)
    work = Path(tempfile.mkdtemp(prefix=hidden_prefix(out.name, "rebalance"), dir=out.parent))
    try:
        values["locks"] = str(work / "locks.csv")
        write_csv(table, Path(values["locks"]))
        solved = work / "plan"
        options = build_options(values, source=str(plan_dir / MANIFEST_NAME))
        output = api.plan(options, solved, name=out.resolve().name, **kwargs)
        kept = out.resolve() / "locks.csv"
        write_csv(table, solved / "locks.csv")
        summary = json.loads((solved / "summary.json").read_text(encoding="utf-8"))
        if isinstance(summary.get("config"), dict):
            summary["config"]["locks"] = str(kept)
        atomic_write_text(solved / "summary.json", json_text(summary))
        manifest = json.loads((solved / MANIFEST_NAME).read_text(encoding="utf-8"))
        manifest["options"]["locks"] = str(kept)
        manifest.setdefault("inputs", {})["locks"] = {
            "path": str(kept),
            "sha256": file_sha256(solved / "locks.csv"),
        }
        atomic_write_text(solved / MANIFEST_NAME, json_text(manifest))
        if (solved / "plan.xlsx").is_file():  # the workbook names its folder: the final one
            from territory_planner.export.api import write_plan_workbook

            write_plan_workbook(solved, out)
        with staged_output_dir(out, force=force, kind="plan") as stage:
            for child in solved.iterdir():
                os.replace(child, stage / child.name)
    finally:
        shutil.rmtree(work, ignore_errors=True)
    output.out = out
    return output
