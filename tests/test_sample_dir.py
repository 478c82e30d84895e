"""`demo` finds its sample data after a plain `pip install .` as after an editable one (QA29 F1)."""

from __future__ import annotations

import tomllib
from pathlib import Path

import pytest

from territory_planner import cli

ROOT = Path(__file__).resolve().parent.parent


def _tree(root: Path, where: str) -> Path:
    """A package folder ``root/pkg/territory_planner`` with base.toml at ``where`` (relative to root)."""
    pkg = root / "pkg" / "territory_planner"
    pkg.mkdir(parents=True)
    (pkg / "cli.py").write_text("")
    scenario = root / where / "scenarios" / "base.toml"
    scenario.parent.mkdir(parents=True)
    scenario.write_text("")
    return pkg


def test_the_checkout_comes_first_then_the_copy_in_the_package(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    pkg = _tree(tmp_path / "editable", "pkg/sample_data")  # the checkout beside the package
    monkeypatch.setattr(cli, "__file__", str(pkg / "cli.py"))
    assert cli.sample_dir() == (pkg.parent / "sample_data").resolve()
    pkg = _tree(tmp_path / "wheel", "pkg/territory_planner/sample_data")  # inside the installed package
    monkeypatch.setattr(cli, "__file__", str(pkg / "cli.py"))
    assert cli.sample_dir() == (pkg / "sample_data").resolve()


def test_the_wheel_ships_every_sample_file() -> None:
    """pyproject's package data covers every file the demo and the README's examples read."""
    config = tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["setuptools"]
    assert config["package-dir"]["territory_planner.sample_data"] == "sample_data"
    assert "territory_planner.sample_data" in config["packages"]
    data = ROOT / "sample_data"
    shipped: set[Path] = set()
    for package, patterns in config["package-data"].items():  # sample_data and its folders, each a package
        if not f"{package}.".startswith("territory_planner.sample_data."):
            continue
        assert package in config["packages"]
        folder = data.joinpath(*package.split(".")[2:])
        shipped |= {p for pattern in patterns for p in folder.glob(pattern)}
    wanted = {p for p in data.rglob("*") if p.is_file() and p.suffix in (".csv", ".toml")}
    assert wanted
    assert wanted <= shipped
