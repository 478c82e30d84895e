"""Model sizes the command line names in its help, kept apart from the solver so that ``--help`` loads
no numerical stack."""

SMALL_PAIRS = 10_000  # up to this many allowed pairs the run aims at a proven optimum whatever --gap says
