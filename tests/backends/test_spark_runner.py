"""The Spark runner's hold on the process (no JVM started: the session is a stand-in)."""

from __future__ import annotations

import logging
from unittest import mock

import pytest

from engine.plan.sql import spark_runner
from engine.plan.sql.spark_runner import Spark


def _filtered() -> bool:
    return spark_runner._STOP_SAID_ONCE in logging.getLogger().filters


@pytest.fixture(autouse=True)
def _root_logger_of_its_own(monkeypatch: pytest.MonkeyPatch) -> None:
    """Each test starts from a root logger without filters, and the process's comes back after
    it: a Spark session of our own that another test left open has the filter on (in the whole
    suite, test_spark.py's; CI failed on that order)."""
    monkeypatch.setattr(logging.getLogger(), "filters", [])


def test_a_callers_session_leaves_the_root_logger_as_it_was() -> None:
    """On main the filter that drops py4j's stop traceback was put on the root logger for the
    life of the process, even on a session the caller passed (report_rev31.md, finding 7)."""
    runner = Spark(session=mock.MagicMock())
    assert not _filtered()
    runner.close()
    assert not _filtered()


def test_our_own_session_filters_the_root_logger_only_while_open(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    builder = mock.MagicMock()
    builder.master.return_value = builder
    builder.appName.return_value = builder
    builder.config.return_value = builder
    monkeypatch.setattr("pyspark.sql.SparkSession.builder", builder)
    runner = Spark()
    assert _filtered()
    runner.close()
    assert not _filtered() and builder.getOrCreate.return_value.stop.called
