"""Every library the engine and the language import is a declared dependency of the package:
`pip install drgpolicy` without the studio's extra must run `settle`. numpy and pyarrow came in
only through streamlit (the `studio` extra) until this test."""

from __future__ import annotations

import ast
import re
import sys
import tomllib
from importlib.metadata import packages_distributions
from pathlib import Path

import pytest

from engine.plan.sql import backends
from policy_dsl.errors import PolicyError

ROOT = Path(__file__).resolve().parents[2]


def _declared(extra: str | None = None) -> set[str]:
    project = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["project"]
    listed = project["dependencies"] if extra is None else project["optional-dependencies"][extra]
    return {re.split(r"[<>=!~\[; ]", item, maxsplit=1)[0].lower() for item in listed}


def _imported(folders: list[str]) -> set[str]:
    """Top-level modules imported by the packages' code, less the standard library and ours."""
    found: set[str] = set()
    for folder in folders:
        for file in (ROOT / folder).rglob("*.py"):
            for node in ast.walk(ast.parse(file.read_text(encoding="utf-8"))):
                if isinstance(node, ast.Import):
                    found.update(alias.name.split(".")[0] for alias in node.names)
                elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
                    found.add(node.module.split(".")[0])
    ours = {"engine", "policy_dsl", "studio"}
    return {m for m in found if m not in sys.stdlib_module_names and m not in ours}


def _distributions(modules: set[str]) -> dict[str, set[str]]:
    by_module = packages_distributions()
    return {m: {d.lower() for d in by_module.get(m, [m])} for m in modules}


def test_the_engine_and_the_language_import_only_declared_libraries() -> None:
    """What the engine imports is in `dependencies`; pyspark, imported only on `--backend
    spark`, in the `spark` extra, streamlit (`drgpolicy studio`) in the `studio` one: the
    commands say which to install when it is missing."""
    declared = {None: _declared(), "spark": _declared("spark"), "studio": _declared("studio")}
    extra_of = {"pyspark": "spark", "streamlit": "studio"}
    missing = {
        module: names
        for module, names in _distributions(_imported(["engine", "policy_dsl"])).items()
        if not names & declared[extra_of.get(module)]
    }
    assert not missing, f"imported but not declared in pyproject.toml: {missing}"


def test_spark_without_pyspark_says_how_to_install_it(monkeypatch: pytest.MonkeyPatch) -> None:
    real = backends.find_spec
    monkeypatch.setattr(
        backends, "find_spec", lambda name: None if name == "pyspark" else real(name)
    )
    with pytest.raises(PolicyError, match=r"pip install 'drgpolicy\[spark\]'"):
        backends.open_database("spark")


def test_the_studio_imports_only_declared_libraries() -> None:
    declared = _declared() | _declared("studio")
    missing = {
        module: names
        for module, names in _distributions(_imported(["studio"])).items()
        if not names & declared
    }
    assert not missing, f"the studio imports what neither list declares: {missing}"
