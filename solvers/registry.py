"""Names -> back-ends, with install hints for missing ones."""

from __future__ import annotations

from territory_planner.errors import SolverError
from territory_planner.solvers.base import Backend
from territory_planner.solvers.cbc import CbcBackend
from territory_planner.solvers.highs import HighsBackend

_BACKENDS: dict[str, type] = {"highs": HighsBackend, "cbc": CbcBackend}
_INSTALL_HINTS = {
    "highs": "pip install highspy",
    "cbc": "apt-get install coinor-cbc (Debian/Ubuntu) or pip install 'pulp[cbc]'",
}


def available_backends() -> list[str]:
    return [name for name, cls in _BACKENDS.items() if cls().available()]


def get_backend(name: str) -> Backend:
    key = name.strip().lower()
    if key not in _BACKENDS:
        raise SolverError(f"unknown solver {name!r}; choose one of: {', '.join(sorted(_BACKENDS))}")
    backend: Backend = _BACKENDS[key]()
    if not backend.available():
        raise SolverError(f"solver {key!r} is not installed; install it with: {_INSTALL_HINTS[key]}")
    return backend
