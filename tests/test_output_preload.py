"""The output modules (folium, the report, the workbook) load once the whole model beside has started, not
before: imported at the start of the run they held the GIL 0.2-0.3 s that HiGHS's start waited for, at
short limits the time its first plan came late (QA83's 539 Honduran cities x 20 reps at +-3% and a budget
0.0003 above the least share, 10 s: the whole model beside began at 1.4-3.3 s, 1.2-2.0 s after the
change). They are still loaded before the outputs' time (QA18 F5: inside it, the run overran its limit)."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from tests.conftest import random_accounts, run_child, write_instance

# In a fresh interpreter (this one has the output modules loaded by other tests): which of them were
# loaded when the progress said the whole model beside had started, and which once the solve returned.
# The core count is pinned at 2: the whole model runs beside only with a second core.
CHILD = """
import json, sys
from territory_planner.optimize import background
background.cores = lambda: 2
from territory_planner import api
from territory_planner.options import build_options
OUTPUTS = ("folium", "territory_planner.render.map", "territory_planner.report.api",
           "territory_planner.export.workbook")
seen = {}
def progress(message):
    if "runs in HiGHS beside" in message and "beside" not in seen:
        seen["beside"] = [m for m in OUTPUTS if m in sys.modules]
options = build_options({"accounts": sys.argv[1], "reps": sys.argv[2], "time_limit": 60, "tolerance": 0.1,
                         "xlsx": True})
out = api.solve(options, progress)
seen["after"] = [m for m in OUTPUTS if m in sys.modules]
print(json.dumps(seen))
"""


def test_the_output_modules_load_after_the_whole_model_beside_starts(tmp_path: Path) -> None:
    rng = np.random.default_rng(5)
    reps = [{"rep_id": f"R{j}", "lat": 35.0 + j, "lon": -90.0 + j} for j in range(4)]
    accounts, reps_csv = write_instance(tmp_path, random_accounts(rng, 80), reps)
    seen = run_child(CHILD, accounts, reps_csv)
    assert seen["beside"] == []  # the whole model beside started before any of them was imported
    # ... and every one the outputs need (the workbook: --xlsx) is loaded before they are written
    assert set(seen["after"]) == {
        "folium",
        "territory_planner.render.map",
        "territory_planner.report.api",
        "territory_planner.export.workbook",
    }
