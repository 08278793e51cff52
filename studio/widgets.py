"""Widgets more than one page uses: choosing a policy (a saved version or the editor's buffer)
and a dataset (the bundled sample, a generated city, or uploaded files checked against the
contract). Every text they show that a policy, a file or a user wrote is escaped
(`engine.page.markup`): Streamlit renders it as Markdown."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import polars as pl
import streamlit as st

from engine.commands.validate import render as render_findings
from engine.inputs.contract import ContractError, Inputs
from engine.inputs.reading import ENCODINGS
from engine.inputs.validation import validate_folder
from engine.page.markup import markdown_text as md
from policy_dsl import ir
from policy_dsl.diagnostics import PolicyErrors
from policy_dsl.errors import PolicyError
from studio import cache, datasets, explain_link, state, workspace

BUFFER = "editor buffer (unsaved)"
SAMPLE, GENERATED, UPLOADED = "bundled sample", "generated city", "uploaded files"
FOLDER = "a folder on this machine"


@dataclass(frozen=True)
class Chosen:
    """A policy picked on a page: its label, its city and its text."""

    label: str
    city: str
    text: str


def version_options(root: Path, city: str) -> list[str]:
    """The saved versions of a city, newest first, and the editor's buffer when it is of this
    city."""
    names = [v.version for v in workspace.version_files(root, city)]
    options = sorted(names, reverse=True)
    if st.session_state.get(state.BUFFER_CITY) == city and st.session_state.get(state.BUFFER_TEXT):
        options.append(BUFFER)
    return options


def shown_label(option: str, version: str) -> str:
    """A version as a page names it: `2024`, or `2024 (editor buffer)` for the unsaved buffer."""
    return f"{version} (editor buffer)" if option == BUFFER else version


def policy_text(root: Path, city: str, option: str) -> str:
    if option == BUFFER:
        return str(st.session_state.get(state.BUFFER_TEXT, ""))
    return workspace.saved_path(root, city, option).read_text(encoding="utf-8")


def pick_city(root: Path, key: str) -> str | None:
    names = workspace.cities(root)
    if not names:
        st.warning(f"No city folders with .policy files under {md(root)}.")
        return None
    default = st.session_state.get(state.BUFFER_CITY)
    index = names.index(default) if default in names else 0
    return st.selectbox("City", names, index=index, key=key, persist_state="session")


def pick_version(root: Path, city: str, label: str, key: str, index: int = 0) -> Chosen:
    options = version_options(root, city)
    option = st.selectbox(
        label, options, index=min(index, len(options) - 1), key=key, persist_state="session"
    )
    return Chosen(option, city, policy_text(root, city, option))


def compiled(root: Path, chosen: Chosen) -> ir.Policy | None:
    """The chosen policy compiled, or None with its errors shown."""
    try:
        return cache.policy(root, chosen.city, chosen.text)
    except PolicyErrors as exc:
        st.error(f"{md(chosen.label)} does not check: fix it in the Editor first.")
        st.code("\n\n".join(d.render() for d in exc.diagnostics), language=None)
        return None


# ---- datasets -------------------------------------------------------------------------------


def pick_dataset(prefix: str) -> datasets.Dataset | None:
    """A dataset: the bundled sample, a generated city (made once, cached on disk) or uploaded
    files — all four parts, or those not uploaded taken from the sample when the analyst ticks
    it, and then said under the uploader."""
    kind = st.radio(
        "Dataset",
        [SAMPLE, GENERATED, UPLOADED, FOLDER],
        horizontal=True,
        key=f"{prefix}_data_kind",
        persist_state="session",
    )
    if kind == SAMPLE:
        return datasets.sample(workspace.data_root())
    if kind == FOLDER:
        return _local(prefix)
    if kind == GENERATED:
        left, right = st.columns(2)
        cases = left.number_input(
            "cases",
            1000,
            2_000_000,
            100_000,
            step=10_000,
            key=f"{prefix}_gen_cases",
            persist_state="session",
        )
        seed = right.number_input(
            "seed", 0, 10_000, 7, key=f"{prefix}_gen_seed", persist_state="session"
        )
        with st.spinner(f"Generating a city of {int(cases):,} cases (once; then cached)…"):
            folder = cache.generated(str(workspace.cache_root()), int(cases), int(seed))
        return datasets.generated(folder, int(cases), int(seed))
    return _uploaded(prefix)


def _local(prefix: str) -> datasets.Dataset | None:
    """A data folder on this machine by its path, with the encoding of its CSV files; it is
    checked against the data contract when the page loads it, as `settle --data` checks one."""
    left, right = st.columns([4, 1])
    path = left.text_input(
        "Data folder (cases, hospitals, groups and budget.yaml, as for `drgpolicy settle --data`)",
        key=f"{prefix}_folder",
        persist_state="session",
        placeholder="/path/to/data",
    )
    encoding = right.radio(
        "CSV encoding",
        sorted(ENCODINGS, reverse=True),
        key=f"{prefix}_encoding",
        persist_state="session",
        help="utf8, or gbk (GBK / GB18030) for files saved by Excel and many Chinese systems",
    )
    if not path.strip():
        st.info("Give the path of a data folder on the machine the studio runs on.")
        return None
    dataset = datasets.local(path, str(encoding))
    if st.button("Check the folder (as `drgpolicy validate --data`)", key=f"{prefix}_validate"):
        with st.spinner("Reading the folder as a settlement would…"):
            try:
                findings = validate_folder(dataset.folder, encoding=dataset.encoding)
            except ContractError as exc:
                st.error(md(exc))
            else:
                shown = st.success if findings.clean else st.warning
                shown("Nothing would be rejected." if findings.clean else "Not clean: see below.")
                st.code(render_findings(findings), language=None)
    return dataset


#: The choice that lets an upload take the parts it lacks from the bundled sample.
BORROW = (
    "Take the parts I do not upload from the bundled sample (as they are: its budget is not "
    "scaled to my cases)"
)


def _uploaded(prefix: str) -> datasets.Dataset | None:
    files = st.file_uploader(
        "A dataset's parts: cases, hospitals and groups (.csv or .parquet) and budget.yaml; "
        "deductions and assessments (.csv or .parquet) where the policies read them",
        type=["csv", "parquet", "yaml"],
        accept_multiple_files=True,
        key=f"{prefix}_uploads",
    )
    borrow = st.checkbox(BORROW, key=f"{prefix}_borrow", persist_state="session")
    handed = st.session_state.get(explain_link.HANDED) if prefix == "explain" else None
    if not files and isinstance(handed, datasets.Dataset):
        st.caption(f"The dataset of the What-if run: {md(handed.label)}.")
        return handed
    if not files:
        st.info("Upload the dataset's files.")
        return None
    try:
        dataset = datasets.uploaded(
            workspace.cache_root(),
            {f.name: f.getvalue() for f in files},
            workspace.data_root(),
            borrow=bool(borrow),
        )
    except ContractError as exc:
        st.error(md(exc))
        return None
    if dataset.borrowed:
        st.warning(borrowed_text(dataset), icon=":material/merge_type:")
    return dataset


def borrowed_text(dataset: datasets.Dataset) -> str:
    """What an upload took from the bundled sample, as the pages say it (Markdown)."""
    names = ", ".join(md(name) for name in dataset.borrowed)
    budget = (
        ": its budget is the sample's whole city's, not scaled to the uploaded cases"
        if datasets.BUDGET in dataset.borrowed
        else ""
    )
    return f"Taken from the bundled sample, as they are: {names}{budget}."


def loaded_inputs(dataset: datasets.Dataset, policy: ir.Policy) -> Inputs | None:
    """The inputs checked against the contract; a file-level problem is shown, rejected rows
    are listed."""
    try:
        inputs = cache.inputs(dataset.folder, policy, dataset.encoding)
    except (ContractError, PolicyError) as exc:
        st.error(f"The dataset does not meet the data contract: {md(exc)}")
        return None
    show_rejects(inputs.rejects)
    return inputs


#: Rejected rows listed one by one (the rest are counted by file and reason).
REJECTS_LISTED = 50


def show_rejects(rejects: pl.DataFrame) -> None:
    """How many input rows the contract rejected, per file, then each with its file, row, key,
    field, reason and value (the first `REJECTS_LISTED` as text; all of them in a table)."""
    if not rejects.height:
        return
    per_file = rejects.group_by("file").len().sort("file").iter_rows()
    st.warning(
        f"{rejects.height:,} input row(s) rejected by the data contract ("
        + ", ".join(f"{md(file)}: {count:,}" for file, count in per_file)
        + "): they are left out of the run.",
        icon=":material/rule:",
    )
    with st.expander("Rejected rows: file, row, reason"):
        listed = rejects.select("file", "row", "key", "field", "reason", "value")
        st.table(markdown_cells(listed.head(REJECTS_LISTED)).to_pandas(), hide_index=True)
        if rejects.height > REJECTS_LISTED:
            st.dataframe(listed, hide_index=True)


def markdown_cells(frame: pl.DataFrame) -> pl.DataFrame:
    """The text columns of a frame escaped for `st.table`, which renders each cell as
    Markdown (`st.dataframe` shows text as it is)."""
    text = [name for name, dtype in frame.schema.items() if dtype == pl.String]
    return frame.with_columns(
        pl.col(name).map_elements(md, return_dtype=pl.String) for name in text
    )


__all__ = [
    "BORROW",
    "BUFFER",
    "Chosen",
    "borrowed_text",
    "compiled",
    "loaded_inputs",
    "markdown_cells",
    "pick_city",
    "pick_dataset",
    "pick_version",
    "show_rejects",
    "shown_label",
    "version_options",
]
