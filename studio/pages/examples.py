"""Examples: run a city's example tests (examples/*.yaml) and show each failure as expected /
got, with the trace of the failing case."""

from __future__ import annotations

import streamlit as st

from engine.page.markup import markdown_text as md
from studio import examples_run, formats, widgets, workspace

root = workspace.policies_root()
st.title("Example tests")

city = widgets.pick_city(root, "examples_city")
if city is None:
    st.stop()
files = examples_run.files(root, city)
if not files:
    st.info(md(f"{city} has no examples (policies/{city}/examples/*.yaml)."))
    st.stop()
st.caption(md(f"{len(files)} example(s) in {city}/examples/"))

if st.button("Run examples", type="primary", key="examples_run"):
    with st.spinner("Running examples…"):
        st.session_state["examples_results"] = (city, examples_run.run_all(files))
stored = st.session_state.get("examples_results")
if not stored or stored[0] != city:
    st.stop()

results = stored[1]
passed = sum(r.status == "pass" for r in results)
failed = len(results) - passed
summary = f"{passed} passed, {failed} failed"
(st.success if not failed else st.error)(summary)
for result in results:
    icon = {"pass": ":material/check_circle:", "fail": ":material/cancel:"}.get(
        result.status, ":material/warning:"
    )
    with st.expander(
        f"{md(result.name)} — {md(result.title)}", expanded=result.status != "pass", icon=icon
    ):
        if result.error:
            st.error(md(result.error))
        if result.mismatches:
            formats.table(
                examples_run.mismatch_frame(result),
                {"where": "位置 where", "value": "值 value", "expected": "预期 expected"}
                | {"got": "结果 got"},
                width="stretch",
            )
            for mismatch in result.mismatches:
                if mismatch.trace:
                    st.markdown(f"**Trace of {md(mismatch.where)}**")
                    st.code(mismatch.trace, language=None)
