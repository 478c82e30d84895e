"""Readers, schemas and atomic writers: the boundary between files and validated frames."""
