"""Integer key codes (`engine.plan.polars.keys`) and exact thresholds (`functions.near_constant`):
the fast paths of the batch plan give what the plain ones give — a join on the key columns, a
group-by, the tolerance comparison of `near_compare`."""

from __future__ import annotations

import math
from typing import Any

import polars as pl
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from engine.inputs import catalog
from engine.inputs.rundata import Period, RunData
from engine.plan.functions import near_compare, near_constant, near_threshold
from engine.plan.polars import keys
from engine.plan.polars.keys import KeyCodes, bring_coded, bring_values, group_rows
from engine.run.settle import load_data, load_policy
from tests.conftest import POLICIES, SAMPLE

HOSPITALS = ["H01", "H02", "H10", "H2"]
GROUPS = ["AA19", "BB13", "BB15", "ZZ99"]
UNCATALOGUED = ["0000", "AQY"]
TIERS = ["A", "B", None]
MONTHS = ["2024-01", "2024-02", "2024-03"]


def codes() -> KeyCodes:
    hospitals = pl.DataFrame(
        {"hospital_id": HOSPITALS, "level": [1, 3, 2, 0], "tier": ["B", "A", None, "A"]}
    )
    groups = pl.DataFrame({"drg_code": GROUPS})
    cases = pl.DataFrame({"drg_code": [*GROUPS, *UNCATALOGUED]})
    return KeyCodes.of(cases, hospitals, groups, MONTHS)


ROWS = st.fixed_dictionaries(
    {
        "hospital_id": st.sampled_from(HOSPITALS),
        "drg_code": st.sampled_from(GROUPS + UNCATALOGUED),
        "level": st.sampled_from([0, 1, 2, 3]),
        "tier": st.sampled_from(TIERS),
        "month": st.sampled_from(MONTHS),
        "value": st.floats(-1e6, 1e6, allow_nan=False),
    }
)
KEYS = st.lists(
    st.sampled_from(["hospital_id", "drg_code", "level", "tier", "month"]),
    min_size=1,
    max_size=3,
    unique=True,
)


def frame(rows: list[dict[str, Any]]) -> pl.DataFrame:
    schema = {
        "hospital_id": pl.String,
        "drg_code": pl.String,
        "level": pl.Int64,
        "tier": pl.String,
        "month": pl.String,
        "value": pl.Float64,
    }
    return pl.DataFrame(rows, schema=schema)


@settings(max_examples=60, deadline=None)
@given(rows=st.lists(ROWS, min_size=1, max_size=40), columns=KEYS)
def test_packed_codes_sort_and_group_as_the_key_columns(
    rows: list[dict[str, Any]], columns: list[str]
) -> None:
    data = frame(rows)
    packed = data.select(codes().packed(data, columns).alias("code"))["code"]
    by_keys = data.with_columns(code=packed).sort(columns, nulls_last=False)["code"]
    assert by_keys.is_sorted()  # codes sort as the keys do, nulls first
    distinct_keys = data.select(columns).unique().height
    assert packed.n_unique() == distinct_keys  # equal keys, equal code; different, different


@settings(max_examples=60, deadline=None)
@given(
    rows=st.lists(ROWS, min_size=1, max_size=40),
    sources=st.lists(ROWS, min_size=0, max_size=12),
    columns=KEYS,
    cut=st.integers(0, 3),
)
def test_bringing_values_by_code_is_a_left_join(
    rows: list[dict[str, Any]], sources: list[dict[str, Any]], columns: list[str], cut: int
) -> None:
    data = frame(rows)
    source = frame(sources).unique(columns, keep="first", maintain_order=True)
    source = source.with_columns(flag=pl.col("value") > 0, n=pl.col("value").round().cast(int))
    values = {"value": "got", "flag": "got_flag", "n": "got_n"}
    expected = data.join(
        source.select(*columns, *[pl.col(c).alias(n) for c, n in values.items()]),
        on=columns,
        how="left",
        maintain_order="left",
    )
    # on codes (SMALL lowered to 0): a dense gather, or a join on the code (DENSE_LIMIT
    # lowered to `cut`); and a join on the key columns, as for small frames
    for small, limit in ((0, keys.DENSE_LIMIT), (0, cut), (keys.SMALL, keys.DENSE_LIMIT)):
        original = keys.SMALL, keys.DENSE_LIMIT
        keys.SMALL, keys.DENSE_LIMIT = small, limit
        try:
            got = bring_values(codes(), data, source, columns, values)
        finally:
            keys.SMALL, keys.DENSE_LIMIT = original
        assert got.select(values.values()).equals(expected.select(values.values()))


