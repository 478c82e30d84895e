"""An account locked to a rep the scenario removes (`[reps] remove`) was reported as "not a rep in the
reps file", where the reps file has it (QA38 F6): the message now names the scenario's removal, at the
accounts file's row or the locks file's."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest
from scenario_fixtures import write_instance

from territory_planner.errors import InputError
from territory_planner.io.scenario import load_scenario
from territory_planner.options import build_options


def test_a_lock_on_a_removed_rep_names_the_scenarios_removal(tmp_path: Path) -> None:
    from territory_planner import api

    write_instance(tmp_path)
    accounts = pd.read_csv(tmp_path / "accounts.csv", dtype=str, keep_default_na=False)
    if "locked_rep" not in accounts:
        accounts["locked_rep"] = ""
    accounts.loc[2, "locked_rep"] = "R3"
    accounts.to_csv(tmp_path / "accounts.csv", index=False)
    scenario = tmp_path / "departure.toml"
    scenario.write_text('extends = "base.toml"\n[reps]\nremove = ["R3"]\n', encoding="utf-8")
    with pytest.raises(InputError) as err:
        api.validate(build_options(load_scenario(scenario)))
    [problem] = [p for p in err.value.problems if p.column == "locked_rep"]
    assert problem.row == 3
    assert "removed by the scenario's [reps] remove" in problem.message
    assert "not a rep in the reps file" not in problem.message
    # a locks file: its own row
    locks = tmp_path / "locks.csv"
    pd.DataFrame({"account_id": [accounts.loc[0, "account_id"]], "rep_id": ["R3"]}).to_csv(locks, index=False)
    accounts.loc[2, "locked_rep"] = ""
    accounts.to_csv(tmp_path / "accounts.csv", index=False)
    values = load_scenario(scenario)
    values["locks"] = locks
    with pytest.raises(InputError) as err:
        api.validate(build_options(values))
    [problem] = [p for p in err.value.problems if p.column == "rep_id"]
    assert str(problem.file).endswith("locks.csv")
    assert "removed by the scenario's [reps] remove" in problem.message
