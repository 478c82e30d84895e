"""territory-planner: balanced, compact, stable sales territories from a linear/integer program."""

__version__ = "0.1.0"
