"""Run monitoring (运行监测): the indicators of a city's runs side by side, their trends and
outliers, as a report (`drgpolicy monitor`, the studio's Monitoring page)."""

from engine.monitor.report import Monitoring, render_html, write_monitoring
from engine.monitor.runs import MonitorError, Runs, read_runs

__all__ = ["MonitorError", "Monitoring", "Runs", "read_runs", "render_html", "write_monitoring"]
