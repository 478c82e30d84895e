"""``TerritoryProblem``: validated frames -> plain arrays the optimiser works on.

Account families (same ``parent_id``) are merged into one *unit*; everything the optimiser sees is per
unit (rows) x rep (columns). GeoDataFrames stop at the IO boundary: here there are only numpy arrays.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from territory_planner.model.geo import haversine_km


@dataclass(frozen=True)
class TerritoryProblem:
    account_ids: np.ndarray  # (n_acc,) str
    account_names: np.ndarray  # (n_acc,) str
    acc_lat: np.ndarray
    acc_lon: np.ndarray
    acc_workload: np.ndarray
    acc_potential: np.ndarray
    acc_amount: np.ndarray  # (n_acc, M) balance measures
    acc_current: np.ndarray  # (n_acc,) rep index, -1 none / departed
    acc_locked: np.ndarray  # (n_acc,) rep index, -1 none
    acc_unit: np.ndarray  # (n_acc,) unit index
    acc_family: np.ndarray  # (n_acc,) str parent_id or ""
    acc_segment: np.ndarray  # (n_acc,) str
    unit_amount: np.ndarray  # (n_units, M)
    unit_size: np.ndarray  # (n_units,) number of accounts
    unit_locked: np.ndarray  # (n_units,) rep index or -1
    allowed: np.ndarray  # (n_units, p) bool: segment-compatible and lock-compatible
    rep_ids: np.ndarray  # (p,) str
    rep_names: np.ndarray
    rep_regions: np.ndarray
    capacity: np.ndarray  # (p,)
    home_lat: np.ndarray  # (p,) NaN = the planner chooses
    home_lon: np.ndarray
    rep_segments: tuple[frozenset[str], ...]
    measures: tuple[str, ...]
    tolerance: np.ndarray  # (M,)
    target: np.ndarray  # (M, p)
    rep_districts: np.ndarray | None = None  # (p,) str district label ("" none); None: no column
    home_unit: np.ndarray | None = None  # (p,) unit whose polygon holds the home, -1 none; None: no polygons
    unit_home_kept: np.ndarray | None = None  # (n_units,) bool: confined to reps based near it (--keep-home)
    home_km: float | None = None  # --keep-home's distance

    @property
    def districts(self) -> np.ndarray:
        """(p,) district label of each rep ("" when none)."""
        if self.rep_districts is None:
            return np.full(self.n_reps, "", dtype=object).astype(str)
        return self.rep_districts

    def unit_user_lock(self) -> np.ndarray:
        """(n_units,) the rep each unit is locked to by its accounts' own locks (locked_rep, --locks, edits
        kept by --rebalance), -1 for none: not --keep-home's, which locks a unit too (``unit_locked``)."""
        out = np.full(self.n_units, -1, dtype=np.int64)
        has_lock = self.acc_locked >= 0
        out[self.acc_unit[has_lock]] = self.acc_locked[has_lock]
        return out

    def unit_label(self, u: int) -> str:
        """How messages name unit ``u``: ``account A1 (Charlotte)``, or ``family F (3 accounts)``."""
        members = np.flatnonzero(self.acc_unit == u)
        from territory_planner.io.labels import account_label, group_label

        if len(members) > 1:
            return f"{group_label(self.acc_family[members[0]])} ({len(members)} accounts)"

        return account_label(self.account_ids[members[0]], self.account_names[members[0]])

    @property
    def n_accounts(self) -> int:
        return len(self.account_ids)

    @property
    def n_units(self) -> int:
        return len(self.unit_size)

    @property
    def n_reps(self) -> int:
        return len(self.rep_ids)

    @property
    def lower_band(self) -> np.ndarray:
        out: np.ndarray = (1 - self.tolerance)[:, None] * self.target
        return out

    @property
    def upper_band(self) -> np.ndarray:
        out: np.ndarray = (1 + self.tolerance)[:, None] * self.target
        return out

    @property
    def missing_homes(self) -> np.ndarray:
        out: np.ndarray = np.isnan(self.home_lat) | np.isnan(self.home_lon)
        return out

    @classmethod
    def from_frames(
        cls,
        accounts: pd.DataFrame,
        reps: pd.DataFrame,
        measures: tuple[str, ...],
        tolerance: dict[str, float] | np.ndarray,
    ) -> TerritoryProblem:
        """Build arrays from validated frames (see ``io.load``); references must already be checked."""
        rep_ids = reps["rep_id"].to_numpy(dtype=str)
        rep_index = {r: k for k, r in enumerate(rep_ids)}
        n = len(accounts)

        def to_index(col: str) -> np.ndarray:
            vals = accounts[col].to_numpy(dtype=str)
            return np.array([rep_index.get(v, -1) if v else -1 for v in vals], dtype=np.int64)

        current = to_index("current_rep")
        locked = to_index("locked_rep")
        family = accounts["parent_id"].to_numpy(dtype=str)
        # units: one per family, one per account without a family; ordered by first appearance
        keys = np.where(family != "", np.char.add("F:", family), np.char.add("A:", np.arange(n).astype(str)))
        _, first, inverse = np.unique(keys, return_index=True, return_inverse=True)
        order = np.argsort(first)
        remap = np.empty_like(order)
        remap[order] = np.arange(len(order))
        acc_unit = remap[inverse]
        n_units = len(order)

        amount = np.column_stack([accounts[m].to_numpy(dtype=float) for m in measures])
        unit_amount = np.zeros((n_units, len(measures)))
        np.add.at(unit_amount, acc_unit, amount)
        unit_size = np.bincount(acc_unit, minlength=n_units)
        unit_locked = np.full(n_units, -1, dtype=np.int64)
        has_lock = locked >= 0
        unit_locked[acc_unit[has_lock]] = locked[has_lock]

        p = len(rep_ids)
        segments = tuple(
            frozenset(s.strip().lower() for s in str(v).split(";") if s.strip())
            for v in reps["segments"].to_numpy()
        )
        acc_segment = accounts["segment"].to_numpy(dtype=str)
        allowed = np.ones((n_units, p), dtype=bool)
        seg_lower = np.char.lower(acc_segment.astype(str))
        for j, segs in enumerate(segments):
            if not segs:
                continue
            bad = (seg_lower != "") & ~np.isin(seg_lower, list(segs))
            allowed[acc_unit[bad], j] = False
        lock_rows = unit_locked >= 0
        allowed[lock_rows] = False
        allowed[np.flatnonzero(lock_rows), unit_locked[lock_rows]] = True

        capacity = reps["capacity"].to_numpy(dtype=float)
        totals = amount.sum(axis=0)
        target = totals[:, None] * (capacity / capacity.sum())[None, :]
        if isinstance(tolerance, dict):
            tol = np.array([tolerance.get(m, 0.05) for m in measures], dtype=float)
        else:
            tol = np.asarray(tolerance, dtype=float)
        names = (
            accounts["name"].to_numpy(dtype=str)
            if "name" in accounts
            else accounts["account_id"].to_numpy(str)
        )
        return cls(
            account_ids=accounts["account_id"].to_numpy(dtype=str),
            account_names=names,
            acc_lat=accounts["lat"].to_numpy(dtype=float),
            acc_lon=accounts["lon"].to_numpy(dtype=float),
            acc_workload=accounts["workload"].to_numpy(dtype=float),
            acc_potential=accounts["potential"].to_numpy(dtype=float),
            acc_amount=amount,
            acc_current=current,
            acc_locked=locked,
            acc_unit=acc_unit,
            acc_family=family,
            acc_segment=acc_segment,
            unit_amount=unit_amount,
            unit_size=unit_size,
            unit_locked=unit_locked,
            allowed=allowed,
            rep_ids=rep_ids,
            rep_names=reps["name"].to_numpy(dtype=str),
            rep_regions=reps["region"].to_numpy(dtype=str),
            capacity=capacity,
            home_lat=reps["lat"].to_numpy(dtype=float),
            home_lon=reps["lon"].to_numpy(dtype=float),
            rep_segments=segments,
            measures=tuple(measures),
            tolerance=tol,
            target=target,
            rep_districts=reps["district"].to_numpy(dtype=str) if "district" in reps else None,
        )

    def account_distance(self, home_lat: np.ndarray, home_lon: np.ndarray) -> np.ndarray:
        """(n_acc, p) great-circle km from each account to each rep home."""
        return haversine_km(self.acc_lat, self.acc_lon, home_lat, home_lon)

    def unit_sum(self, per_account: np.ndarray) -> np.ndarray:
        """Sum an (n_acc, ...) array over the accounts of each unit."""
        out = np.zeros((self.n_units, *per_account.shape[1:]))
        np.add.at(out, self.acc_unit, per_account)
        return out

    def unit_cost(self, home_lat: np.ndarray, home_lon: np.ndarray) -> np.ndarray:
        """(n_units, p) compactness cost: sum over the unit's accounts of workload x km to the rep home."""
        dist = self.account_distance(home_lat, home_lon)
        dist *= self.acc_workload[:, None]
        return self.unit_sum(dist)

    def stay_potential(self) -> np.ndarray:
        """(n_units, p): potential of the unit's accounts whose current rep is that rep."""
        out = np.zeros((self.n_units, self.n_reps))
        has = self.acc_current >= 0
        np.add.at(out, (self.acc_unit[has], self.acc_current[has]), self.acc_potential[has])
        return out

    def held_potential(self) -> np.ndarray:
        """(p,): potential each rep holds today."""
        has = self.acc_current >= 0
        return np.bincount(self.acc_current[has], weights=self.acc_potential[has], minlength=self.n_reps)
