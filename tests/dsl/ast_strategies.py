"""Hypothesis strategies for syntax trees of the policy language (`policy_dsl.ast`).

Every node kind is generated, with sane names (never a keyword), and with the shapes the
grammar can express (e.g. a table key is a plain number, a text or a boolean; a parameter value
is a literal or a negated one). Trees need not make sense to the checker: they are for the
parser and the formatter, whose round trip must hold for anything the grammar accepts.
"""

from __future__ import annotations

import datetime as dt

from hypothesis import strategies as st

from policy_dsl import ast as a

#: Names that are not keywords of the language in any position.
NAMES = (
    "total_cost",
    "base_points",
    "cost_ratio",
    "level",
    "high_k",
    "fund",
    "category",
    "normal",
    "high",
    "low",
    "x",
    "y2",
    "_tmp",
    "point_value",
    "settled_points",
    "no_cc",
    "max",
    "mean",
    "sum",
    "count",
    "hospital",
    "group",
    "case",
    "monthly",
    "year_end",
    "xc2024",
)
names = st.sampled_from(NAMES)
name_tuples = st.lists(names, min_size=1, max_size=3).map(tuple)

#: Text with Chinese, quotes, backslashes, `#` and full-width punctuation: all legal in quotes.
texts = st.text(alphabet=st.sampled_from(list('ab 宣城病例点数"\\#：（）%‰¥元-,.[]')), max_size=12)
decimals = st.decimals(
    min_value=0, max_value=10**7, places=3, allow_nan=False, allow_infinity=False
)
LITERAL_KINDS = ("number", "percent", "permille", "money", "points")


def numbers(kinds: tuple[str, ...] = LITERAL_KINDS) -> st.SearchStrategy[a.Number]:
    return st.builds(a.Number, decimals, st.sampled_from(kinds))


dates = st.dates(min_value=dt.date(1990, 1, 1), max_value=dt.date(2099, 12, 31))
literals: st.SearchStrategy[a.Expr] = st.one_of(
    numbers(),
    st.builds(a.Bool, st.booleans()),
    st.builds(a.Text, texts),
    st.builds(a.Date, dates),
)
signed_literals: st.SearchStrategy[a.Expr] = st.one_of(literals, numbers().map(lambda n: a.Neg(n)))


def expressions(
    names: st.SearchStrategy[str] = names, max_leaves: int = 12
) -> st.SearchStrategy[a.Expr]:
    """Expressions of every kind whose names are drawn from `names`."""
    some_names = st.lists(names, min_size=1, max_size=3).map(tuple)

    def compound(children: st.SearchStrategy[a.Expr]) -> st.SearchStrategy[a.Expr]:
        maybe = st.none() | children
        return st.one_of(
            st.builds(a.Lookup, names, children),
            st.builds(
                a.Rekeyed,
                names,
                st.lists(st.builds(a.Rekey, names, children), min_size=1, max_size=2).map(tuple),
            ),
            st.builds(a.Call, names, st.lists(children, max_size=3).map(tuple), maybe),
            st.builds(
                a.Rank,
                st.lists(
                    st.builds(a.OrderKey, children, st.booleans()), min_size=1, max_size=2
                ).map(tuple),
                some_names,
                maybe,
            ),
            st.builds(a.Neg, children),
            st.builds(a.Binary, st.sampled_from("+-*/"), children, children),
            st.builds(
                a.Compare, st.sampled_from(["==", "!=", "<", "<=", ">", ">="]), children, children
            ),
            st.builds(a.IsClass, children, names, st.booleans()),
            st.builds(a.InClasses, children, some_names),
            st.builds(a.And, st.lists(children, min_size=2, max_size=3).map(tuple)),
            st.builds(a.Or, st.lists(children, min_size=2, max_size=3).map(tuple)),
            st.builds(a.Not, children),
            st.builds(
                a.If,
                st.lists(st.builds(a.Branch, children, children), min_size=1, max_size=2).map(
                    tuple
                ),
                children,
            ),
        )

    leaves = st.one_of(
        literals,
        st.builds(a.Name, names),
        st.builds(a.StageRef, names, names),
        st.just(a.Current()),
    )
    return st.recursive(leaves, compound, max_leaves=max_leaves)


exprs = expressions()

# ---- declarations --------------------------------------------------------------------

citations = st.lists(
    st.one_of(
        st.builds(a.Source, names, st.none() | texts),
        st.builds(a.Assumption, texts),
    ),
    max_size=2,
).map(tuple)
grains = st.builds(a.Grain, name_tuples)
type_names = st.none() | names
overrides = st.booleans()

document_values: st.SearchStrategy[a.DocumentValue] = st.one_of(
    st.builds(a.Text, texts),
    st.builds(a.Date, dates),
    st.builds(a.Name, names | st.sampled_from(["none", "report", "in_force", "draft"])),
    numbers(("number",)),
)


