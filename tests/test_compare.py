"""``compare`` on hand-made plan folders whose moves are known.

account  potential workload   plan A   plan B
A1       100       1          R1       R1
A2       200       2          R1       R2      moves R1 -> R2
A3       300       3          R2       R3      moves R2 -> R3 (R3 only exists in B)
A4       400       4          R2       R2
A5       <b>x</b>: an account name with markup, only in plan A (R1)
"""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd
import pytest
from click.testing import CliRunner

from territory_planner.cli import main
from territory_planner.compare import compare

POT = {"A1": 100.0, "A2": 200.0, "A3": 300.0, "A4": 400.0, "<b>A5</b>": 50.0}


def _plan(folder: Path, reps: dict[str, str], *, status: str = "optimal") -> Path:
    folder.mkdir(parents=True)
    rows = [
        {
            "account_id": a,
            "rep_id": r,
            "current_rep": "",
            "moved": False,
            "distance_km": 1.0,
            "potential": POT[a],
            "workload": POT[a] / 100,
            "reason": "",
        }
        for a, r in reps.items()
    ]
    a = pd.DataFrame(rows)
    a.to_csv(folder / "assignments.csv", index=False)
    t = (
        a.groupby("rep_id")
        .agg(accounts=("account_id", "size"), potential=("potential", "sum"), workload=("workload", "sum"))
        .reset_index()
    )
    t["name"] = t["rep_id"]
    t["potential_dev_pct"] = 100 * (t["potential"] / t["potential"].mean() - 1)
    t["workload_dev_pct"] = 100 * (t["workload"] / t["workload"].mean() - 1)
    t["travel_km"] = 10.0
    t.to_csv(folder / "territories.csv", index=False)
    (folder / "summary.json").write_text(
        json.dumps(
            {
                "status": status,
                "objective": 1.0,
                "gap": 0.0,
                "reps": len(t),
                "accounts": len(a),
                "max_abs_dev_pct": {"potential": 1.0},
                "moved_accounts": 0,
                "moved_potential_share": 0.0,
                "config": {"crm": None},
            }
        )
    )
    (folder / "map.html").write_text("<html>map</html>")
    return folder


def test_moves_and_rep_statement(tmp_path: Path) -> None:
    a = _plan(tmp_path / "plan_a", {"A1": "R1", "A2": "R1", "A3": "R2", "A4": "R2", "<b>A5</b>": "R1"})
    b = _plan(tmp_path / "plan_b", {"A1": "R1", "A2": "R2", "A3": "R3", "A4": "R2"})
    result = compare([a, b], tmp_path / "cmp")
    moves = pd.read_csv(tmp_path / "cmp" / "moves.csv", keep_default_na=False)
    assert moves[["account_id", "rep_a", "rep_b"]].values.tolist() == [
        ["<b>A5</b>", "R1", ""],
        ["A2", "R1", "R2"],
        ["A3", "R2", "R3"],
    ]
    st = result.statement.set_index("rep_id")
    assert st.loc["R3", "roster"] == "added"
    assert st.loc["R1", "roster"] == "kept"
    assert st.loc["R1", "accounts_out"] == 2
    assert st.loc["R1", "potential_out"] == 250.0
    assert st.loc["R2", "potential_in"] == 200.0
    assert st.loc["R2", "potential_out"] == 300.0
    assert st.loc["R2", "potential_net"] == -100.0
    assert st.loc["R3", "workload_in"] == 3.0
    balance = pd.read_csv(tmp_path / "cmp" / "balance.csv")
    assert list(balance["rep_id"]) == ["R1", "R2", "R3"]
    assert pd.isna(balance.set_index("rep_id").loc["R3", "plan_a: potential"])
    # counts stay whole where a rep is blank (QA44 F19: "24.0")
    text = (tmp_path / "cmp" / "balance.csv").read_text(encoding="utf-8-sig")
    first = text.splitlines()[1].split(",")
    head = text.splitlines()[0].split(",")
    assert "." not in first[head.index("plan_a: accounts")]
    page = (tmp_path / "cmp" / "compare.html").read_text()
    assert "<b>A5</b>" not in page
    assert "&lt;b&gt;A5&lt;/b&gt;" in page
    assert page.count("<iframe") == 2
    assert (tmp_path / "cmp" / "maps" / "1_plan_a.html").is_file()
    assert "<th>Travel (workload × km)</th>" in page  # not km driven (QA27 F1)
    assert "travel km" not in page


