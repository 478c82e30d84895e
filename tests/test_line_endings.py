"""QA22 M23: a CSV whose lines end in CR alone (Excel for Mac's "CSV (Macintosh)") or in a mix of CRLF, LF
and CR (files pasted together) ended in a traceback from the csv module in every reader (accounts, reps,
CRM tables, edits). They are read as Python's text mode and Excel read them: every kind of line end."""

from __future__ import annotations

from pathlib import Path

import pytest

from territory_planner.io.load import load_inputs
from territory_planner.report.crm import load_crm
from tests.conftest import line_instance, write_instance


@pytest.mark.parametrize("ends", [["\r"], ["\r\n", "\n", "\r"], ["\n", "\r"]])
def test_accounts_and_reps_read_alike_whatever_ends_their_lines(tmp_path: Path, ends: list[str]) -> None:
    a, r = write_instance(tmp_path, *line_instance())
    base = load_inputs(a, r)
    for path in (a, r):
        lines = path.read_text(encoding="utf-8").splitlines()
        text = "".join(line + ends[i % len(ends)] for i, line in enumerate(lines))
        path.write_bytes(text.encode("utf-8"))
    mixed = load_inputs(a, r)
    assert mixed.accounts.equals(base.accounts)
    assert mixed.reps["rep_id"].tolist() == base.reps["rep_id"].tolist()


def test_a_crm_table_with_mac_line_ends_is_read(tmp_path: Path) -> None:
    crm = Path(__file__).resolve().parents[1] / "sample_data" / "crm"
    copy = tmp_path / "crm"
    copy.mkdir()
    for f in crm.glob("*.csv"):
        (copy / f.name).write_bytes(f.read_bytes())
    quotas = copy / "quotas.csv"
    quotas.write_bytes(quotas.read_bytes().replace(b"\r\n", b"\n").replace(b"\n", b"\r"))
    assert b"\n" not in quotas.read_bytes()
    base, mac = load_crm(crm), load_crm(copy)
    q_base, q_mac = base.get("quotas"), mac.get("quotas")
    assert q_base is not None
    assert q_mac is not None
    assert len(q_mac) == len(q_base) > 0
    assert q_mac.equals(q_base)
