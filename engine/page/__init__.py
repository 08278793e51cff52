"""Self-contained report pages (报告页面): sections of text, tables and inline SVG charts, and how
numbers are written on them — shared by the what-if report, the settlement's `report.html` and
the policy document (`drgpolicy render`)."""
