"""The CBC back-end finds a binary on a fresh machine: ``cbc`` on the PATH first, else the one PuLP's wheel
ships (the README's test command skipped the CBC tests on a machine without Debian's coinor-cbc)."""

from __future__ import annotations

import os
import shutil

import pulp
import pytest

from solvers import cbc


def test_cbc_on_the_path_comes_first(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(shutil, "which", lambda name: "/opt/cbc/bin/cbc" if name == "cbc" else None)
    assert cbc._cbc_path() == "/opt/cbc/bin/cbc"


def test_without_cbc_on_the_path_pulps_own_binary_is_used(monkeypatch: pytest.MonkeyPatch) -> None:
    make = getattr(pulp, "PULP_CBC_CMD", None)  # deprecated in PuLP 3.3, gone in 4.0
    if make is None:
        pytest.skip("this PuLP has no PULP_CBC_CMD (4.x: COIN_CMD with pulp[cbc])")
    with pytest.warns(DeprecationWarning, match="PULP_CBC_CMD"):
        bundled = make(msg=False)
    if not bundled.available():
        pytest.skip("this PuLP build ships no CBC binary")
    real = shutil.which
    # no "cbc" on the PATH; PuLP's own check of its binary (a full path) still answers
    monkeypatch.setattr(shutil, "which", lambda name, *a, **k: None if name == "cbc" else real(name, *a, **k))
    path = cbc._cbc_path()
    assert path is not None
    assert os.path.samefile(path, bundled.path)
    backend = cbc.CbcBackend()
    assert backend.available()
    assert backend.version().startswith("CBC ")
    prob = pulp.LpProblem("tiny", pulp.LpMinimize)
    x = prob.add_variable("x", 0, 3, cat="Integer")
    prob += -x
    row = x <= 2.5
    prob += row
    out = backend.solve(prob, [x], [row], mip=True, time_limit=10, gap=0.0, seed=0, threads=1)
    assert out.has_solution
    assert out.values[0] == pytest.approx(2.0)


def test_no_binary_anywhere_means_not_available(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(shutil, "which", lambda _name: None)
    for name in ("PULP_CBC_CMD", "COIN_CMD"):  # PULP_CBC_CMD: PuLP 3.x only
        if hasattr(pulp, name):
            monkeypatch.setattr(getattr(pulp, name), "available", lambda _self: False)
    assert cbc._cbc_path() is None
    assert not cbc.CbcBackend().available()
