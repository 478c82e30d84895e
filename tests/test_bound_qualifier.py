"""A plan below its lower bound says why on the console and in the report (QA36 F3)."""

from __future__ import annotations

from territory_planner.report.formatting import bound_qualifier


def test_a_relaxed_plan_below_the_bound_says_the_bound_is_for_plans_meeting_every_constraint() -> None:
    text = bound_qualifier({"status": "relaxed", "objective": 305_511.0, "lower_bound": 306_901.6})
    assert "for plans meeting every constraint" in text
    assert "breaks some" in text


def test_no_qualifier_when_the_bound_is_below_the_plan_or_unknown_or_the_plan_is_edited() -> None:
    assert bound_qualifier({"status": "relaxed", "objective": 310_000.0, "lower_bound": 306_901.6}) == ""
    assert bound_qualifier({"status": "feasible", "objective": 306_901.6, "lower_bound": 306_901.6}) == ""
    assert bound_qualifier({"status": "relaxed", "objective": 305_511.0, "lower_bound": None}) == ""
    # an edited plan's gap cell explains it already (report.html), once is enough
    assert bound_qualifier({"status": "manual", "objective": 305_511.0, "lower_bound": 306_901.6}) == ""