def test_removed_rep_and_cli(tmp_path: Path) -> None:
    a = _plan(tmp_path / "a", {"A1": "R1", "A2": "R2", "A3": "R3", "A4": "R3"})
    b = _plan(tmp_path / "b", {"A1": "R1", "A2": "R2", "A3": "R2", "A4": "R1"})
    runner = CliRunner()
    res = runner.invoke(main, ["compare", str(a), str(b), "--out", str(tmp_path / "c")])
    assert res.exit_code == 0, res.output
    assert "rep R3 removed in b" in res.output
    st = pd.read_csv(tmp_path / "c" / "rep_statement.csv").set_index("rep_id")
    assert st.loc["R3", "roster"] == "removed"
    assert st.loc["R3", "accounts_out"] == 2
    assert st.loc["R3", "accounts_b"] == 0
    again = runner.invoke(main, ["compare", str(a), str(b), "--out", str(tmp_path / "c")])
    assert again.exit_code == 2  # never overwrites without --force: a usage error
    bad = runner.invoke(main, ["compare", str(a), str(tmp_path), "--out", str(tmp_path / "d")])
    assert bad.exit_code == 1
    assert not (tmp_path / "d" / "compare.html").exists()


def test_compare_page_draws_both_maps_offline_and_formats_percentages(tmp_path: Path) -> None:
    """Two drawable plans (the map tests' sample): their maps are drawn again offline, embedded full
    frame; the gap and shares read as percentages; wide tables get grouped headers."""
    import json

    from map_fixtures import sample_plan

    a = sample_plan(tmp_path / "a")
    b = sample_plan(tmp_path / "b")
    summary = json.loads((b / "summary.json").read_text(encoding="utf-8"))
    summary["gap"] = 0.0029
    (b / "summary.json").write_text(json.dumps(summary), encoding="utf-8")
    compare([a, b], tmp_path / "cmp")
    page = (tmp_path / "cmp" / "compare.html").read_text(encoding="utf-8")
    assert "0.29%" in page
    assert "12.9%" in page  # moved_potential_share 0.129
    assert 'src="maps/1_a.html#embed=1"' in page
    assert '<th colspan="6" class="group">a</th>' in page  # balance: plan a's six columns
    for name in ("1_a.html", "2_b.html"):
        drawn = (tmp_path / "cmp" / "maps" / name).read_text(encoding="utf-8")
        assert "tp-offline" in drawn
        assert "cdn.jsdelivr" not in drawn


def test_plans_without_districts_get_no_district_columns_or_section(tmp_path: Path) -> None:
    """territories.csv always has a district column; empty, it is no district (no empty table)."""
    from map_fixtures import sample_plan

    a = sample_plan(tmp_path / "a")
    b = sample_plan(tmp_path / "b")
    for plan in (a, b):
        t = pd.read_csv(plan / "territories.csv")
        t["district"] = ""
        t.to_csv(plan / "territories.csv", index=False)
    result = compare([a, b], tmp_path / "cmp")
    assert "district_a" not in result.moves
    assert not (tmp_path / "cmp" / "district_moves.csv").exists()
    assert "Moves between districts" not in (tmp_path / "cmp" / "compare.html").read_text(encoding="utf-8")


def test_cli_prints_the_objective_readably_and_every_file_written(tmp_path: Path) -> None:
    a = _plan(tmp_path / "a", {"A1": "R1", "A2": "R2", "A3": "R3", "A4": "R3"})
    b = _plan(tmp_path / "b", {"A1": "R1", "A2": "R2", "A3": "R2", "A4": "R1"})
    summary = json.loads((b / "summary.json").read_text(encoding="utf-8"))
    summary["objective"] = 2036981.617545185
    (b / "summary.json").write_text(json.dumps(summary), encoding="utf-8")
    res = CliRunner().invoke(main, ["compare", str(a), str(b), "--out", str(tmp_path / "c")])
    assert res.exit_code == 0, res.output
    assert "b: optimal, 2 reps, objective 2,036,981.6" in res.output
    assert "maps/" in res.output
    assert "compare.html" in res.output


def test_every_map_draws_a_rep_in_the_baselines_colour(tmp_path: Path) -> None:
    """Plan b is plan a with R1 and R2 swapping all their accounts and a new rep R4 listed first (A9):
    b's own colouring gives R4 the first colour, R1's in a; on the page R1, R2, R3 keep a's colours and R4
    gets a colour none of them has."""
    import re

    from map_fixtures import REPS, assignments_frame, sample_plan, territories_frame, write_plan

    from territory_planner.render.payload import plan_colours
    from territory_planner.render.plan_folder import read_plan_folder

    a = sample_plan(tmp_path / "a")
    frame = assignments_frame()
    frame["rep_id"] = frame["rep_id"].map({"R1": "R2", "R2": "R1", "R3": "R3"})
    frame.loc[frame["account_id"] == "A9", "rep_id"] = "R4"
    territories = territories_frame(frame)
    extra = territories.iloc[[0]].assign(rep_id="R4", name="Dana", home_lat=39.8, home_lon=-73.8)
    b = write_plan(tmp_path / "b", frame, pd.concat([extra, territories], ignore_index=True))
    own = plan_colours(read_plan_folder(b))
    compare([a, b], tmp_path / "cmp")

    def colours(name: str) -> dict[str, str]:
        page = (tmp_path / "cmp" / "maps" / name).read_text(encoding="utf-8")
        data = json.loads(re.search(r'id="tp-data">(.*?)</script>', page, re.S).group(1))  # type: ignore[union-attr]
        reps = data["reps"]
        return dict(zip(reps["id"][: reps["n"]], reps["color"][: reps["n"]], strict=True))

    base, other = colours("1_a.html"), colours("2_b.html")
    assert len(REPS) == 3
    assert any(own[rep] != base[rep] for rep in ("R1", "R2", "R3"))  # b alone would be drawn otherwise
    for rep in ("R1", "R2", "R3"):
        assert other[rep] == base[rep]
    assert other["R4"] not in base.values()


