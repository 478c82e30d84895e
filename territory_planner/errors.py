"""One exception hierarchy for the whole package.

Every error carries the numbers or rows a planner needs; ``cli.py`` maps each class to an exit code
(``InputError``/``InfeasibleError`` -> 1, ``SolverError`` -> 3).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any


@dataclass(frozen=True)
class Problem:
    """One problem found in the inputs: where it is and what is wrong."""

    file: str
    row: int | None  # 1-based data row (header excluded), a scenario file's line; None: the whole file/column
    column: str | None
    message: str
    value: str = ""

    def as_dict(self) -> dict[str, object]:
        return {
            "file": self.file,
            "row": "" if self.row is None else self.row,
            "column": self.column or "",
            "value": self.value,
            "message": self.message,
        }


class TerritoryPlannerError(Exception):
    """Base class of every error the package raises on purpose."""

    exit_code = 1


COMMAND_LINE = "command line"  # the ``file`` of a problem with a flag's value


class InputError(TerritoryPlannerError):
    """The inputs are wrong. Carries every problem found, not just the first. Exit code 1 (bad input),
    or 2 (a usage error, as click's own checks of flag values) when every problem is in a flag's value.
    ``proof``: an infeasibility proven in the same run (``validate``), shown after the problems, so that
    neither waits for the other to be fixed (QA13 7)."""

    def __init__(self, problems: list[Problem] | Problem | str, *, proof: InfeasibleError | None = None):
        self.proof = proof
        # a file that could not be used (no CRS) but whose columns were read: checked in the same run
        self.frame: Any = None
        # what was accepted but is worth a look, found beside the problems (a row with lat and lon swapped):
        # written to the problems file too, which a scheduled job or --quiet run reads (QA114 F3)
        self.warnings: tuple[str, ...] = ()
        if isinstance(problems, str):
            problems = [Problem(file="", row=None, column=None, message=problems)]
        elif isinstance(problems, Problem):
            problems = [problems]
        self.problems: list[Problem] = list(problems)
        first = self.problems[0] if self.problems else None
        summary = f"{len(self.problems)} input problem(s)"
        if first is not None:
            where = ", ".join(
                p
                for p in (
                    first.file,
                    f"row {first.row}" if first.row is not None else "",
                    f"column {first.column}" if first.column else "",
                )
                if p
            )
            summary += f"; first: {where + ': ' if where else ''}{first.message}"
        super().__init__(summary)

    @property
    def exit_code(self) -> int:  # type: ignore[override]
        usage = bool(self.problems) and all(p.file == COMMAND_LINE for p in self.problems)
        return 2 if usage else 1


@dataclass
class Conflict:
    """A family of constraints that cannot be satisfied together, with the numbers."""

    family: str  # e.g. "balance", "lock", "family", "segment", "capacity", "disruption_budget"
    message: str
    rep_id: str | None = None
    measure: str | None = None
    amount: float | None = None  # by how much (in the measure's unit) the family is violated
    extra: dict[str, object] = field(default_factory=dict)


class InfeasibleError(TerritoryPlannerError):
    """No plan satisfies the model; ``conflicts`` says which constraint families clash and by how much."""

    exit_code = 1

    def __init__(self, message: str, conflicts: list[Conflict] | None = None, cleared: tuple[str, ...] = ()):
        self.conflicts = list(conflicts or [])
        # the restrictions a proof tested and found to play no part ("--keep-home"): no lever is offered
        self.cleared = cleared
        # the run's currency prefix ("€"), set where the run's currency is known: the table of conflicts
        # gives money amounts in it, as their explanations do (QA38 F8)
        self.money_prefix: str | None = None
        super().__init__(message)


class SolverError(TerritoryPlannerError):
    """The solver failed, is missing, or hit its time limit with no plan at all."""

    exit_code = 3


class OutputExistsError(TerritoryPlannerError):
    """The output folder already holds a plan and ``--force`` was not given: a usage error (exit 2), as a
    plan folder that does not exist is; the inputs are not at fault (QA16 F7)."""

    exit_code = 2


class OutputPathError(TerritoryPlannerError):
    """An output that cannot be written where it was asked for (a parent that is a file, no permission, a
    full disk): a usage error (exit 2), as an ``--out`` naming a file is; the message names the path and
    the reason (QA32 F-e: a traceback, often after the whole solve)."""

    exit_code = 2

    def __init__(self, path: object, reason: str, note: str = ""):
        self.path = path
        self.reason = reason
        super().__init__(f"cannot write {path}: {reason}" + (f"; {note}" if note else ""))