@settings(max_examples=60, deadline=None)
@given(rows=st.lists(ROWS, min_size=1, max_size=40), columns=KEYS)
def test_grouping_by_code_is_a_group_by_in_key_order(
    rows: list[dict[str, Any]], columns: list[str]
) -> None:
    data = frame(rows)
    total = pl.col("value").sum().alias("total")
    got = group_rows(codes(), data, columns, [total, pl.len().alias("n")])
    expected = data.group_by(columns).agg(total, pl.len().alias("n")).sort(columns)
    assert got.select(*columns, "n").equals(expected.select(*columns, "n"))
    assert got["total"].to_list() == expected["total"].to_list()


@settings(max_examples=60, deadline=None)
@given(
    rows=st.lists(ROWS, min_size=1, max_size=40),
    onto=st.lists(ROWS, min_size=1, max_size=12),
    columns=KEYS,
    cut=st.integers(0, 3),
)
def test_values_grouped_and_brought_by_code_are_a_group_by_and_a_left_join(
    rows: list[dict[str, Any]], onto: list[dict[str, Any]], columns: list[str], cut: int
) -> None:
    """Values per packed code (as `RowValues.tallied` gives them, no key column) brought back
    by the code onto a frame of any size give polars' group-by on the key columns, joined on
    them: a row whose key is missing, or no case has, gets nothing (a null key's group matches
    no row)."""
    data, target = frame(rows), frame(onto)
    aggregates = [pl.col("value").sum().alias("total"), pl.len().alias("n")]
    grouped = data.group_by(columns).agg(aggregates)
    expected = target.join(grouped, on=columns, how="left", maintain_order="left")
    by_code = data.group_by(codes().packed(data, columns).alias("__code")).agg(aggregates)
    for limit in (keys.DENSE_LIMIT, cut):  # a dense gather, or a join on the code
        original, keys.DENSE_LIMIT = keys.DENSE_LIMIT, limit
        try:
            got = bring_coded(codes(), target, by_code, columns, {"total": "total", "n": "n"})
        finally:
            keys.DENSE_LIMIT = original
        assert got.select("n").equals(expected.select("n"))
        assert got["total"].to_list() == expected["total"].to_list()


@settings(max_examples=60, deadline=None)
@given(rows=st.lists(ROWS, min_size=0, max_size=40), columns=KEYS, carried=st.booleans())
def test_distinct_rows_by_code_are_the_unique_rows(
    rows: list[dict[str, Any]], columns: list[str], carried: bool
) -> None:
    """The rows of a grain made from the cases: by the packed code where the frame carries the
    keys' codes (as the cases do), else `unique`; the same rows either way."""
    data = frame(rows)
    found = codes()
    if carried:
        data = data.with_columns(
            found.encode(c, pl.col(c)).alias(keys.code_column(c)) for c in columns
        )
    kept = [*columns, *keys.carried_codes(data, columns)]
    got = keys.distinct_rows(found, data, columns, kept).sort(columns)
    assert got.equals(data.select(kept).unique().sort(columns))
    assert got.height == data.select(columns).n_unique() if rows else got.height == 0


def test_a_value_the_run_does_not_have_matches_no_row() -> None:
    data = pl.DataFrame({"drg_code": ["AA19", "XX99", None] * keys.SMALL})
    source = pl.DataFrame({"drg_code": ["AA19", "XX99"], "w": [1.5, 9.0]})
    got = bring_values(codes(), data, source, ["drg_code"], {"w": "w"})
    assert got["w"].to_list() == [1.5, None, None] * keys.SMALL


def test_month_codes_are_read_off_the_discharge_date() -> None:
    policy = load_policy(POLICIES / "xuancheng" / "2024.policy")
    inputs = load_data(SAMPLE, policy)
    for label in ("2024", "2024-03", "2024-12"):
        data = RunData.build(
            inputs.cases, inputs.hospitals, inputs.groups, inputs.budget, Period.parse(label)
        )
        from_labels = data.codes.encode("month", pl.col("month"))
        assert data.cases.select((pl.col("__code_month") == from_labels).all()).item()
        assert data.cases["__code_month"].min() == 1