def test_compare_page_writes_money_in_the_baselines_currency(tmp_path: Path) -> None:
    """The baseline was made with --currency €: potential reads "€230,000" in the balance table (R1 holds
    A1-A3: 100,000 + 50,000 + 80,000), moved potential "€100,000" in the moves and the gains and losses;
    workload stays plain."""
    from map_fixtures import assignments_frame, summary_dict, territories_frame, write_plan

    a = assignments_frame()
    summary = summary_dict(len(a), 3, int(a["moved"].sum()))
    summary["config"]["currency"] = "€"
    base = write_plan(tmp_path / "a", a, territories_frame(a), summary)
    moved = assignments_frame()
    moved.loc[moved["account_id"] == "A1", "rep_id"] = "R2"  # A1 (100,000, workload 10) goes to R2
    other = write_plan(tmp_path / "b", moved, territories_frame(moved))
    result = compare([base, other], tmp_path / "cmp")
    # b was written in dollars (no currency in its summary): said, never converted (QA25 F5)
    assert result.warnings == (
        "the plans were written in different currencies (a in €, b in $): amounts are compared as numbers "
        "and shown in €, the baseline's, without conversion",
    )
    same = write_plan(tmp_path / "c", moved, territories_frame(moved), summary)
    assert compare([base, same], tmp_path / "cmp2").warnings == ()
    page = (tmp_path / "cmp" / "compare.html").read_text(encoding="utf-8")
    balance = page[page.index('<table id="balance">') :].split("</table>")[0]
    assert "<td>€230,000</td>" in balance
    assert "<td>23.0</td>" in balance  # R1's workload
    moves = page[page.index('<table id="moves">') :].split("</table>")[0]
    assert "<td>€100,000</td>" in moves
    statement = page[page.index('<table id="statement-1">') :].split("</table>")[0]
    assert "€100,000" in statement
    assert "€10" not in statement.replace("€100,000", "")  # workload in/out stays plain


def test_plans_of_different_accounts_are_refused_or_warned_about(tmp_path: Path) -> None:
    a = _plan(tmp_path / "a", {"A1": "R1", "A2": "R2"})
    b = _plan(tmp_path / "b", {"A3": "R1", "A4": "R2"})
    c = _plan(tmp_path / "c", {"A1": "R2", "A2": "R2", "A3": "R1", "A4": "R1", "<b>A5</b>": "R1"})
    d = _plan(tmp_path / "d", {"A1": "R2", "A2": "R1"})
    # no account in common: every account a "move", so it is refused and nothing is written (QA25 F5)
    res = CliRunner().invoke(main, ["compare", str(a), str(b), "--out", str(tmp_path / "ab")])
    assert res.exit_code == 1, res.output
    assert "b has no account in common with a (the baseline)" in " ".join(res.output.split())
    assert not (tmp_path / "ab").exists()
    result = compare([a, c], tmp_path / "ac")  # 2 of 5 accounts in both
    assert result.warnings == (
        "a and c have only 2 of 5 accounts in common: the accounts in one plan only count as moves",
    )
    assert compare([a, d], tmp_path / "ad").warnings == ()  # the same accounts: moves are moves


def _strip_plan(folder: Path, mirrored: bool) -> Path:
    """Six reps with homes along a line of latitude, 60 accounts along it; each account with the rep whose
    home is nearest, or (``mirrored``) with the rep mirrored across the line's middle: the territories'
    neighbours differ between the two plans, the roster and the homes do not."""
    import numpy as np
    from map_fixtures import write_plan

    rng = np.random.default_rng(0)
    lat, lon = 40 + rng.uniform(-1, 1, 60), -100 + rng.uniform(-1, 16, 60)
    homes = [-100.0 + 3 * j for j in range(6)]
    near = [int(np.argmin([abs(x - h) for h in homes])) for x in lon]
    rep = [f"R{5 - j if mirrored else j}" for j in near]
    a = pd.DataFrame(
        {
            "account_id": [f"A{i}" for i in range(60)],
            "rep_id": rep,
            "current_rep": rep,
            "moved": False,
            "distance_km": 1.0,
            "potential": 1000.0,
            "workload": 1.0,
            "reason": "",
            "name": "",
            "lat": lat,
            "lon": lon,
        }
    )
    t = pd.DataFrame(
        [
            {
                "rep_id": f"R{j}",
                "name": f"R{j}",
                "accounts": int((a["rep_id"] == f"R{j}").sum()),
                "potential": 1000.0 * int((a["rep_id"] == f"R{j}").sum()),
                "workload": float((a["rep_id"] == f"R{j}").sum()),
                "potential_target": 10_000.0,
                "workload_target": 10.0,
                "potential_dev_pct": 0.0,
                "workload_dev_pct": 0.0,
                "travel_km": 0.0,
                "moved_in": 0,
                "moved_out": 0,
                "home_lat": 40.0,
                "home_lon": h,
                "home_chosen": False,
            }
            for j, h in enumerate(homes)
        ]
    )
    return write_plan(folder, a, t)


