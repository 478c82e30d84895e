"""Formulation, pre-checks and the solve pipeline (LP -> column generation -> repair MIP)."""
