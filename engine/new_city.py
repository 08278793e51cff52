"""A new city (新建城市): `drgpolicy init` and the studio's *＋ new city*.

A new city folder holds one version that checks clean and settles at once, one example test
that passes, and a `sources/` folder for the texts of its documents:

    policies/<city>/<year>.policy          a commented starting policy (in Chinese)
    policies/<city>/examples/starter.yaml  an example computed by hand
    policies/<city>/sources/README.md      where the documents' texts go

The policy is a template (`engine/templates/points.policy` or `rate.policy`, by payment
method): every number rests on an `assumption` to be replaced by the city's own rules; its
`document` is declared with placeholders and a `text` file still to be put in `sources/`.
`--from CITY/VERSION` starts instead from a version of another city: its rules, with those of
the versions it extends, in one file (`extends` cannot name another city's version), under the
same version name and dates, with the examples of that version.

The folder is written whole or not at all, beside its place then renamed in
(`engine.run.atomic.replace_folder`); a city folder that exists is never touched.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import re
from importlib import resources
from pathlib import Path
from string import Template

import yaml

from engine.run.atomic import replace_folder
from engine.run.run_lock import hold
from policy_dsl import ast as a
from policy_dsl.diagnostics import PolicyErrors
from policy_dsl.errors import PolicyError
from policy_dsl.format import format_policy
from policy_dsl.loader import Resolved, read_folder, read_policy_file, resolve
from policy_dsl.lower import compile_text
from policy_dsl.names import name_problem
from policy_dsl.parser import keywords, terminals
from policy_dsl.sources import FOLDER as SOURCES

#: Payment methods a new city can start with: 点数法, 费率法.
METHODS = ("points", "rate")
EXAMPLE = "examples/starter.yaml"


class NewCityError(PolicyError):
    """A new city that cannot be made: a bad name, an existing folder, an unknown `--from`."""


@dataclasses.dataclass(frozen=True)
class NewCity:
    """The folder made and the files in it (paths relative to the folder)."""

    folder: Path
    policy: str
    files: tuple[str, ...]


def create_city(
    root: Path,
    city: str,
    method: str = "points",
    year: int | None = None,
    start_from: str | None = None,
) -> NewCity:
    """Make `root/<city>` from the template of `method` for `year` (default: this year), or
    from the version `start_from` (`CITY/VERSION`) of another city under `root`. Refuses an
    existing folder; the policy is compiled before anything is written."""
    check_city_name(city)
    if method not in METHODS:
        raise NewCityError(f"unknown method `{method}`: give one of {', '.join(METHODS)}")
    this_year = dt.date.today().year
    if year is not None and not 1 <= year <= 9999:  # 0 is not "this year"
        raise NewCityError(f"--year {year} is not a year of a calendar date: give e.g. {this_year}")
    if start_from is None:
        files = template_files(city, method, this_year if year is None else year)
    elif year is not None:
        raise NewCityError(
            "--year makes a new template; a city started --from another keeps that version's "
            "name and dates (change them in the file)"
        )
    else:
        files = copied_files(root, city, start_from)
    policy = next(name for name in files if name.endswith(".policy"))
    _compiles(files[policy], root / city / policy)
    folder = root / city
    with hold(folder):
        if folder.exists() or folder.is_symlink():
            raise NewCityError(
                f"{folder} already exists: init never writes into an existing city; choose "
                "another name, or add a version to it (`＋ new version` in the studio)"
            )
        replace_folder(folder, lambda staging: _write(staging, files))
    return NewCity(folder, policy, tuple(files))


def check_city_name(city: str) -> None:
    """A city name is written in the policy's header (`policy hefei version "2026"`): a name of
    Latin letters, digits and `_`, not a keyword, and a plain folder name."""
    name = re.compile(terminals()["NAME"].pattern.to_regexp())
    if not name.fullmatch(city):
        raise NewCityError(
            f"city name `{city}` cannot stand in a policy's header (`policy {city} version …`): "
            "write it in Latin letters, digits and _, starting with a letter, e.g. hefei or "
            "ma_anshan (the Chinese name goes in the title)"
        )
    if city in keywords():
        raise NewCityError(f"city name `{city}` is a keyword of the language: choose another")
    problem = name_problem(city, "city")
    if problem:
        raise NewCityError(problem)


# ---- from the template -----------------------------------------------------------------------


def template_files(city: str, method: str, year: int) -> dict[str, str]:
    """The starting files of a city: its policy, its example, its sources README."""
    values = {"city": city, "year": str(year)}
    return {
        f"{year}.policy": _template(f"{method}.policy", values),
        EXAMPLE: _template(f"{method}.yaml", values),
        f"{SOURCES}/README.md": _template("sources.md", values),
    }


def _template(name: str, values: dict[str, str]) -> str:
    text = resources.files("engine").joinpath("templates", name).read_text(encoding="utf-8")
    return Template(text).substitute(values)


# ---- from another city's version -------------------------------------------------------------


def copied_files(root: Path, city: str, start_from: str) -> dict[str, str]:
    """A version of another city as the new city's one file, with that version's examples."""
    source_city, _, version = start_from.partition("/")
    problem = name_problem(source_city, "city") or name_problem(version, "version")
    if problem:  # `xuancheng/../wuxi/2024` would write the new file over wuxi's
        raise NewCityError(
            f"--from {start_from}: {problem}; give CITY/VERSION, e.g. xuancheng/2024 "
            f"(`drgpolicy versions {root}` lists them)"
        )
    path = root / source_city / f"{version}.policy"
    if not version or not path.is_file():
        raise NewCityError(
            f"--from {start_from}: no {path}; give CITY/VERSION, e.g. xuancheng/2024 "
            f"(`drgpolicy versions {root}` lists them)"
        )
    resolved = resolve(read_policy_file(path), read_folder(path.parent))
    if any(d.severity == "error" for d in resolved.diagnostics):
        raise PolicyErrors(resolved.diagnostics)
    files = {f"{version}.policy": _preface(start_from, resolved) + _flattened(resolved, city)}
    files |= _examples(path.parent, version)
    files[f"{SOURCES}/README.md"] = _template("sources.md", {"city": city, "year": version})
    return files


def _flattened(resolved: Resolved, city: str) -> str:
    """Every declaration in force in `resolved`, in one file under the new city's name, the
    library modules still taken in by `include`; the comments are kept when the version is one
    file (they are placed by its lines)."""
    includes = tuple(dict.fromkeys(n for f in resolved.chain for n in f.header.includes))
    header = dataclasses.replace(resolved.header, city=city, extends=None, includes=includes)
    modules = {m.path for m in resolved.modules}
    # a declaration overriding a module's keeps its `override`: the module is still included
    in_modules = {e.decl.name for e in resolved.entries if e.file.path in modules}

    def own(stage: str | None) -> tuple[a.Declaration, ...]:
        return tuple(
            dataclasses.replace(e.decl, override=e.decl.name in in_modules)
            for e in resolved.entries
            if e.stage == stage and e.file.path not in modules
        )

    stages = tuple(dataclasses.replace(s.node, items=own(s.name)) for s in resolved.stages)
    tree = a.Policy(header=header, items=own(None), stages=stages)
    one_file = len(resolved.chain) == 1
    return format_policy(tree, resolved.top.text if one_file else None)


def _preface(start_from: str, resolved: Resolved) -> str:
    versions = "、".join(f"{f.header.city} {f.header.version}" for f in resolved.chain)
    return (
        f"# 由 drgpolicy init --from {start_from} 生成：\n"
        f"# 以下是 {versions} 的全部规则，合为一个文件。引用（source）的仍是原城市的文件，\n"
        "# 其全文在原城市的 sources/ 或 check --sources 给出的文件夹里。\n"
        "# 请按本市文件逐条改写，并把本市文件的全文放进本城市的 sources/。\n"
        "\n"
    )


def _examples(folder: Path, version: str) -> dict[str, str]:
    """The examples of `folder` that test `version`."""
    found = {}
    for path in sorted((folder / "examples").glob("*.yaml")):
        text = path.read_text(encoding="utf-8")
        document = yaml.safe_load(text)
        if isinstance(document, dict) and str(document.get("policy")) == version:
            found[f"examples/{path.name}"] = text
    return found


# ---- writing ----------------------------------------------------------------------------------


def _compiles(text: str, path: Path) -> None:
    """Refuse (nothing written) a policy that does not compile on its own."""
    compile_text(text, str(path), siblings=[])


def _write(staging: Path, files: dict[str, str]) -> None:
    for name, text in files.items():
        target = staging / name
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(text, encoding="utf-8")


__all__ = ["EXAMPLE", "METHODS", "NewCity", "NewCityError", "check_city_name", "create_city"]
