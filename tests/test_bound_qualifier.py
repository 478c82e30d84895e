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


def test_a_bound_with_centres_the_planner_chose_says_it_holds_for_those_centres() -> None:
    """QA81 F1: the sample's new hire without a home placed by the location search; the bound is the
    model's with that centre, read as a bound on every plan (6.9% above a plan with the hire elsewhere)."""
    one = {
        "status": "feasible",
        "objective": 20_193_547.1,
        "lower_bound": 20_042_445.7,
        "chosen_centres": ["R20"],
    }
    assert bound_qualifier(one) == " (for the centres the planner chose for R20)"
    many = {**one, "chosen_centres": [f"R{j}" for j in range(20)]}
    assert bound_qualifier(many) == " (for the centres the planner chose for 20 reps)"
    below = {**one, "status": "relaxed", "objective": 19_000_000.0}
    assert bound_qualifier(below) == (
        " (for plans meeting every constraint; this plan, below it, breaks some; for the centres the "
        "planner chose for R20)"
    )
    assert bound_qualifier({**one, "chosen_centres": []}) == ""
    assert bound_qualifier({**one, "lower_bound": float("-inf")}) == ""
