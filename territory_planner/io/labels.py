"""How messages name one account: ``account A1 (Charlotte)`` when the accounts table gives it a name other
than its id, else ``account A1`` (the optimiser's ``TerritoryProblem.unit_label`` names a single account
the same way). Input problems about an account (a point outside every area, a bad edit) use it, so a
planner reads the city or customer, not only a CRM id."""

from __future__ import annotations

import itertools
import math
from collections.abc import Iterable

_NO_NAME = {"", "nan", "none", "<na>"}


def account_label(account_id: object, name: object = "") -> str:
    account = str(account_id).strip()
    if name is None or (isinstance(name, float) and math.isnan(name)):
        return f"account {account}"
    text = str(name).strip()
    named = text.lower() not in _NO_NAME and text != account
    return f"account {account} ({text})" if named else f"account {account}"


def first_few(items: Iterable[object], shown: int = 5) -> str:
    """``'a, b, c, d, e, ...'``: the first ``shown`` items joined, and ``...`` when there are more; how
    messages list what they name (accounts, files, territories) without flooding the terminal."""
    listed = [str(item) for item in itertools.islice(items, shown + 1)]
    return ", ".join(listed[:shown]) + (", ..." if len(listed) > shown else "")
