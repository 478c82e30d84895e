"""How messages name accounts and list what they name."""

from __future__ import annotations

import itertools

from territory_planner.io.labels import account_label, first_few


def test_account_label_names_the_account_when_its_name_differs_from_its_id() -> None:
    assert account_label("A1", "Charlotte") == "account A1 (Charlotte)"
    assert account_label("A1", "A1") == "account A1"
    assert account_label(" A1 ", float("nan")) == "account A1"
    assert account_label("A1", "  ") == "account A1"


def test_first_few_lists_at_most_the_number_shown_and_says_when_there_are_more() -> None:
    assert first_few([]) == ""
    assert first_few(["a", "b"]) == "a, b"
    assert first_few("abcde") == "a, b, c, d, e"
    assert first_few("abcdef") == "a, b, c, d, e, ..."
    assert first_few(range(1, 10), 3) == "1, 2, 3, ..."
    assert first_few([1, 2, 3], 3) == "1, 2, 3"


def test_first_few_reads_no_further_than_it_needs() -> None:
    """A generator of labels is consumed only up to one item past those shown."""
    assert first_few(itertools.count(), 2) == "0, 1, ..."