def test_the_language_references_comparison_examples() -> None:
    """docs/language.md, "Expressions": what the tolerance does, at both ends of the scale."""
    assert near_compare(">=", 1.99999999999999, 2.0, max)  # a cost ratio counted as 2
    assert not near_compare(">=", 1.9999999999999, 2.0, max)  # 1e-13 below: not within it
    total = 2_000_000_000_000.0  # 2 × 10¹² 元: within 2 fen
    assert near_compare("==", total + 0.01, total, max)  # a fen apart: equal
    assert near_compare("<", total, total + 0.01, max) is False
    assert not near_compare("==", total + 0.03, total, max)
    assert not near_compare("==", 100_000_000.01, 100_000_000.0, max)  # a city's: a fen counts
    assert not near_compare("==", 99_999_999_999.99, 99_999_999_999.98, max)  # below 10¹¹ 元


def test_thresholds_at_hand_computed_points() -> None:
    # 0.4 − 0.4·1e-14 lies within the tolerance: counted as 0.4
    assert near_compare("<=", 0.4 * (1 + 0.9e-14), 0.4, max)
    assert near_threshold("<=", 0.4) >= 0.4 * (1 + 0.9e-14)
    assert near_threshold("<", 0.0) == -5e-324  # strictly below zero
    assert near_threshold(">=", 0.0) == 0.0


CONSTANTS = st.one_of(
    st.sampled_from([0.0, 0.3, 0.4, 1.0, 2.5, 100.0, 300.0, -2.0, 1e9]),
    st.floats(-1e12, 1e12, allow_nan=False, allow_infinity=False),
)


@settings(max_examples=300, deadline=None)
@given(
    op=st.sampled_from(["<", "<=", ">", ">=", "==", "!="]),
    constant=CONSTANTS,
    offsets=st.lists(st.integers(-40, 40), min_size=1, max_size=20),
    scale=st.sampled_from([0.0, 1e-16, 1e-15, 1e-14, 3e-14, 1e-13, 1e-3]),
)
def test_exact_thresholds_decide_as_the_tolerance_does(
    op: str, constant: float, offsets: list[int], scale: float
) -> None:
    values = [constant + k * scale * max(abs(constant), 1e-300) / 10 for k in offsets]
    values += [math.nextafter(v, math.inf) for v in values] + [-constant, constant * 2]
    expected = [near_compare(op, v, constant, max) for v in values]
    got = pl.select(near_constant(op, pl.lit(pl.Series(values)), constant)).to_series()
    assert got.to_list() == expected


@settings(max_examples=60, deadline=None)
@given(
    texts=st.lists(
        st.sampled_from(["BB11", "BB17", "AA13", "ZZ91", "XQY", "", "0000", "B", None]),
        min_size=8,
        max_size=60,
    ),
    month=st.sampled_from([*MONTHS, None]),
)
def test_a_key_given_by_no_cc_of_a_text_reaches_the_rows_as_a_join_on_it(
    texts: list[str | None], month: str | None
) -> None:
    """`base_points[group = no_cc(secondary_drg)]` by the codes of each distinct text
    (`codes_of_texts`, a code column in place of the key column) brings what a left join on the
    no-CC group computed row by row (`catalog.no_cc_expr`) brings: BB11 and BB17 to BB15, AA13
    to AA19, ZZ91 to ZZ99, the others (no such ADRG) to nothing."""
    texts = texts * 5  # at most 9 distinct texts in 40 or more rows: mapped once each
    groups = catalog.no_cc_groups(GROUPS)
    assert groups == {"AA1": "AA19", "BB1": "BB15", "ZZ9": "ZZ99"}
    data = pl.DataFrame(
        {"text": texts, "month": [month] * len(texts)},
        schema={"text": pl.String, "month": pl.String},
    )
    source = pl.DataFrame(
        {
            "drg_code": [g for g in GROUPS for _ in MONTHS],
            "month": MONTHS * len(GROUPS),
            "w": [float(i) for i in range(len(GROUPS) * len(MONTHS))],
        }
    )
    found = keys.codes_of_texts(
        codes(), "drg_code", data["text"], catalog.no_cc_expr(pl.col("text"), groups)
    )
    assert found is not None
    coded = data.with_columns(found.alias(keys.code_column("given")))
    original = keys.SMALL
    keys.SMALL = 0
    try:
        got = bring_values(
            codes(), coded, source, ["drg_code", "month"], {"w": "w"}, ["given", "month"]
        )
    finally:
        keys.SMALL = original
    by_join = data.with_columns(given=catalog.no_cc_expr(pl.col("text"), groups)).join(
        source,
        left_on=["given", "month"],
        right_on=["drg_code", "month"],
        how="left",
        maintain_order="left",
    )
    assert got["w"].to_list() == by_join["w"].to_list()
    paid = {"BB11": "BB15", "BB17": "BB15", "AA13": "AA19", "ZZ91": "ZZ99"}
    assert got["w"].is_not_null().to_list() == [t in paid and month is not None for t in texts]


