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
    bundled = pulp.PULP_CBC_CMD(msg=False)
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
    x = pulp.LpVariable("x", 0, 3, cat="Integer")
    prob += -x
    prob += x <= 2.5
    out = backend.solve(
        prob, [x], list(prob.constraints.values()), mip=True, time_limit=10, gap=0.0, seed=0, threads=1
    )
    assert out.has_solution
    assert out.values[0] == pytest.approx(2.0)


def test_no_binary_anywhere_means_not_available(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(shutil, "which", lambda _name: None)
    monkeypatch.setattr(pulp.PULP_CBC_CMD, "available", lambda _self: False)
    monkeypatch.setattr(pulp.COIN_CMD, "available", lambda _self: False)
    assert cbc._cbc_path() is None
    assert not cbc.CbcBackend().available()
