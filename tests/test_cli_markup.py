"""Text from the inputs and from messages is printed as written, never read as rich markup.

QA6: `validate` of a scenario with the internal key `reps_remove` printed "unknown scenario key
'reps_remove' (use a  table with add/remove)": rich took "[reps]" for a style tag and dropped it; an
edits file with the account id "[bold]37999" was shown as a bold "37999".
"""

from __future__ import annotations

import io

from rich.console import Console

from territory_planner.cli_support import print_infeasible, print_input_error
from territory_planner.errors import Conflict, InfeasibleError, InputError, Problem


def _console() -> tuple[Console, io.StringIO]:
    out = io.StringIO()
    return Console(file=out, width=400, color_system=None, highlight=False), out


def test_the_problems_table_keeps_square_brackets() -> None:
    console, out = _console()
    error = InputError(
        [
            Problem("s[1].toml", None, "reps_remove", "unknown key (use a [reps] table with add/remove)"),
            Problem("edits.csv", 2, "account_id", "account is not in the plan", "[bold]37999"),
        ]
    )
    print_input_error(error, console)
    text = out.getvalue()
    assert "use a [reps] table" in text
    assert "[bold]37999" in text
    assert "s[1].toml" in text


def test_an_infeasibility_keeps_square_brackets() -> None:
    console, out = _console()
    error = InfeasibleError(
        "set [tolerance] potential = 0.1 in the scenario",
        [Conflict("balance", "rep [R1] band 5 to 6", rep_id="[R1]", measure="potential", amount=2.0)],
    )
    print_infeasible(error, console)
    text = out.getvalue()
    assert "set [tolerance] potential" in text
    assert "rep [R1] band" in text
    assert "Infeasible:" in text
