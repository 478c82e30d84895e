"""The one-rep district warning ("a typo?") reads the roster as the reps file writes it: a district of two
reps, one of whom the scenario removes, is no typo (QA38 F2: the departure what-if, the README's own
example, put "row 4 ... 'N-East' has one rep ... a typo?" in report.html), and a real typo is named at
the file's own row, not at its row in the edited roster."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from territory_planner.io.load import RosterEdits, load_inputs
from tests.conftest import random_accounts, write_instance


def _files(tmp_path: Path, districts: list[str]) -> tuple[Path, Path]:
    accounts = random_accounts(np.random.default_rng(0), 30)
    reps = [
        {"rep_id": f"R{j}", "lat": 35.0 + j, "lon": -95.0 + j, "district": d} for j, d in enumerate(districts)
    ]
    return write_instance(tmp_path, accounts, reps)


def _typos(warnings: tuple[str, ...]) -> list[str]:
    return [w for w in warnings if w.endswith("a typo?")]


def test_a_district_left_with_one_rep_by_the_scenario_is_no_typo(tmp_path: Path) -> None:
    a, r = _files(tmp_path, ["N-East", "N-East", "N-West", "N-West"])
    assert not _typos(load_inputs(a, r).warnings)
    edited = load_inputs(a, r, departed_reps={"R1"}, roster_edits=RosterEdits(remove=("R1",)))
    assert not _typos(edited.warnings)


def test_a_real_typo_is_named_at_the_files_row(tmp_path: Path) -> None:
    a, r = _files(tmp_path, ["N-West", "N-West", "N-West", "N-Wset"])  # R3, row 4, is the typo
    [plain] = _typos(load_inputs(a, r).warnings)
    assert ": row 4, column district" in plain
    [edited] = _typos(
        load_inputs(a, r, departed_reps={"R0"}, roster_edits=RosterEdits(remove=("R0",))).warnings
    )
    assert ": row 4, column district" in edited  # row 3 of the edited roster
