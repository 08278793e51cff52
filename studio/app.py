"""The drgpolicy studio (政策工作室): `drgpolicy studio` runs this file with `streamlit run`.

Pages: Editor, Versions, What-if, Explain, Monitoring, Examples. The policies root is
`DRGPOLICY_POLICIES` (default `policies`), the bundled data `DRGPOLICY_DATA` (default `sample`).
"""

from __future__ import annotations

from pathlib import Path

import streamlit as st

from engine.page.markup import markdown_code as md_code
from studio import workspace
from studio.preload import preload

HERE = Path(__file__).parent

st.set_page_config(page_title="drgpolicy studio", page_icon="📜", layout="wide")
preload()  # before any page: each session runs in a thread of its own

PAGES = [
    st.Page(
        HERE / "pages" / "editor.py", title="Editor", icon=":material/edit_note:", default=True
    ),
    st.Page(HERE / "pages" / "versions.py", title="Versions", icon=":material/history:"),
    st.Page(HERE / "pages" / "whatif.py", title="What-if", icon=":material/query_stats:"),
    st.Page(HERE / "pages" / "explain.py", title="Explain", icon=":material/account_tree:"),
    st.Page(HERE / "pages" / "monitoring.py", title="Monitoring", icon=":material/monitoring:"),
    st.Page(HERE / "pages" / "examples.py", title="Examples", icon=":material/fact_check:"),
]

page = st.navigation(PAGES)
with st.sidebar:
    st.caption("drgpolicy studio — DRG payment policies as data")
    st.caption(f"Policies: {md_code(workspace.policies_root())}")
    st.caption(f"Data: {md_code(workspace.data_root())}")
page.run()