def test_a_rep_has_one_colour_in_every_plans_own_map_and_in_compare(tmp_path: Path) -> None:
    """QA3a: compare.html drew the second plan's reps in the baseline's colours, its own map.html in
    others (the territories swapped colours between the pages). Colours now follow the roster and the
    reps' homes, not the accounts a plan gives them: both plans' own maps and both maps of the comparison
    draw every rep alike."""
    import re

    from territory_planner.render.map import write_map

    a, b = _strip_plan(tmp_path / "a", False), _strip_plan(tmp_path / "b", True)
    write_map(a)
    write_map(b)
    compare([a, b], tmp_path / "cmp")

    def colours(page: Path) -> dict[str, str]:
        text = page.read_text(encoding="utf-8")
        data = json.loads(re.search(r'id="tp-data">(.*?)</script>', text, re.S).group(1))  # type: ignore[union-attr]
        reps = data["reps"]
        return dict(zip(reps["id"][: reps["n"]], reps["color"][: reps["n"]], strict=True))

    own_a, own_b = colours(a / "map.html"), colours(b / "map.html")
    assert len(set(own_a.values())) == 6
    assert own_a == own_b
    assert colours(tmp_path / "cmp" / "maps" / "1_a.html") == own_a
    assert colours(tmp_path / "cmp" / "maps" / "2_b.html") == own_b


def test_moved_accounts_carry_their_names(tmp_path: Path) -> None:
    """QA6: the 56 moved NC counties were listed as FIPS codes only (37001, 37003, ...) in moves.csv and
    compare.html; the plans' assignments.csv name them (Alamance County, ...)."""
    a = _plan(tmp_path / "plan_a", {"A1": "R1", "A2": "R1", "A3": "R2", "A4": "R2"})
    b = _plan(tmp_path / "plan_b", {"A1": "R1", "A2": "R2", "A3": "R3", "A4": "R2"})
    for plan in (a, b):
        frame = pd.read_csv(plan / "assignments.csv")
        frame["name"] = frame["account_id"].map({"A2": "Alamance County", "A3": "<i>Ashe</i>"})
        frame.to_csv(plan / "assignments.csv", index=False)
    compare([a, b], tmp_path / "cmp")
    moves = pd.read_csv(tmp_path / "cmp" / "moves.csv", keep_default_na=False)
    assert moves[["account_id", "name"]].values.tolist() == [["A2", "Alamance County"], ["A3", "<i>Ashe</i>"]]
    page = (tmp_path / "cmp" / "compare.html").read_text(encoding="utf-8")
    listed = page[page.index('<table id="moves">') :].split("</table>")[0]
    assert "Alamance County" in listed
    assert "&lt;i&gt;Ashe&lt;/i&gt;" in listed


def test_a_departed_reps_forced_moves_are_told_apart_in_the_plans_table(tmp_path: Path) -> None:
    """QA6: `compare p1 p3` showed p3 (R07 left, --max-moved-share 0.3) with moved potential share 39.5%;
    28.3% came from reps who stay, the share the budget limits. plans.csv and the page now show both."""
    a = _plan(tmp_path / "plan_a", {"A1": "R1", "A2": "R1", "A3": "R2", "A4": "R2"})
    b = _plan(tmp_path / "plan_b", {"A1": "R1", "A2": "R2", "A3": "R1", "A4": "R2"})
    summary = json.loads((b / "summary.json").read_text())
    summary.update(moved_potential_share=0.395, budgeted_moved_share=0.283)
    (b / "summary.json").write_text(json.dumps(summary))
    for folder in (a, b):  # both plans made from plan a's alignment (a plan without one has blanks there)
        rows = pd.read_csv(folder / "assignments.csv", keep_default_na=False)
        rows["current_rep"] = rows["account_id"].map({"A1": "R1", "A2": "R1", "A3": "R2", "A4": "R2"})
        rows.to_csv(folder / "assignments.csv", index=False)
    compare([a, b], tmp_path / "cmp")
    plans = pd.read_csv(tmp_path / "cmp" / "plans.csv")
    assert plans["budgeted_moved_share"].tolist() == [0.0, 0.283]
    page = (tmp_path / "cmp" / "compare.html").read_text(encoding="utf-8")
    assert "28.3%" in page
    assert "reps no longer in the roster" in page


