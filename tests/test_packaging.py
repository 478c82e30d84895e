"""The solver back-ends ship as ``territory_planner.solvers`` (no top-level ``solvers`` that would clash
with the unrelated PyPI project) and an installed, non-editable wheel imports them."""

from __future__ import annotations

import os
import subprocess
import sys
import zipfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def test_wheel_ships_solvers_inside_the_package(tmp_path: Path) -> None:
    done = subprocess.run(
        [
            sys.executable,
            "-m",
            "pip",
            "wheel",
            "--no-deps",
            "--no-build-isolation",
            "-q",
            "-w",
            str(tmp_path),
            str(ROOT),
        ],
        capture_output=True,
        text=True,
    )
    assert done.returncode == 0, done.stderr
    (wheel,) = tmp_path.glob("territory_planner-*.whl")
    names = zipfile.ZipFile(wheel).namelist()
    assert "territory_planner/solvers/registry.py" in names
    assert not any(n.startswith("solvers/") for n in names)
    assert "territory_planner/render/assets/tp_map.js" in names
    for layer in ("us_boundaries", "world_boundaries"):  # the offline maps' boundary layers and licences
        assert f"territory_planner/render/assets/{layer}.json" in names
        assert f"territory_planner/render/assets/{layer}.LICENSE" in names
    target = tmp_path / "site"
    zipfile.ZipFile(wheel).extractall(target)
    code = (
        "import territory_planner.solvers as s, territory_planner.cli as c; "
        "print(s.__file__); print(sorted(s.available_backends()))"
    )
    env = {**os.environ, "PYTHONPATH": str(target)}
    run = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env, cwd=tmp_path)
    assert run.returncode == 0, run.stderr
    assert run.stdout.splitlines()[0].startswith(str(target))
    assert "highs" in run.stdout
