"""What was known before the cut-off: the forecast's nodes and their monthly won series.

Nodes are the team, the regions and the reps (one hierarchy: ``summing`` adds reps into regions and the
team), and under a plan the new territories, where each deal follows its account to the account's new rep
(deals of accounts outside the plan are grouped as ``(unassigned)`` so the territories add up to the team).
The hierarchy is the CRM's own: its reps and regions come from the CRM's roster (reps.csv or ``--reps``)
and its history, never from the plan, so a plan adds the territories and changes nothing above them (QA6
O1: regions taken from the plan's roster moved the team's reconciled forecast from plan to plan).

With a roster, the rep level holds the roster's reps only: a forecast per rep is what a rep on the team
will bring in. The deals of a rep who is not in the roster (a departed rep) follow their accounts to the
accounts' current reps (``(unassigned)`` when an account has none in the roster), so the reps still add up
to the team; ``History.reassigned`` says where they went.

Only opportunities created before the cut-off exist; only won deals closed before it enter the series.
Everything later is invisible, whatever the export holds.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from territory_planner.forecast.layout import Layout, Window
from territory_planner.report.crm import LATE_CLOSE_DAYS
from territory_planner.report.levels import NO_REGION, TEAM_ID, UNASSIGNED, region_map


@dataclass(frozen=True)
class Nodes:
    """Every series forecast, in order: team, regions, reps, then territories (under a plan)."""

    level: tuple[str, ...]
    ids: tuple[str, ...]
    summing: np.ndarray  # (team + regions + reps) x reps: which reps each hierarchy node adds up
    n_reps: int
    n_territories: int
    names: dict[str, str] = field(default_factory=dict)

    @property
    def n_hierarchy(self) -> int:
        return int(self.summing.shape[0])

    @property
    def rep_slice(self) -> slice:
        return slice(self.n_hierarchy - self.n_reps, self.n_hierarchy)

    @property
    def territory_slice(self) -> slice:
        return slice(self.n_hierarchy, self.n_hierarchy + self.n_territories)

    def __len__(self) -> int:
        return len(self.ids)


@dataclass(frozen=True)
class History:
    layout: Layout
    nodes: Nodes
    deals: pd.DataFrame  # opportunities created before the cut-off, with rep_code / territory_code
    monthly: np.ndarray  # nodes x months (layout.first_month .. end_month - 1): won amount
    first: np.ndarray  # per node: first month (relative) with any opportunity of that node
    #: departed reps' deals moved to their accounts' current reps: departed_rep, rep_id, deals, won_amount
    reassigned: pd.DataFrame = field(default_factory=pd.DataFrame)

    def aggregate(self, rep_values: np.ndarray, territory_values: np.ndarray) -> np.ndarray:
        """Per-node totals from per-rep and per-territory values (the hierarchy adds the reps up)."""
        return np.concatenate([self.nodes.summing @ rep_values, territory_values])

    def node_sums(self, mask: np.ndarray, values: np.ndarray) -> np.ndarray:
        """Sum ``values`` of the deals selected by ``mask`` into every node."""
        d = self.deals
        reps = np.bincount(d["rep_code"].to_numpy()[mask], weights=values[mask], minlength=self.nodes.n_reps)
        terr: np.ndarray = np.zeros(self.nodes.n_territories)
        if self.nodes.n_territories:
            terr = np.bincount(
                d["territory_code"].to_numpy()[mask], weights=values[mask], minlength=self.nodes.n_territories
            )
        return self.aggregate(reps, terr)

    def actuals(self, window: Window) -> np.ndarray:
        """Won amount closed inside ``window`` per node."""
        return self.won_between(window.start, window.end)

    def won_between(self, start: pd.Timestamp, end: pd.Timestamp) -> np.ndarray:
        """Won amount closed from ``start`` to ``end`` (days inclusive) per node."""
        d = self.deals
        close = d["close_date"]
        stop = end + pd.Timedelta(days=1)
        mask = (d["status"].eq("won") & (close >= start) & (close < stop)).to_numpy(bool)
        return self.node_sums(mask, d["amount"].to_numpy(dtype="float64"))


REASSIGNED_COLUMNS = ["departed_rep", "rep_id", "deals", "won_amount"]


def _rep_of_deals(
    deals: pd.DataFrame, roster: pd.DataFrame | None, owners: pd.Series | None
) -> tuple[pd.Series, pd.Index]:
    """Per deal the rep whose series it enters, and the rep ids: the roster's reps, a departed rep's deals
    going to the account's current rep (``UNASSIGNED`` without one in the roster)."""
    rep = deals["rep_id"].astype(str)
    if roster is None or "rep_id" not in roster.columns:
        return rep, pd.Index(rep.unique()).sort_values()
    roster_ids = pd.Index(roster["rep_id"].astype(str).unique())
    departed = ~rep.isin(roster_ids)
    if departed.any():
        owner = owners.astype(str) if owners is not None else pd.Series(dtype=str)
        owner = owner[owner.isin(roster_ids)]
        owner = owner[~owner.index.duplicated(keep="last")]
        heir = deals.loc[departed, "account_id"].astype(str).map(owner).astype("object")
        heir = heir.where(heir.notna(), UNASSIGNED)  # (float NaN when no owner is known: no fillna("..."))
        rep = rep.copy()
        rep[departed] = heir.to_numpy()
    ids = roster_ids.sort_values()
    if rep.eq(UNASSIGNED).any():
        ids = ids.append(pd.Index([UNASSIGNED]))
    return rep, ids


