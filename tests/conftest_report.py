"""A tiny, hand-computed CRM history and plan for the report tests (period 2026Q1).

Reps R1, R2 (region East) and R3 (West, no deals). Accounts A1, A2 (current R1), A3, A4 (current R2);
the plan moves A2 and A4 to R3::

    account  potential  current  proposed   deals (amount, status, created -> closed)
    A1       10         R1       R1         O1 100 won 2025-12-01 -> 2026-01-10 (40 d), O2 200 lost
    A2       20         R1       R3         O3 300 won 2026-03-01 -> 2026-03-31 (on the period end, 30 d)
    A3       30         R2       R2         O4 400 won 2025-12-31 (before the period), O5 50 lost 2026-04-01
                                            (after the end: open at end, p=0), O8 60 won (10 d)
    A4       40         R2       R3         O6 1000 open p=0.5, O7 80 open created after the end

The expected values are written out by hand in the tests.
"""

from __future__ import annotations

import json
from pathlib import Path

TABLES = {
    "reps.csv": """rep_id,name,region,quota
R1,Ann East,East,3200
R2,Bob East,East,146
R3,Cy West,West,400
""",
    "accounts.csv": """account_id,name,potential,current_rep
A1,Acme,10,R1
A2,Bolt,20,R1
A3,Corex,30,R2
A4,Dyna,40,R2
""",
    "opportunities.csv": """opportunity_id,account_id,rep_id,amount,status,probability,created_date,close_date
O1,A1,R1,100,won,1,2025-12-01,2026-01-10
O2,A1,R1,200,lost,0,2026-01-05,2026-02-01
O3,A2,R1,300,won,1,2026-03-01,2026-03-31
O4,A3,R2,400,won,1,2025-10-01,2025-12-31
O5,A3,R2,50,lost,0,2026-02-01,2026-04-01
O6,A4,R2,1000,open,0.5,2026-03-15,
O7,A4,R2,80,open,0.25,2026-04-02,
O8,A3,R2,60,won,1,2026-01-10,2026-01-20
""",
    "quotas.csv": """rep_id,period_start,period_end,quota
R1,2026-01-01,2026-03-31,800
R2,2026-01-01,2026-12-31,146
R3,2026-01-01,2026-03-31,100
R1,2025-10-01,2025-12-31,999
""",
    "forecasts.csv": """rep_id,period_start,period_end,forecast
R1,2026-01-01,2026-03-31,500
R2,2026-01-01,2026-03-31,30
""",
    "time_log.csv": """rep_id,date,selling_hours,total_hours
R1,2026-01-05,10,40
R1,2026-03-31,20,40
R1,2025-12-31,40,40
R2,2026-02-01,5,50
""",
    "leads.csv": """lead_id,rep_id,account_id,contacted_at,responded_at
L1,R1,A1,2026-01-01T09:00,2026-01-01T12:00
L2,R1,A2,2026-03-31T23:00,2026-04-01T01:00
L3,R2,A3,2026-02-01T10:00,
L4,R2,A3,2025-12-31T10:00,2026-01-01T10:00
""",
    "activities.csv": """activity_id,rep_id,account_id,date,type
M1,R1,A1,2026-01-05,meeting
M2,R1,A1,2026-02-01,Meeting
M3,R2,A3,2026-01-01,meeting
M4,R2,A4,2026-03-31,meeting
M5,R1,A2,2026-03-31,call
M6,R2,A4,2026-04-01,meeting
M7,R1,A2,2026-03-31,meeting
""",
}

ASSIGNMENTS = """account_id,rep_id,current_rep,moved,distance_km,potential,workload,reason,name,lat,lon
A1,R1,R1,False,5.0,10,1,kept,Acme,40.0,-74.0
A2,R3,R1,True,12.5,20,1,closer to R3,Bolt,40.1,-74.1
A3,R2,R2,False,3.0,30,1,kept,Corex,41.0,-75.0
A4,R3,R2,True,8.0,40,1,balance,Dyna,41.1,-75.1
"""

TERRITORIES = """rep_id,name,accounts,potential,workload,potential_target,workload_target,potential_dev_pct,\
workload_dev_pct,travel_km,moved_in,moved_out,capacity,region,home_lat,home_lon
R1,Ann East,1,10,1,33.333,1.333,-70.0,-25.0,5.0,0,1,1.0,East,40.0,-74.0
R2,Bob East,1,30,1,33.333,1.333,-10.0,-25.0,3.0,0,1,1.0,East,41.0,-75.0
R3,Cy West,2,60,2,33.333,1.333,80.0,50.0,20.5,2,0,1.0,West,40.5,-74.5
"""

SUMMARY = {
    "status": "optimal",
    "proven_optimal": True,
    "objective": 28.5,
    "lower_bound": 27.0,
    "gap": 0.0526,
    "solve_seconds": 0.4,
    "solver": "highs",
    "accounts": 4,
    "reps": 3,
    "max_abs_dev_pct": {"potential": 80.0, "workload": 50.0},
    "moved_accounts": 2,
    "moved_potential_share": 0.6,
    "config": {"tolerance": 0.05},
    "inputs_sha256": "0" * 64,
    "version": "0.1.0",
}


def write_crm(folder: Path, *, skip: tuple[str, ...] = (), override: dict[str, str] | None = None) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    tables = {**TABLES, **(override or {})}
    for name, text in tables.items():
        if name not in skip:
            (folder / name).write_text(text, encoding="utf-8")
    return folder


def write_plan(folder: Path, *, assignments: str = ASSIGNMENTS, territories: str = TERRITORIES) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "assignments.csv").write_text(assignments, encoding="utf-8")
    (folder / "territories.csv").write_text(territories, encoding="utf-8")
    (folder / "summary.json").write_text(json.dumps(SUMMARY), encoding="utf-8")
    return folder
