"""QA86 F2: with LC_ALL=C and Python's two fixes for it turned off (PYTHONCOERCECLOCALE=0, PYTHONUTF8=0),
Python read the command line as ASCII, and `plan --out "plän été"` ended in a traceback after the whole
solve (map.html could not hold the name), `plan --currency €` in another (the problem table's file), and
`compare` with such a folder in a third. The console script now runs itself again in UTF-8 mode."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

from territory_planner import utf8_mode
from tests.conftest import write_instance

ASCII_ONLY = {"LC_ALL": "C", "LANG": "C", "PYTHONCOERCECLOCALE": "0", "PYTHONUTF8": "0"}
CHECKOUT = Path(__file__).resolve().parents[1]  # this checkout's package, from any folder


def _console(*args: str | Path, cwd: Path) -> subprocess.CompletedProcess[bytes]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("LC_", "PYTHONUTF8", "PYTHONIOENCODING"))}
    return subprocess.run(
        [sys.executable, "-m", "territory_planner", *map(str, args)],
        cwd=cwd,
        env={**env, **ASCII_ONLY, "PYTHONPATH": str(CHECKOUT)},
        capture_output=True,
        check=False,
        timeout=300,
    )


def _instance(tmp_path: Path) -> tuple[Path, Path]:
    accounts = [
        {"account_id": f"A{i}", "lat": 35.0 + 0.1 * (i % 2), "lon": -90.0 + 0.1 * (i // 2), "potential": 1.0,
         "workload": 1.0}
        for i in range(4)
    ]  # fmt: skip
    reps = [{"rep_id": "R1", "lat": 35.0, "lon": -90.0}, {"rep_id": "R2", "lat": 35.1, "lon": -89.9}]
    return write_instance(tmp_path, accounts, reps)


def test_plan_and_compare_take_names_and_signs_outside_ascii_in_an_ascii_locale(tmp_path: Path) -> None:
    a, r = _instance(tmp_path)
    base = ["plan", "--accounts", a, "--reps", r, "--tolerance", "0.5", "--quiet"]
    res = _console(*base, "--out", "plän été", "--currency", "€", cwd=tmp_path)
    assert res.returncode == 0, res.stderr.decode("utf-8", "replace")
    assert b"Traceback" not in res.stderr
    folder = tmp_path / "plän été"  # the name as typed, in the file system's bytes
    assert (folder / "map.html").is_file()
    summary = json.loads((folder / "summary.json").read_text(encoding="utf-8"))
    assert summary["config"]["currency"] == "€"
    assert "€" in (folder / "report.html").read_text(encoding="utf-8")
    res = _console(*base, "--out", "base", cwd=tmp_path)
    assert res.returncode == 0, res.stderr.decode("utf-8", "replace")
    res = _console("compare", "base", "plän été", "--out", "vergleich ü", cwd=tmp_path)
    assert res.returncode == 0, res.stderr.decode("utf-8", "replace")
    assert (tmp_path / "vergleich ü" / "compare.html").is_file()


def _as_ascii_python_reads(raw: bytes) -> str:
    return raw.decode("ascii", "surrogateescape")


def test_only_a_command_line_read_as_ascii_where_it_is_utf8_is_run_again() -> None:
    plan = _as_ascii_python_reads("pl\u00e4n".encode())
    assert utf8_mode.needs_utf8_mode(["plan", "--out", plan], False, "ascii")
    assert utf8_mode.needs_utf8_mode(["plan", "--out", plan], False, "ANSI_X3.4-1968")  # glibc's name
    assert not utf8_mode.needs_utf8_mode(["plan", "--out", "plans/2027"], False, "ascii")  # all ASCII
    assert not utf8_mode.needs_utf8_mode(["plan", "--out", plan], True, "utf-8")  # UTF-8 mode: never again
    # bytes that are not UTF-8 either (a Latin-1 name): running again would read them no better
    assert not utf8_mode.needs_utf8_mode(
        ["plan", "--out", _as_ascii_python_reads(b"caf\xe9")], False, "ascii"
    )