def _reassigned(deals: pd.DataFrame, rep: pd.Series, cutoff: pd.Timestamp) -> pd.DataFrame:
    moved = deals["rep_id"].astype(str).ne(rep)
    if not moved.any():
        return pd.DataFrame(columns=REASSIGNED_COLUMNS)
    part = deals[moved]
    won = part["status"].eq("won") & part["close_date"].lt(cutoff)
    frame = pd.DataFrame(
        {
            "departed_rep": part["rep_id"].astype(str),
            "rep_id": rep[moved],
            "deals": 1,
            "won_amount": part["amount"].astype("float64").where(won, 0.0),
        }
    )
    out = frame.groupby(["departed_rep", "rep_id"], as_index=False).sum()
    return out.sort_values(["departed_rep", "won_amount"], ascending=[True, False], ignore_index=True)


def _nodes(
    deals: pd.DataFrame,
    roster: pd.DataFrame | None,
    assignments: pd.DataFrame | None,
    territories: pd.DataFrame | None,
    deal_rep: pd.Series,
    rep_ids: pd.Index,
) -> tuple[Nodes, np.ndarray, np.ndarray]:
    """The nodes, and per deal its rep code and territory code (regions from ``roster`` alone: the plan's
    ``territories`` name the territories, they do not regroup the reps)."""
    regions = region_map(roster, None)
    levels, ids = ["team"], [TEAM_ID]
    rows: list[np.ndarray] = [np.ones(len(rep_ids))]
    if regions is not None:
        rep_region = regions.reindex(rep_ids).fillna(NO_REGION).astype(str)
        for region in sorted(rep_region.unique()):
            levels.append("region")
            ids.append(region)
            rows.append(rep_region.eq(region).to_numpy(dtype="float64"))
    levels += ["rep"] * len(rep_ids)
    ids += list(rep_ids)
    summing = np.vstack([*rows, np.eye(len(rep_ids))])
    rep_code = rep_ids.get_indexer(pd.Index(deal_rep))
    terr_code = np.zeros(len(deals), dtype=np.int64)
    n_terr = 0
    if assignments is not None:
        owner = pd.Series(
            assignments["rep_id"].astype(str).to_numpy(), index=assignments["account_id"].astype(str)
        )
        new_rep = deals["account_id"].astype(str).map(owner).fillna(UNASSIGNED)
        plan_ids = pd.Index(assignments["rep_id"].astype(str).unique())
        if territories is not None:
            plan_ids = plan_ids.union(pd.Index(territories["rep_id"].astype(str)))
        terr_ids = plan_ids.sort_values()
        if new_rep.eq(UNASSIGNED).any():
            terr_ids = terr_ids.append(pd.Index([UNASSIGNED]))
        terr_code = terr_ids.get_indexer(new_rep)
        levels += ["territory"] * len(terr_ids)
        ids += list(terr_ids)
        n_terr = len(terr_ids)
    names: dict[str, str] = {}
    for frame in (roster, territories):
        if frame is not None and "name" in frame.columns:
            ok = frame[frame["name"].notna()]
            names.update(zip(ok["rep_id"].astype(str), ok["name"].astype(str), strict=True))
    nodes = Nodes(tuple(levels), tuple(ids), summing, len(rep_ids), n_terr, names)
    return nodes, rep_code.astype(np.int64), terr_code.astype(np.int64)