def _district_plans(tmp_path: Path, n: int) -> list[Path]:
    """The map_fixtures sample plan in euro with R1 in district West, R2 and R3 in East; plan k (k >= 1)
    gives A1 (100,000, workload 10) from R1 to R2 in the first and to R3 in the others."""
    from map_fixtures import assignments_frame, summary_dict, territories_frame, write_plan

    plans = []
    for k in range(n):
        a = assignments_frame()
        if k:
            a.loc[a["account_id"] == "A1", "rep_id"] = "R2" if k == 1 else "R3"
        t = territories_frame(a)
        t["district"] = ["West", "East", "East"]
        summary = summary_dict(len(a), 3, int(a["moved"].sum()))
        summary["config"]["currency"] = "€"
        plans.append(write_plan(tmp_path / f"p{k}", a, t, summary))
    return plans


def test_moves_between_districts_are_in_the_plans_currency(tmp_path: Path) -> None:
    """QA7, Tokyo in yen: every table said "¥1,038,344,000" but "Moves between districts" said
    "1,038,344,000"."""
    compare(_district_plans(tmp_path, 2), tmp_path / "cmp")
    page = (tmp_path / "cmp" / "compare.html").read_text(encoding="utf-8")
    table = page[page.index('<table id="district-moves">') :].split("</table>")[0]
    assert "<td>West</td><td>East</td><td>1</td><td>0</td><td>€100,000</td><td>10.0</td>" in table


def test_three_plans_print_every_column_on_a_landscape_page(tmp_path: Path) -> None:
    """QA7: printed (or saved as PDF), compare.html cut every wide table at the page edge with a
    scrollbar drawn under it: "Balance side by side" of three plans lost the third plan, the plans table
    its last columns. In print the page is landscape, the tables small and not scrolled."""
    import os

    import pytest
    from map_fixtures import CHROMIUM

    sync_api = pytest.importorskip("playwright.sync_api")
    if not os.access(CHROMIUM, os.X_OK):
        pytest.skip(f"{CHROMIUM} is not installed")
    compare(_district_plans(tmp_path, 3), tmp_path / "cmp")
    page_html = (tmp_path / "cmp" / "compare.html").read_text(encoding="utf-8")
    assert "size: A4 landscape" in page_html
    url = (tmp_path / "cmp" / "compare.html").resolve().as_uri()
    measure = (
        "Array.from(document.querySelectorAll('table'))"
        ".map(t => [t.id, t.getBoundingClientRect().right, document.documentElement.clientWidth])"
    )
    with sync_api.sync_playwright() as p:
        b = p.chromium.launch(executable_path=CHROMIUM, args=["--no-sandbox"])
        page = b.new_page(viewport={"width": 1047, "height": 740})  # A4 landscape less 10-mm margins
        page.goto(url)
        page.emulate_media(media="print")
        printed = page.evaluate(measure)
        b.close()
    assert {t for t, _, _ in printed} >= {"plans", "balance", "moves", "district-moves"}
    for table_id, right, width in printed:
        assert right <= width + 1, table_id


def test_the_rep_statement_never_shows_a_negative_zero() -> None:
    """QA15 L4: compare.html's rep statement read "PL02 ... 36 36 -0": workload's in, out and net (35.5,
    36.0, -0.5) were shown without decimals, and a net that rounds to zero kept its minus. Workload has
    one decimal as in the balance table, and nothing that reads as zero is signed."""
    import re

    from territory_planner.compare_html import (
        _pct,
        _share,
        _statement_formats,
        _statement_frame,
        table_html,
        unsigned_zero,
    )

    statement = pd.DataFrame(
        {
            "plan_a": ["a", "a"],
            "plan_b": ["b", "b"],
            "rep_id": ["PL02", "PL12"],
            "roster": ["kept", "kept"],
            "accounts_a": [33, 31],
            "accounts_b": [34, 30],
            "accounts_in": [2, 4],
            "accounts_out": [1, 5],
            "potential_in": [50300.0, 1000.0],
            "potential_out": [50300.4, 1000.0],
            "potential_net": [-0.4, 0.0],
            "workload_in": [35.5, 79.1],
            "workload_out": [36.0, 79.12],
            "workload_net": [-0.5, -0.02],
        }
    )
    frame = _statement_frame(statement)
    page = table_html(frame, "statement-1", formats=_statement_formats(frame))
    rows = [re.findall(r"<td>([^<]*)</td>", r) for r in re.findall(r"<tr>(<td>.*?)</tr>", page)]
    assert [r[-3:] for r in rows] == [["35.5", "36.0", "-0.5"], ["79.1", "79.1", "0.0"]]
    assert not [c for r in rows for c in r if c.startswith("-") and not re.search(r"[1-9]", c)]
    assert unsigned_zero("-0") == "0"
    assert unsigned_zero("-1,000") == "-1,000"
    assert _pct(-0.001) == "+0.00%"
    assert _pct(-0.01) == "-0.01%"
    assert _share(1)(-0.0001) == "0.0%"