def test_texts_mostly_distinct_are_left_to_the_row_by_row_function() -> None:
    texts = pl.Series("t", [f"BB{i:02d}" for i in range(40)])
    assert keys.codes_of_texts(codes(), "drg_code", texts, pl.col("t")) is None
    missing = pl.Series("t", [None, None], dtype=pl.String)
    assert keys.codes_of_texts(codes(), "drg_code", missing, pl.col("t")) is None


def test_a_missing_text_takes_the_value_the_function_gives_it() -> None:
    """The function is evaluated at a missing text too: `if_missing(t, "ZZ99")` codes a null
    row as ZZ99's code (6: the sixth of 0000, AA19, AQY, BB13, BB15, ZZ99), a text the run does
    not have as null, a group as its own code."""
    texts = pl.Series("t", ["BB13", None, "QQ", "BB13", "AA19", None, "BB13", "BB13"] * 4)
    value = pl.coalesce(pl.col("t"), pl.lit("ZZ99"))
    found = keys.codes_of_texts(codes(), "drg_code", texts, value)
    assert found is not None
    assert found.to_list() == [4, 6, None, 4, 2, 6, 4, 4] * 4


def test_a_function_giving_another_type_than_the_key_is_left_to_the_rows() -> None:
    texts = pl.Series("t", ["BB13", "AA19"] * 20)
    assert keys.codes_of_texts(codes(), "drg_code", texts, pl.col("t").str.len_chars()) is None


LEVEL_TIER = {"H01": (1, "B"), "H02": (3, "A"), "H10": (2, None), "H2": (0, "A")}


@settings(max_examples=60, deadline=None)
@given(
    rows=st.lists(ROWS, min_size=0, max_size=40),
    columns=KEYS.filter(lambda c: "hospital_id" in c and not {"level", "tier"} & set(c)),
    streamed=st.booleans(),
)
def test_grouping_keeps_the_keys_and_carried_columns_with_their_codes(
    rows: list[dict[str, Any]], columns: list[str], streamed: bool
) -> None:
    """The kept columns (the keys, and `carried` ones constant within a group: a hospital's
    level and tier) and the code columns the frame has for them, read at one row of each group:
    the same columns, in the same order, as each taken `first` in a group-by on the keys."""
    data = frame(rows).with_columns(
        pl.col("hospital_id")
        .replace_strict({h: v[0] for h, v in LEVEL_TIER.items()})
        .alias("level"),
        pl.col("hospital_id")
        .replace_strict({h: v[1] for h, v in LEVEL_TIER.items()})
        .alias("tier"),
    )
    found = codes()
    carried = ["level", "tier"]
    data = data.with_columns(
        found.encode(c, pl.col(c)).alias(keys.code_column(c)) for c in [*columns, *carried]
    )
    coded = keys.carried_codes(data, [*columns, *carried])
    total = pl.col("value").sum().alias("total")
    got = group_rows(found, data, columns, [total, pl.len().alias("n")], carried, streamed=streamed)
    kept = [pl.col(c).first() for c in [*carried, *coded]]
    expected = data.group_by(columns).agg(*kept, total, pl.len().alias("n")).sort(columns)
    assert got.columns == [*columns, *carried, *coded, "total", "n"]
    assert got.drop("total").equals(expected.select(got.columns).drop("total"))
    assert got["total"].to_list() == pytest.approx(expected["total"].to_list())