def as_of_date(opportunities: pd.DataFrame) -> pd.Timestamp:
    """The export's date: the latest creation or close of a closed deal (an open deal's close is a plan).
    A close more than ``LATE_CLOSE_DAYS`` after the latest creation is not taken for it (``late_closes``
    warns of those rows: an expected date or a typo on a deal marked won): one won deal dated 2027-06-01
    in an export of 2017-12-30 made 2018Q1 "begun" and the live pipeline's probabilities unused (QA40 F3:
    the team forecast +13.6%)."""
    closed = opportunities["status"].isin(("won", "lost"))
    created = opportunities["created_date"]
    closes = opportunities.loc[closed, "close_date"]
    if created.notna().any():
        closes = closes[closes <= created.max().normalize() + pd.Timedelta(days=LATE_CLOSE_DAYS)]
    return pd.Timestamp(pd.concat([created, closes]).max()).normalize()


def first_close_date(opportunities: pd.DataFrame) -> pd.Timestamp:
    closed = opportunities["status"].isin(("won", "lost")) & opportunities["close_date"].notna()
    if not closed.any():
        return pd.Timestamp(opportunities["created_date"].min()).normalize()
    return pd.Timestamp(opportunities.loc[closed, "close_date"].min()).normalize()


def build_history(
    opportunities: pd.DataFrame,
    layout: Layout,
    *,
    roster: pd.DataFrame | None = None,
    assignments: pd.DataFrame | None = None,
    territories: pd.DataFrame | None = None,
    owners: pd.Series | None = None,
) -> History:
    """The nodes and monthly series known at ``layout.cutoff``. ``owners`` (account_id -> current rep)
    places the deals of reps who are not in ``roster``."""
    cols = ["opportunity_id", "account_id", "rep_id", "amount", "status", "probability"]
    deals = opportunities.loc[opportunities["created_date"] < layout.cutoff, cols].copy()
    deals["created_date"] = opportunities["created_date"]
    deals["close_date"] = opportunities["close_date"]
    deals = deals.reset_index(drop=True)
    deal_rep, rep_ids = _rep_of_deals(deals, roster, owners)
    nodes, rep_code, terr_code = _nodes(deals, roster, assignments, territories, deal_rep, rep_ids)
    deals["rep_code"] = rep_code
    deals["territory_code"] = terr_code
    n_months = layout.end_month - layout.first_month
    close = deals["close_date"]
    close_month = (close.dt.year * 12 + close.dt.month - 1).fillna(-1).to_numpy(dtype=np.int64)
    rel = close_month - layout.first_month
    won = (deals["status"].eq("won") & deals["close_date"].lt(layout.cutoff)).to_numpy(bool)
    won &= (rel >= 0) & (rel < n_months)
    amount = deals["amount"].to_numpy(dtype="float64")
    rep_m = np.zeros((nodes.n_reps, max(n_months, 0)))
    np.add.at(rep_m, (rep_code[won], rel[won]), amount[won])
    terr_m = np.zeros((nodes.n_territories, max(n_months, 0)))
    if nodes.n_territories:
        np.add.at(terr_m, (terr_code[won], rel[won]), amount[won])
    monthly = np.vstack([nodes.summing @ rep_m, terr_m])
    created_rel = (
        deals["created_date"].dt.year.to_numpy() * 12
        + deals["created_date"].dt.month.to_numpy()
        - 1
        - layout.first_month
    ).clip(0, None)
    first_rep = np.full(nodes.n_reps, n_months, dtype=np.int64)
    np.minimum.at(first_rep, rep_code, created_rel)
    first_terr = np.full(nodes.n_territories, n_months, dtype=np.int64)
    if nodes.n_territories:
        np.minimum.at(first_terr, terr_code, created_rel)
    first_hier = np.array(
        [first_rep[row > 0].min() if (row > 0).any() else n_months for row in nodes.summing], dtype=np.int64
    )
    first = np.concatenate([first_hier, first_terr])
    first[0] = 0  # the team's history starts with the CRM's
    return History(layout, nodes, deals, monthly, first, _reassigned(deals, deal_rep, layout.cutoff))
