"""Maps of a plan: ``render.map.write_map`` (library) and ``render.cli.map_command`` (CLI)."""