def test_a_guarded_name_shows_as_the_name(tmp_path: Path) -> None:
    """QA17 F11: a name a plan folder's CSV holds with the spreadsheet guard ('=HYPERLINK...) showed with
    the apostrophe in compare.html; moves.csv keeps the guard (it is a CSV a spreadsheet opens)."""
    a = _plan(tmp_path / "plan_a", {"A1": "R1", "A2": "R1", "A3": "R2", "A4": "R2"})
    b = _plan(tmp_path / "plan_b", {"A1": "R2", "A2": "R1", "A3": "R2", "A4": "R2"})
    for folder in (a, b):
        t = pd.read_csv(folder / "assignments.csv", dtype=str, keep_default_na=False)
        t["name"] = ["'=HYPERLINK(1)", "x", "y", "z"]
        t.to_csv(folder / "assignments.csv", index=False)
    compare([a, b], tmp_path / "cmp")
    page = (tmp_path / "cmp" / "compare.html").read_text(encoding="utf-8")
    assert "=HYPERLINK(1)" in page
    assert "&#x27;=HYPERLINK" not in page
    assert "'=HYPERLINK" not in page
    assert "'=HYPERLINK(1)" in (tmp_path / "cmp" / "moves.csv").read_text(encoding="utf-8")


def _with_crm(folder: Path, crm: Path) -> Path:
    summary = json.loads((folder / "summary.json").read_text())
    summary["config"]["crm"] = str(crm)
    (folder / "summary.json").write_text(json.dumps(summary))
    return folder


def test_identical_plans_compare_as_no_moves(tmp_path: Path) -> None:
    """QA27 F6: two plans with the same assignments (a rerun proven optimal, a sweep point whose looser
    budget changes nothing) ended in a traceback: the empty moves' pipeline column was text."""
    crm = tmp_path / "crm"
    crm.mkdir()
    (crm / "opportunities.csv").write_text(
        "opportunity_id,account_id,rep_id,amount,status,probability,created_date,close_date\n"
        "O1,A2,R1,1000,open,0.5,2026-01-02,2026-09-30\n",
        encoding="utf-8",
    )
    reps = {"A1": "R1", "A2": "R1", "A3": "R2", "A4": "R2"}
    a = _with_crm(_plan(tmp_path / "a", reps), crm)
    b = _with_crm(_plan(tmp_path / "b", reps), crm)
    res = CliRunner().invoke(main, ["compare", str(a), str(b), "--out", str(tmp_path / "ab")])
    assert res.exit_code == 0, res.output
    assert "0 account moves" in res.output
    statement = pd.read_csv(tmp_path / "ab" / "rep_statement.csv")
    assert len(statement) == 2
    net = statement[[c for c in statement.columns if c.endswith(("_in", "_out", "_net"))]]
    assert (net.to_numpy() == 0).all()


def test_the_pipeline_is_read_by_the_crms_rules_and_never_silently_zero(tmp_path: Path) -> None:
    """QA27 F4: compare read opportunities.csv with a bare CSV reader, so an amount written "9,521.53"
    (the CRM reader's thousands group, as report reads it) was no amount and every rep's pipeline 0."""
    crm = tmp_path / "crm"
    crm.mkdir()
    header = "Opportunity ID,Account ID,Rep ID,Amount,Status,Probability,Created Date,Close Date\n"
    (crm / "opportunities.csv").write_text(
        header + 'O1,A2,R1,"9,521.53",Open,0.5,2026-01-02,2026-09-30\n'
        'O2,A3,R2,"1,000.00",Won,1,2026-01-02,2026-03-30\n',
        encoding="utf-8",
    )
    a = _with_crm(_plan(tmp_path / "a", {"A1": "R1", "A2": "R1", "A3": "R2", "A4": "R2"}), crm)
    b = _with_crm(_plan(tmp_path / "b", {"A1": "R1", "A2": "R2", "A3": "R2", "A4": "R2"}), crm)
    result = compare([a, b], tmp_path / "ab")
    assert result.moves["pipeline"].tolist() == [pytest.approx(9521.53 * 0.5)]
    st = result.statement.set_index("rep_id")
    assert st.loc["R1", "pipeline_out"] == pytest.approx(4760.765)
    assert st.loc["R2", "pipeline_in"] == pytest.approx(4760.765)
    # an opportunities table that cannot be read: no pipeline columns, and a warning that says why
    (crm / "opportunities.csv").write_text(
        header + "O1,A2,R1,lots,open,0.5,2026-01-02,2026-09-30\n", encoding="utf-8"
    )
    result = compare([a, b], tmp_path / "ab2")
    assert "pipeline" not in result.moves.columns
    assert "pipeline_in" not in result.statement.columns
    assert len(result.warnings) == 1
    assert "no pipeline columns" in result.warnings[0]
    assert "amount" in result.warnings[0]
    assert f"at {crm.resolve() / 'opportunities.csv'}, row 1" in result.warnings[0]  # the folder's table


