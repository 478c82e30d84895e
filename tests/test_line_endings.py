"""How real exports are laid out, read as written.

QA22 M23: a CSV whose lines end in CR alone (Excel for Mac's "CSV (Macintosh)") or in a mix of CRLF, LF
and CR (files pasted together) ended in a traceback from the csv module in every reader (accounts, reps,
CRM tables, edits). They are read as Python's text mode and Excel read them: every kind of line end."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest

from territory_planner.errors import InputError
from territory_planner.io.load import load_inputs
from territory_planner.report.crm import load_crm
from tests.conftest import line_instance, write_instance

SAMPLE_CRM = Path(__file__).resolve().parents[1] / "sample_data" / "crm"


def _crm_copy(tmp_path: Path) -> tuple[Path, Path]:
    """The sample CRM history and a copy of it to alter."""
    copy = tmp_path / "crm"
    copy.mkdir()
    for f in SAMPLE_CRM.glob("*.csv"):
        (copy / f.name).write_bytes(f.read_bytes())
    return SAMPLE_CRM, copy


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
    crm, copy = _crm_copy(tmp_path)
    quotas = copy / "quotas.csv"
    quotas.write_bytes(quotas.read_bytes().replace(b"\r\n", b"\n").replace(b"\n", b"\r"))
    assert b"\n" not in quotas.read_bytes()
    base, mac = load_crm(crm), load_crm(copy)
    q_base, q_mac = base.get("quotas"), mac.get("quotas")
    assert q_base is not None
    assert q_mac is not None
    assert len(q_mac) == len(q_base) > 0
    assert q_mac.equals(q_base)


def test_excels_sep_line_names_the_separator(tmp_path: Path) -> None:
    """QA22 M12: a first line ``sep=;`` (Excel honours it; some CRMs write it for Excel where the list
    separator is not a comma) was taken for the header: 22 problems about unnamed columns."""
    a, r = write_instance(tmp_path, *line_instance())
    base = load_inputs(a, r).accounts
    lines = a.read_text(encoding="utf-8").splitlines()
    semi = [line.replace(",", ";") for line in lines]
    semi = [semi[0]] + [line.replace(".", ",") for line in semi[1:]]  # decimal commas, as such a file has
    a.write_text("\r\n".join(["sep=;", *semi]) + "\r\n", encoding="utf-8")
    read = load_inputs(a, r).accounts
    assert read[["account_id", "lat", "lon", "potential"]].equals(
        base[["account_id", "lat", "lon", "potential"]]
    )


def test_a_crms_own_status_and_probability_spellings_get_the_one_meant(tmp_path: Path) -> None:
    """QA22 M13: Salesforce's Closed Won / Closed Lost and its 0-100 Probability (%) were refused with
    the rule alone."""
    copy = _crm_copy(tmp_path)[1]
    opps = copy / "opportunities.csv"
    frame = pd.read_csv(opps, dtype=str, keep_default_na=False)
    frame["status"] = frame["status"].replace({"won": "Closed Won", "lost": "Closed Lost"})
    frame["probability"] = (pd.to_numeric(frame["probability"]) * 100).round().astype(int).astype(str)
    frame.to_csv(opps, index=False)
    with pytest.raises(InputError) as exc:
        load_crm(copy)
    messages = {p.message for p in exc.value.problems}
    assert "status must be open, won or lost (write won)" in messages
    assert "status must be open, won or lost (write lost)" in messages
    assert "probability must be between 0 and 1 (a percentage? divide by 100)" in messages
    assert "probability must be between 0 and 1" not in messages
