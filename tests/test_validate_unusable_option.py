"""`validate` says that an option cannot apply to the data in the same run as an infeasibility proof
(QA13 7: `validate --contiguous` on point accounts showed only the balance proof, and "contiguity needs
polygons" once the bands were loosened). Six point accounts on the equator, two reps (conftest's line)."""

from __future__ import annotations

from pathlib import Path

from click.testing import CliRunner

from territory_planner.cli import main
from tests.conftest import line_instance, write_instance

NEEDS_POLYGONS = "needs polygons"
PROOF = "Infeasible: no plan can satisfy the model"


def validate(tmp_path: Path, big: bool, *flags: str) -> tuple[int, str]:
    accounts, reps = line_instance()
    if big:  # A1 alone holds more than half the potential: no band of +-5% around half can take it
        accounts[0]["potential"] = 1_000.0
    if "--district-contiguous" in flags:
        for rep in reps:
            rep["district"] = "D1"
    a, r = write_instance(tmp_path, accounts, reps)
    res = CliRunner().invoke(main, ["validate", "--accounts", str(a), "--reps", str(r), *flags])
    return res.exit_code, " ".join(res.output.split())


def test_contiguity_on_points_is_said_with_the_proof(tmp_path: Path) -> None:
    code, text = validate(tmp_path, True, "--contiguous")
    assert code == 1
    assert "--contiguous needs polygons" in text
    assert PROOF in text
    assert "account A1 alone has" in text
    assert text.index(NEEDS_POLYGONS) < text.index(PROOF)


def test_district_contiguity_on_points_is_said_with_the_proof(tmp_path: Path) -> None:
    code, text = validate(tmp_path, True, "--district-contiguous")
    assert code == 1
    assert "--district-contiguous needs polygons" in text  # the option given (QA20 F4: "contiguous")
    assert PROOF in text


def test_without_a_proof_only_the_option_is_said(tmp_path: Path) -> None:
    code, text = validate(tmp_path, False, "--contiguous")
    assert code == 1
    assert NEEDS_POLYGONS in text
    assert "Infeasible" not in text


def test_without_the_option_only_the_proof(tmp_path: Path) -> None:
    code, text = validate(tmp_path, True)
    assert code == 1
    assert PROOF in text
    assert NEEDS_POLYGONS not in text
