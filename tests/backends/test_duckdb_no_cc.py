"""`no_cc` on DuckDB as a MAP literal read by the ADRG (`Database.map_lookup`): the group
`catalog.no_cc_code` gives each code, row by row in Python, as the CASE of every ADRG gives it
(Spark's lowering)."""

from __future__ import annotations

import duckdb
from hypothesis import given
from hypothesis import strategies as st
from sqlglot import exp

from engine.inputs.catalog import no_cc_code, no_cc_groups
from engine.plan.sql import build as b
from engine.plan.sql.expressions import no_cc

GROUPS = no_cc_groups(["GB11", "GB13", "GB15", "GE29", "XA11", "XA13", "AA19", "AB15"])
#: Codes of a listed ADRG, of an ADRG without a no-CC group, short, empty, other letters.
CODES = st.one_of(
    st.none(),
    st.sampled_from(["GB11", "GB17", "GE2", "XA11", "AB1", "AA", "", "0000", "gb11", "ÅB15"]),
    st.text(max_size=5),
)


@given(st.lists(CODES, min_size=1, max_size=20))
def test_no_cc_as_a_map_gives_each_code_its_group(codes: list[str | None]) -> None:
    con = duckdb.connect()
    rows = exp.Values(expressions=[exp.Tuple(expressions=[_text(c)]) for c in codes])
    source = exp.select(exp.Star()).from_(rows.as_("v", table=["code"], quoted=True))
    found = {}
    for as_map in (True, False):
        query = exp.select(b.alias(no_cc(b.col("code"), GROUPS, as_map), "g")).from_(
            source.subquery("s")
        )
        found[as_map] = [r[0] for r in con.execute(query.sql(dialect="duckdb")).fetchall()]
    assert sorted(found[True], key=str) == sorted(found[False], key=str)
    expected = sorted((no_cc_code(c, GROUPS) for c in codes), key=str)
    assert sorted(found[True], key=str) == expected


def _text(code: str | None) -> b.Node:
    return b.cast(b.null(), "VARCHAR") if code is None else b.text(code)