def test_reestimated_amounts_reconcile_each_reps_net_with_its_balance(tmp_path: Path) -> None:
    """QA27 F12: last year's plan against this year's, on refreshed potentials: an account re-estimated
    from 200 to 900 appeared nowhere, so its rep's net did not match the change of its total; and one
    account dropped from the data was a silent move to nobody."""
    a = _plan(tmp_path / "a", {"A1": "R1", "A2": "R1", "A3": "R2", "A4": "R2", "<b>A5</b>": "R1"})
    b = _plan(tmp_path / "b", {"A1": "R1", "A2": "R2", "A3": "R2", "A4": "R1"})
    assignments = pd.read_csv(b / "assignments.csv")
    assignments.loc[assignments["account_id"] == "A2", "potential"] = 900.0  # re-estimated, and moved to R2
    assignments.to_csv(b / "assignments.csv", index=False)
    result = compare([a, b], tmp_path / "ab")
    st = result.statement.set_index("rep_id")
    assert st.loc["R2", "potential_reestimated"] == pytest.approx(700.0)
    assert st.loc["R1", "potential_reestimated"] == pytest.approx(0.0)
    totals = {
        label: pd.read_csv(p / "assignments.csv").groupby("rep_id")["potential"].sum()
        for label, p in (("a", a), ("b", b))
    }
    for rep in ("R1", "R2"):
        assert st.loc[rep, "potential_net"] == pytest.approx(totals["b"][rep] - totals["a"][rep])
    said = " ".join(result.warnings)
    assert "1 account(s) have another potential or workload in b than in a (A2)" in said
    assert "1 account(s) are in one of a and b only (<b>A5</b>)" in said
    page = (tmp_path / "ab" / "compare.html").read_text(encoding="utf-8")
    assert "<th>reestimated</th>" in page


def test_a_measure_a_plan_does_not_balance_shows_its_deviation_and_says_so(tmp_path: Path) -> None:
    """QA27 F25: a potential-only plan's max workload deviation was blank, though every rep's is known."""
    a = _plan(tmp_path / "a", {"A1": "R1", "A2": "R1", "A3": "R2", "A4": "R2"})
    b = _plan(tmp_path / "b", {"A1": "R1", "A2": "R2", "A3": "R2", "A4": "R2"})
    result = compare([a, b], tmp_path / "ab")
    row = result.overview.set_index("plan").loc["b"]
    t = pd.read_csv(b / "territories.csv")
    assert row["max_workload_dev_pct"] == pytest.approx(t["workload_dev_pct"].abs().max(), abs=1e-4)
    assert row["max_potential_dev_pct"] == 1.0  # the summary's, for the measure it balances
    assert row["not_balanced"] == "workload"


def test_balance_cells_outside_a_plans_band_are_shaded(tmp_path: Path) -> None:
    """QA27 F16: a manual plan's +24.96% beside its band of 8% looked like every other cell of compare's
    balance table (report.html and map.html shade such cells)."""
    a = _plan(tmp_path / "a", {"A1": "R1", "A2": "R1", "A3": "R2", "A4": "R2"})
    b = _plan(tmp_path / "b", {"A1": "R1", "A2": "R2", "A3": "R2", "A4": "R2"})
    for folder in (a, b):
        summary = json.loads((folder / "summary.json").read_text())
        summary["tolerance"] = {"potential": 0.5}
        summary["config"]["balance"] = ["potential"]
        (folder / "summary.json").write_text(json.dumps(summary))
    compare([a, b], tmp_path / "ab")
    page = (tmp_path / "ab" / "compare.html").read_text(encoding="utf-8")
    balance = page[page.index('<table id="balance">') :]
    balance = balance[: balance.index("</table>")]
    t = pd.read_csv(b / "territories.csv").set_index("rep_id")["potential_dev_pct"]
    # plan b's R1 holds A1 alone: -80% of the mean, outside +-50%; plan a's reps are within it
    assert abs(t["R1"]) > 50
    assert balance.count('class="off"') == sum(abs(v) > 50 for v in t)
    assert "position: sticky" in page