document_fields = st.lists(
    st.builds(a.DocumentField, st.sampled_from(a.DOCUMENT_FIELDS) | names, document_values),
    max_size=6,
    unique_by=lambda f: f.name,
).map(a.Document.in_order)  # the parser puts the fields in this order
documents = st.builds(a.Document, names, texts, document_fields, override=overrides)
inputs = st.builds(
    a.Input, names, names, texts, st.none() | grains, names, citations, override=overrides
)
bounds = signed_literals
param_ranges = st.builds(a.ParamRange, bounds, st.booleans(), st.none() | bounds, st.booleans())
params = st.builds(
    a.Param,
    names,
    texts,
    names,
    signed_literals,
    citations,
    st.none() | param_ranges,
    override=overrides,
)
range_rows = st.builds(
    a.RangeRow, bounds, st.booleans(), st.none() | bounds, st.booleans(), signed_literals
)
key_literals = st.one_of(
    numbers(("number",)), st.builds(a.Text, texts), st.builds(a.Bool, st.booleans())
)
key_rows = st.builds(a.KeyRow, key_literals, signed_literals)
default_rows = st.builds(a.DefaultRow, signed_literals)


def _expressible(table: a.Table) -> bool:
    """The one tree the grammar cannot write: a `source` without article right before a row
    whose key is a text (the text would be read as the article; E001 explains this)."""
    last = table.citations[-1] if table.citations else None
    first = table.rows[0]
    return not (
        isinstance(last, a.Source)
        and last.article is None
        and isinstance(first, a.KeyRow)
        and isinstance(first.key, a.Text)
    )


tables = st.builds(
    a.Table,
    names,
    texts,
    names,
    names,
    st.lists(st.one_of(range_rows, key_rows, default_rows), min_size=1, max_size=4).map(tuple),
    citations,
    override=overrides,
).filter(_expressible)
lets = st.builds(
    a.Let, names, texts, type_names, grains, exprs, citations, st.booleans(), override=overrides
)
class_arms = st.builds(a.ClassArm, names, texts, st.none() | exprs, citations)
classifies = st.builds(
    a.Classify,
    names,
    texts,
    st.lists(class_arms, min_size=1, max_size=3).map(tuple),
    citations,
    override=overrides,
)
formula_arms = st.builds(a.FormulaArm, st.none() | names, exprs, citations)
formulas = st.builds(
    a.Formula,
    names,
    texts,
    type_names,
    names,
    st.lists(formula_arms, min_size=1, max_size=3).map(tuple),
    citations,
    override=overrides,
)
steps = st.builds(a.Step, names, texts, exprs, exprs, citations)
adjusts = st.builds(
    a.Adjust,
    names,
    texts,
    type_names,
    exprs,
    st.lists(steps, min_size=1, max_size=3).map(tuple),
    citations,
    override=overrides,
)
rules = st.one_of(
    st.builds(a.Monotone, names, names),
    st.builds(a.Always, exprs),
    st.builds(a.Closes, names, names),
)
invariants = st.builds(a.Invariant, names, texts, rules, citations, override=overrides)
grain_words = st.lists(names, min_size=1, max_size=3).map(tuple)
indicators = st.builds(
    a.Indicator,
    names,
    texts,
    names,
    grain_words,
    exprs,
    st.none() | texts,
    st.none() | exprs,
    citations,
    override=overrides,
)
targets = st.builds(
    a.Target,
    names,
    texts,
    names,
    st.sampled_from(["==", "!=", "<", "<=", ">", ">="]),
    exprs,
    st.lists(names, max_size=2).map(tuple),
    citations,
    override=overrides,
)
declarations: st.SearchStrategy[a.Declaration] = st.one_of(
    documents,
    inputs,
    params,
    tables,
    lets,
    classifies,
    formulas,
    adjusts,
    invariants,
    indicators,
    targets,
)
stages = st.builds(
    a.Stage,
    names,
    texts,
    names,
    st.lists(declarations, max_size=3).map(tuple),
    citations,
)


@st.composite
def headers(draw: st.DrawFn) -> a.Header:
    start = draw(st.none() | dates)
    return a.Header(
        draw(names),
        draw(texts),
        draw(st.none() | texts),
        start,
        draw(st.none() | dates) if start is not None else None,
        draw(st.none() | texts),
        draw(st.none() | names),
        draw(st.lists(texts, max_size=2).map(tuple)),
    )


policies = st.builds(
    a.Policy,
    headers(),
    st.lists(declarations, max_size=4).map(tuple),
    st.lists(stages, max_size=2).map(tuple),
)

__all__ = ["declarations", "exprs", "policies"]
