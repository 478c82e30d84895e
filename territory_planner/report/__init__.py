"""The standard sales KPI engine and the HTML report.

Data flows one way: ``crm`` (load + validate CSV tables) -> ``kpis`` (pure, vectorised functions on
frames) -> ``levels`` (team / rep / region / territory groupings, long format) -> ``html`` (report.html).
``api.write_report`` is the library entry point; ``cli.report_command`` is the thin click layer.
"""