def test_one_crm_folder_written_as_two_paths_is_no_difference(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """QA70 F2: a plan made with `--crm data/crm` and its own `edit --rebalance` (which records absolute
    paths) were listed as made with different CRMs: every input but the accounts and reps was compared by
    the path as typed. The manifest's contents hash decides; a folder whose contents changed still differs."""
    from territory_planner.manifest import path_sha256

    monkeypatch.chdir(tmp_path)
    crm = tmp_path / "data" / "crm"
    crm.mkdir(parents=True)
    (crm / "opportunities.csv").write_text("opportunity_id,account_id\nO1,A1\n", encoding="utf-8")
    reps = {"A1": "R1", "A2": "R1", "A3": "R2", "A4": "R2"}

    def made_with(folder: Path, path: str) -> Path:
        _with_crm(_plan(folder, reps), Path(path))
        manifest = {"inputs": {"crm": {"path": str(Path(path).resolve()), "sha256": path_sha256(Path(path))}}}
        (folder / "manifest.json").write_text(json.dumps(manifest), encoding="utf-8")
        return folder

    a = made_with(tmp_path / "a", "data/crm")
    b = made_with(tmp_path / "b", str(crm))
    result = compare([a, b], tmp_path / "ab")
    assert "crm" not in result.differing_options()
    assert result.options_line() == "all options are equal"
    (crm / "opportunities.csv").write_text("opportunity_id,account_id\nO1,A2\n", encoding="utf-8")
    c = made_with(tmp_path / "c", "data/crm")
    assert "crm" in compare([a, c], tmp_path / "ac").differing_options()
    # a plan without manifest.json (an older plan, a copy): compared by the path as written, as before
    # (QA71 F3: its hash against the other's path, "--crm" listed as differing for the same folder)
    bare = _with_crm(_plan(tmp_path / "bare", reps), Path("data/crm"))
    assert "crm" not in compare([a, bare], tmp_path / "abare").differing_options()
    assert (
        "crm"
        in compare(
            [a, _with_crm(_plan(tmp_path / "o", reps), Path("other"))], tmp_path / "ao"
        ).differing_options()
    )


def test_files_beside_the_crm_tables_are_not_the_crms_contents(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """An Excel lock file, a .DS_Store, notes or a subfolder beside the tables made the CRM folder's hash
    differ, so `compare` listed `--crm` as differing between two plans of the same CRM (and a sweep solved
    its points again). The hash covers the tables the reader reads: a change to one of them still differs,
    and so does a table that appears (a workbook beside no CSV)."""
    from territory_planner.manifest import path_sha256

    monkeypatch.chdir(tmp_path)
    crm = tmp_path / "crm"
    crm.mkdir()
    (crm / "opportunities.csv").write_text("opportunity_id,account_id\nO1,A1\n", encoding="utf-8")
    reps = {"A1": "R1", "A2": "R1", "A3": "R2", "A4": "R2"}

    def made(folder: Path) -> Path:
        _with_crm(_plan(folder, reps), crm)
        manifest = {"inputs": {"crm": {"path": str(crm.resolve()), "sha256": path_sha256(crm)}}}
        (folder / "manifest.json").write_text(json.dumps(manifest), encoding="utf-8")
        return folder

    before = path_sha256(crm)
    a = made(tmp_path / "a")
    (crm / "~$quotas.xlsx").write_bytes(b"lock")
    (crm / ".DS_Store").write_bytes(b"\x00\x01")
    (crm / "notes.txt").write_text("Q3 numbers are preliminary", encoding="utf-8")
    (crm / "old").mkdir()
    (crm / "old" / "opportunities.csv").write_text("opportunity_id,account_id\nO9,A9\n", encoding="utf-8")
    assert path_sha256(crm) == before
    b = made(tmp_path / "b")
    assert "crm" not in compare([a, b], tmp_path / "ab").differing_options()
    (crm / "quotas.xlsx").write_bytes(b"a workbook")
    assert path_sha256(crm) != before
    (crm / "quotas.xlsx").unlink()
    (crm / "opportunities.csv").write_text("opportunity_id,account_id\nO1,A2\n", encoding="utf-8")
    assert path_sha256(crm) != before
    assert "crm" in compare([a, made(tmp_path / "c")], tmp_path / "ac").differing_options()


def test_a_crm_folder_hashed_the_earlier_way_still_matches_while_it_is_unchanged(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """QA73 F3: plans, sweep points and reports made before the folder hash covered only the CRM tables
    recorded a hash of every file in the folder; with stray files beside the tables that hash no longer
    equals the folder's, so an unchanged CRM was "changed since the plan was made", a sweep solved its
    points again and compare listed --crm. Such a hash still matches while the folder is unchanged."""
    from territory_planner.manifest import _all_files_sha256, changed_inputs, path_sha256

    monkeypatch.chdir(tmp_path)
    crm = tmp_path / "crm"
    crm.mkdir()
    (crm / "opportunities.csv").write_text("opportunity_id,account_id\nO1,A1\n", encoding="utf-8")
    (crm / ".DS_Store").write_bytes(b"\x00\x01")
    (crm / "~$quotas.xlsx").write_bytes(b"lock")
    earlier = _all_files_sha256(crm)
    assert earlier != path_sha256(crm)
    reps = {"A1": "R1", "A2": "R1", "A3": "R2", "A4": "R2"}

    def made(folder: Path, sha: str | None) -> Path:
        _with_crm(_plan(folder, reps), crm)
        manifest = {"inputs": {"crm": {"path": str(crm.resolve()), "sha256": sha}}}
        (folder / "manifest.json").write_text(json.dumps(manifest), encoding="utf-8")
        return folder

    old, new = made(tmp_path / "old", earlier), made(tmp_path / "new", path_sha256(crm))
    recorded = {"crm": {"path": str(crm.resolve()), "sha256": earlier}}
    assert changed_inputs(recorded) == []
    assert "crm" not in compare([old, new], tmp_path / "on").differing_options()
    (crm / "opportunities.csv").write_text("opportunity_id,account_id\nO1,A2\n", encoding="utf-8")
    assert changed_inputs(recorded) == [("crm", str(crm.resolve()), True)]
    later = made(tmp_path / "later", path_sha256(crm))
    assert "crm" in compare([old, later], tmp_path / "ol").differing_options()
