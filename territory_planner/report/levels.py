"""KPI levels: team, rep, region, and with a plan territory / territory_current.

A ``Level`` says how rows are grouped: rep-keyed levels map each row's ``rep_id`` (the rep who owned
the deal, lead, meeting or time-log row) to a group; territory levels map each row's ``account_id`` to
its proposed rep (``territory``) or to its current rep in the plan (``territory_current``), so a
territory's values are the history it inherits. Accounts with history but no row in the plan (or no
current rep) are grouped under ``(unassigned)`` so totals still add up.

``compute_levels`` returns the long ``level,id,kpi,value`` frame and, per level, the KPIs that could not
be computed with the reason.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from territory_planner.report import kpis as kp
from territory_planner.report.periods import Period

TEAM_ID = "all"
UNASSIGNED = "(unassigned)"
NO_REGION = "(no region)"
NO_DISTRICT = "(no district)"

#: The KPI keys in report order, with a one-line definition for the report.
KPI_DEFINITIONS: dict[str, str] = {
    "quota_attainment": (
        "won amount closed in the period / quota for the period (team, region, district: summed over "
        "the reps with a quota; won revenue of reps without one is left out)"
    ),
    "quota_attainment_rate": "share of the reps with a quota whose attainment is >= 100%",
    "win_rate": "won / (won + lost), deals closed in the period",
    "avg_sales_cycle_days": "mean days from creation to close, won deals closed in the period",
    "avg_deal_size": "mean amount of won deals closed in the period",
    "selling_time_share": "selling hours / total hours in the period",
    "lead_response_hours": "mean hours from contact to response (leads contacted in the period)",
    "weighted_pipeline": (
        "sum of amount x probability, deals open at the end of the period, with the export's probabilities "
        "(given only when the export was taken by the period's end)"
    ),
    "weighted_pipeline_rebuilt": (
        "a period that ended before the export: sum of amount x the deal's rep's win rate over the year "
        "before the period's end (shrunk toward the team's), deals open at the end of the period; the "
        "export's probabilities are today's (a deal won since shows 1)"
    ),
    "pipeline_velocity": (
        "open deals x win rate x deal size / sales cycle (per day); counts and closed deals only, no "
        "probabilities, so a past period's is as of its end"
    ),
    "forecast_accuracy": (
        "1 - |forecast - won| / won per rep; team, region and district: 1 - sum of the reps' |forecast - "
        "won| / sum of their won (reps without a forecast for the period are left out)"
    ),
    "prospect_meetings": (
        "meetings with accounts that had not bought before (team, region and district: per rep)"
    ),
    "won_amount": "won amount closed in the period",
    "open_opportunities": "deals open at the end of the period",
    "accounts": "accounts in the territory (plan)",
    "potential": "revenue potential of the territory's accounts (plan)",
}
KPI_ORDER = list(KPI_DEFINITIONS)

#: Tables each KPI needs.
NEEDS: dict[str, tuple[str, ...]] = {
    "quota_attainment": ("opportunities", "quotas"),
    "quota_attainment_rate": ("opportunities", "quotas"),
    "win_rate": ("opportunities",),
    "avg_sales_cycle_days": ("opportunities",),
    "avg_deal_size": ("opportunities",),
    "selling_time_share": ("time_log",),
    "lead_response_hours": ("leads",),
    "weighted_pipeline": ("opportunities",),
    "weighted_pipeline_rebuilt": ("opportunities",),
    "pipeline_velocity": ("opportunities",),
    "forecast_accuracy": ("opportunities", "forecasts"),
    "prospect_meetings": ("activities", "opportunities"),
    "won_amount": ("opportunities",),
    "open_opportunities": ("opportunities",),
}
#: A past period's weighted pipeline, with probabilities rebuilt as of its end (``kpis.rebuilt_probability``).
REBUILT = "weighted_pipeline_rebuilt"
REP_KEYED = ("quota_attainment", "quota_attainment_rate", "forecast_accuracy", "selling_time_share")
SHARE_OF_REPS = ("quota_attainment_rate",)  # meaningful for groups of reps only


@dataclass(frozen=True)
class Level:
    name: str
    ids: pd.Index
    rep_group: pd.Series  # rep_id -> group id (also used by rep-keyed KPIs)
    account_group: pd.Series | None = None  # account_id -> group id (territory levels)
    reps_per_group: pd.Series | None = None  # team/region/district: KPIs "per rep" divide by this
    roster: pd.Index | None = None  # the roster's reps reps_per_group counts (a departed rep is not one)
    constant: str | None = None  # team: every row in one group
    extras: pd.DataFrame | None = None  # plan columns (accounts, potential) indexed by id

    @property
    def by_account(self) -> bool:
        return self.account_group is not None


@dataclass
class LevelResult:
    level: str
    values: pd.DataFrame  # index = ids, columns = KPI keys
    unavailable: dict[str, str] = field(default_factory=dict)
    # the unavailable KPIs the level defines (their table missing, a past period's pipeline): blank rows
    # in kpis.csv; the others (a rep-keyed KPI at a territory level) have no row
    blank: tuple[str, ...] = ()


def attach_group(frame: pd.DataFrame, level: Level) -> pd.DataFrame:
    if level.constant is not None:
        group = pd.Series(level.constant, index=frame.index, dtype="string")
    elif level.account_group is not None:
        group = frame["account_id"].map(level.account_group).fillna(UNASSIGNED)
    else:
        group = frame["rep_id"].map(level.rep_group)
    return frame.assign(**{kp.GROUP: group})


def _undefined(kpi: str, level: Level) -> str | None:
    """Why ``level`` does not define ``kpi`` at all (None: it does)."""
    if level.by_account and kpi in REP_KEYED:
        return "kept per rep in the CRM, so it cannot be regrouped by account"
    if kpi in SHARE_OF_REPS and level.name not in ("team", "region", "district"):
        return "defined for groups of reps (team, region, district) only"
    if kpi in ("accounts", "potential") and level.extras is None:
        return "plan levels only"
    return None


def _reason(kpi: str, level: Level, missing: dict[str, str], present: set[str]) -> str | None:
    absent = [t for t in NEEDS.get(kpi, ()) if t not in present]
    if absent:
        return "; ".join(missing.get(t, f"{t}.csv not available") for t in absent)
    return _undefined(kpi, level)


def compute_level(
    level: Level, slices: kp.PeriodSlices, missing: dict[str, str], present: set[str]
) -> LevelResult:
    """All KPIs of one level as a wide frame (index = group ids)."""
    ids = level.ids
    unavailable: dict[str, str] = {}
    for kpi in KPI_ORDER:
        reason = _reason(kpi, level, missing, present)
        if kpi == REBUILT and not slices.past:
            continue  # the stand-in for a past period's weighted pipeline: nothing to say otherwise
        if reason:
            unavailable[kpi] = reason
    if slices.past and "weighted_pipeline" not in unavailable:
        unavailable["weighted_pipeline"] = hindsight_reason(slices)
    out: dict[str, pd.Series] = {}
    want = [k for k in KPI_ORDER if k not in unavailable]
    if slices.closed is not None and slices.open_at_end is not None:
        closed = attach_group(slices.closed, level)
        open_rows = attach_group(slices.open_at_end, level)
        out["won_amount"] = kp.won_amount(closed, ids)
        out["win_rate"] = kp.win_rate(closed, ids)
        out["avg_deal_size"] = kp.avg_deal_size(closed, ids)
        out["avg_sales_cycle_days"] = kp.avg_sales_cycle_days(closed, ids)
        out["open_opportunities"] = kp.open_opportunities(open_rows, ids)
        if slices.past:
            out[REBUILT] = kp.weighted_pipeline(open_rows, ids, "rebuilt_probability")
        else:
            out["weighted_pipeline"] = kp.weighted_pipeline(open_rows, ids)
        out["pipeline_velocity"] = kp.pipeline_velocity(closed, open_rows, ids)
        won_by_rep = kp.per_rep_sum(slices.closed[slices.closed["status"].eq("won")], "amount")
        if slices.quotas is not None:
            quota_by_rep = kp.per_rep_sum(slices.quotas, "quota")
            out["quota_attainment"] = kp.quota_attainment(won_by_rep, quota_by_rep, level.rep_group, ids)
            out["quota_attainment_rate"] = kp.quota_attainment_rate(
                won_by_rep, quota_by_rep, level.rep_group, ids
            )
        if slices.forecasts is not None:
            forecast_by_rep = kp.per_rep_sum(slices.forecasts, "forecast")
            out["forecast_accuracy"] = kp.forecast_accuracy(forecast_by_rep, won_by_rep, level.rep_group, ids)
    if slices.time_log is not None and not level.by_account:
        out["selling_time_share"] = kp.selling_time_share(attach_group(slices.time_log, level), ids)
    if slices.leads is not None:
        out["lead_response_hours"] = kp.lead_response_hours(attach_group(slices.leads, level), ids)
    if slices.meetings is not None:
        meetings = attach_group(slices.meetings, level)
        per_group = level.reps_per_group
        if per_group is not None and level.roster is not None:
            # a departed rep's meetings count in its group's (they show on its own rep row): so does
            # the rep, so that the group's figure is the mean of the rep rows the report shows (QA38 F12:
            # 17 meetings of 13 reps read 17 / 12)
            gone = meetings[~meetings["rep_id"].isin(level.roster)].drop_duplicates("rep_id")
            per_group = per_group.add(
                gone.groupby(kp.GROUP, observed=True).size().astype("float64"), fill_value=0
            )
        out["prospect_meetings"] = kp.prospect_meetings(meetings, ids, per_group)
    if level.extras is not None:
        for col in ("accounts", "potential"):
            out[col] = level.extras[col].reindex(ids, fill_value=0).astype("float64")
    values = pd.DataFrame({k: out[k] for k in want if k in out}, index=ids)
    blank = tuple(k for k in unavailable if _undefined(k, level) is None)
    return LevelResult(level.name, values, unavailable, blank)


def hindsight_reason(slices: kp.PeriodSlices) -> str:
    """Why a past period has no ``weighted_pipeline`` (one text for every level, so the report lists it
    once)."""
    closed = (
        f"{slices.closed_since:,} of the {len(slices.open_at_end):,} deals open at its end have closed "
        "since (probability now 1 or 0)"
        if slices.open_at_end is not None and slices.closed_since
        else "the deals open at its end may have changed stage since"
    )
    return (
        f"the period ended before the export was taken and a CRM export keeps only today's probabilities: "
        f"{closed}, so their amount x probability would be hindsight; see {REBUILT}"
    )


def to_long(results: list[LevelResult]) -> pd.DataFrame:
    """Long ``level,id,kpi,value`` frame; every KPI of a level is there, blank (NaN) when unavailable (its
    table missing: report.html says why) or when its denominator is empty. A past period's
    ``weighted_pipeline`` is blank beside ``weighted_pipeline_rebuilt`` (QA17 F5: a dashboard reading the
    key found no row for any closed quarter; QA27 F22: the rows of KPIs whose table was missing were
    dropped, so a dashboard could not tell a missing table from a KPI this version does not compute)."""
    parts = []
    for res in results:
        wide = res.values
        if wide.empty or wide.shape[1] == 0:
            continue
        blank = [k for k in res.blank if k not in wide.columns]
        if blank:
            wide = wide.assign(**dict.fromkeys(blank, np.nan))
            order = [k for k in KPI_ORDER if k in wide.columns]
            wide = wide[order + [c for c in wide.columns if c not in order]]
        n_ids, n_kpis = wide.shape
        parts.append(
            pd.DataFrame(
                {
                    "level": res.level,
                    "id": np.repeat(wide.index.astype(str).to_numpy(), n_kpis),
                    "kpi": np.tile(wide.columns.to_numpy(), n_ids),
                    "value": wide.to_numpy(dtype="float64").reshape(-1),
                }
            )
        )
    if not parts:
        return pd.DataFrame({"level": [], "id": [], "kpi": [], "value": []}).astype({"value": "float64"})
    return pd.concat(parts, ignore_index=True)


#: KPIs that come from the plan, not from the CRM history (still known for a period without data).
PLAN_KPIS = ("accounts", "potential")


def compute_levels(
    levels: list[Level],
    tables: dict[str, pd.DataFrame | None],
    missing: dict[str, str],
    period: Period,
    *,
    no_data: bool = False,
) -> tuple[pd.DataFrame, list[LevelResult]]:
    """Every level's KPIs. ``no_data``: the period lies outside the history's date range, so every
    history KPI is NaN (n/a): a count of 0 or an attainment of 0% would claim knowledge there is none of."""
    slices = kp.slice_period(tables, period)
    present = {name for name, frame in tables.items() if frame is not None}
    results = [compute_level(level, slices, missing, present) for level in levels]
    if no_data:
        for res in results:
            history = [c for c in res.values.columns if c not in PLAN_KPIS]
            res.values[history] = np.nan
    return to_long(results), results


# --------------------------------------------------------------------------- building the levels
def seen_rep_ids(tables: dict[str, pd.DataFrame | None]) -> pd.Index:
    """Every rep_id in the roster and in the history tables."""
    parts = [f["rep_id"] for f in tables.values() if f is not None and "rep_id" in f.columns]
    if not parts:
        return pd.Index([], dtype="string")
    ids = pd.concat(parts, ignore_index=True).astype("string")
    return pd.Index(ids[ids.notna() & ids.ne("")].unique()).sort_values()


def region_map(
    roster: pd.DataFrame | None, territories: pd.DataFrame | None, column: str = "region"
) -> pd.Series | None:
    """rep_id -> region (or district) from the roster; from the plan's territories only when there is no
    roster at all; None when the frame used has no such column (or only blank cells).

    One roster gives the rep, region and district levels: the CRM's (its reps.csv, else ``--reps``, else
    the plan's, ``crm.roster_from_plan``). The plan's districts once came first for the district level
    while the region came from the CRM's roster, so a rep the plan removes left its district but stayed in
    its region, and the districts no longer added up to their region (QA15 H3).
    """
    frame = roster if roster is not None else territories
    if frame is None or column not in frame.columns:
        return None
    region = frame[column].astype("string").str.strip()
    if region.fillna("").eq("").all():
        return None
    region = region.mask(region.isna() | region.eq(""), NO_DISTRICT if column == "district" else NO_REGION)
    return pd.Series(region.to_numpy(), index=frame["rep_id"].astype("string").to_numpy())


def _territory_level(
    name: str, key: pd.Series, assignments: pd.DataFrame, ids: pd.Index, history_accounts: pd.Index
) -> Level:
    key = key.astype("string")
    key = key.mask(key.isna() | key.eq(""), UNASSIGNED)
    account_group = pd.Series(key.to_numpy(), index=assignments["account_id"].astype("string").to_numpy())
    extras = pd.DataFrame(
        {
            "accounts": key.groupby(key.to_numpy()).size(),
            "potential": assignments["potential"].astype("float64").groupby(key.to_numpy()).sum(),
        }
    )
    all_ids = ids.union(pd.Index(key.unique()))
    if not history_accounts.isin(account_group.index).all():
        all_ids = all_ids.union(pd.Index([UNASSIGNED]))
    rep_group = pd.Series(all_ids.to_numpy(), index=all_ids.to_numpy())
    return Level(name, all_ids, rep_group, account_group=account_group, extras=extras)


def _plan_district_level(
    assignments: pd.DataFrame,
    territories: pd.DataFrame | None,
    roster_districts: pd.Series | None,
    history_accounts: pd.Index,
) -> Level | None:
    """``district_plan``: the history regrouped by the plan's districts (each account by the district of
    its proposed rep), when they are not the roster's (designed districts; QA17 F17: the district KPIs
    followed the roster's districts while the balance table showed the plan's). None otherwise."""
    if territories is None or "district" not in territories.columns:
        return None
    rep_district = territories.set_index(territories["rep_id"].astype("string"))["district"].astype("string")
    rep_district = rep_district[rep_district.notna() & rep_district.ne("")]
    if rep_district.empty:
        return None
    if roster_districts is not None:
        same = roster_districts.astype("string").reindex(rep_district.index)
        if same.eq(rep_district).fillna(False).all():
            return None
    key = assignments["rep_id"].astype("string").map(rep_district)
    level = _territory_level(
        "district_plan", key, assignments, pd.Index(rep_district.unique()), history_accounts
    )
    # prospect meetings per rep, as at the roster's district level (QA38 F1: D04's four reps read 9, the sum)
    per_district = rep_district.value_counts().astype("float64")
    return dataclasses.replace(level, rep_group=rep_district, reps_per_group=per_district)


def build_levels(
    tables: dict[str, pd.DataFrame | None],
    *,
    assignments: pd.DataFrame | None = None,
    territories: pd.DataFrame | None = None,
    roster_source: str = "reps.csv",
) -> tuple[list[Level], dict[str, str]]:
    """The levels to report and, for levels that cannot be built, why. The team, rep, region and district
    levels group the history by the roster ``tables["reps"]`` (``roster_source`` names it); a plan
    (``assignments``, ``territories``) adds the territory levels only."""
    roster = tables.get("reps")
    rep_ids = seen_rep_ids(tables)
    roster_ids = (
        pd.Index(roster["rep_id"].astype("string")).unique().sort_values() if roster is not None else rep_ids
    )
    levels = [
        Level(
            "team",
            pd.Index([TEAM_ID]),
            pd.Series(TEAM_ID, index=rep_ids.to_numpy(), dtype="string"),
            reps_per_group=pd.Series({TEAM_ID: float(len(roster_ids))}),
            roster=roster_ids,
            constant=TEAM_ID,
        ),
        Level("rep", roster_ids.union(rep_ids), pd.Series(rep_ids.to_numpy(), index=rep_ids.to_numpy())),
    ]
    skipped: dict[str, str] = {}
    regions = region_map(roster, territories)
    if regions is None:
        skipped["region"] = (
            f"no region column in the reps roster ({roster_source})"
            if roster is not None
            else "no reps roster (reps.csv in the CRM folder, --reps or a plan)"
        )
    else:
        rep_region = regions.reindex(rep_ids).fillna(NO_REGION)
        per_region = regions[regions.index.isin(roster_ids)].value_counts().astype("float64")
        ids = pd.Index(sorted(set(rep_region.unique()) | set(per_region.index)))
        levels.append(Level("region", ids, rep_region, reps_per_group=per_region, roster=roster_ids))
    districts = region_map(roster, territories, "district")
    if districts is not None:  # reps without districts are common: no "skipped" note when absent
        rep_district = districts.reindex(rep_ids).fillna(NO_DISTRICT)
        per_district = districts[districts.index.isin(roster_ids)].value_counts().astype("float64")
        ids = pd.Index(sorted(set(rep_district.unique()) | set(per_district.index)))
        levels.append(Level("district", ids, rep_district, reps_per_group=per_district, roster=roster_ids))
    if assignments is not None:
        history = [f["account_id"] for f in tables.values() if f is not None and "account_id" in f.columns]
        history_accounts = pd.Index(pd.concat(history).unique()) if history else pd.Index([])
        plan_ids = pd.Index(
            territories["rep_id"].astype("string") if territories is not None else assignments["rep_id"]
        ).unique()
        levels.append(
            _territory_level("territory", assignments["rep_id"], assignments, plan_ids, history_accounts)
        )
        levels.append(
            _territory_level(
                "territory_current", assignments["current_rep"], assignments, plan_ids, history_accounts
            )
        )
        planned = _plan_district_level(assignments, territories, districts, history_accounts)
        if planned is not None:
            levels.append(planned)
    else:
        skipped["territory"] = "no plan given"
    return levels, skipped
