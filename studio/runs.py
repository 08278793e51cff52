"""The studio's glue to the engine, without Streamlit: compiling a buffer, generating a dataset,
fingerprinting inputs for the caches, and the numeric parameters a what-if can sweep (uploaded
datasets: `studio.datasets`)."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, replace
from decimal import Decimal
from pathlib import Path

from engine.run.atomic import replace_folder
from engine.synthetic.sample import generate_sample
from policy_dsl import ast as a
from policy_dsl import ir
from policy_dsl.check.ranges import declared_range
from policy_dsl.check.tables import literal_value
from policy_dsl.diagnostics import PolicyErrors
from policy_dsl.loader import Resolved
from policy_dsl.lower import lower
from policy_dsl.ranges import WHOLE_TYPES, default_range
from policy_dsl.versions import policy_files
from studio import buffer, workspace

TABLES = ("cases", "hospitals", "groups", "deductions", "assessments")
#: Rows about the hospitals (监管扣款、考核得分): taken from the sample only with its hospitals.
SUPERVISION = ("deductions", "assessments")
_HASHES: dict[tuple[str, int, int], str] = {}


# ---- policies -------------------------------------------------------------------------------


def city_digest(root: Path, city: str) -> str:
    """sha256 over the texts of a city's saved versions (a compiled buffer depends on them)."""
    digest = hashlib.sha256()
    for path in policy_files(root / workspace.check_name(city, "city")):
        digest.update(path.name.encode() + b"\0" + path.read_bytes() + b"\0")
    return digest.hexdigest()


def compile_buffer(root: Path, city: str, text: str) -> ir.Policy:
    """The IR of a buffer that compiles (a quote not in its document does not stop it); raises
    `PolicyErrors` with its errors otherwise."""
    return compiled(buffer.analyse(text, root, city))


def compiled(analysis: buffer.Analysis) -> ir.Policy:
    """The IR of an analysed buffer that compiles; raises `PolicyErrors` with its errors
    otherwise."""
    if not analysis.compiles or analysis.checked is None:
        raise PolicyErrors([d for d in analysis.diagnostics if d.severity == "error"])
    return lower(analysis.checked)


@dataclass(frozen=True)
class ParamSpec:
    """A numeric parameter as a slider shows it: declared type, value and a sensible range."""

    name: str
    label: str
    type: str
    value: float
    low: float
    high: float
    step: float

    @property
    def integral(self) -> bool:
        return self.type in WHOLE_TYPES


def numeric_params(resolved: Resolved) -> list[ParamSpec]:
    """The parameters in force whose value is a number, with a slider range around it, kept
    within the range the parameter may take (declared, or its type's default)."""
    specs = []
    for entry in resolved.entries:
        decl = entry.decl
        value = literal_value(decl.value) if isinstance(decl, a.Param) else None
        if isinstance(decl, a.Param) and isinstance(value, Decimal):
            spec = _spec(decl.name, decl.label, decl.type, float(value))
            declared = declared_range(decl.range, decl.type) if decl.range else None
            specs.append(_within(spec, declared or default_range(decl.type)))
    return specs


def _spec(name: str, label: str, type_name: str, value: float) -> ParamSpec:
    if type_name == "ratio":
        return ParamSpec(name, label, type_name, value, 0.0, max(1.0, 2 * value), 0.01)
    if type_name in WHOLE_TYPES:
        return ParamSpec(name, label, type_name, value, 0.0, max(10.0, 2 * value), 1.0)
    high = max(2 * abs(value), 1.0)
    step = 10 ** (len(str(int(high))) - 3) if high >= 100 else 0.01
    return ParamSpec(name, label, type_name, value, min(0.0, 2 * value), high, float(step))


def _within(spec: ParamSpec, allowed: ir.ValueRange | None) -> ParamSpec:
    """The slider cut to `allowed` (an open end one step inside), never excluding the value."""
    if allowed is None:
        return spec
    low, high = spec.low, spec.high
    if allowed.low is not None:
        low = max(low, allowed.low + (0 if allowed.low_closed else spec.step))
    if allowed.high is not None:
        high = min(high, allowed.high - (0 if allowed.high_closed else spec.step))
    return replace(spec, low=min(low, spec.value), high=max(high, spec.value))


# ---- datasets -------------------------------------------------------------------------------


def file_sha256(path: Path) -> str:
    """sha256 of a file, remembered by (path, size, mtime) so a cache key costs a stat."""
    stat = path.stat()
    key = (str(path.resolve()), stat.st_size, stat.st_mtime_ns)
    if key not in _HASHES:
        digest = hashlib.sha256()
        with path.open("rb") as handle:
            for block in iter(lambda: handle.read(1 << 20), b""):
                digest.update(block)
        _HASHES[key] = digest.hexdigest()
    return _HASHES[key]


def data_fingerprint(folder: Path) -> str:
    """The data folder and the sha256 of each input file in it: the key of loaded inputs."""
    names = [f"{t}.{ext}" for t in TABLES for ext in ("csv", "parquet")] + ["budget.yaml"]
    parts = [str(folder.resolve())]
    parts += [f"{n}:{file_sha256(folder / n)}" for n in names if (folder / n).is_file()]
    return hashlib.sha256("\n".join(parts).encode()).hexdigest()


def generated_dataset(cache: Path, cases: int, seed: int) -> Path:
    """A synthetic city from `generate_sample`, made once per (cases, seed) in the cache."""
    folder = cache / "generated" / f"{cases}-{seed}"
    if not (folder / "budget.yaml").is_file():
        replace_folder(
            folder, lambda staging: generate_sample(staging, cases=cases, seed=seed, fmt="parquet")
        )
    return folder


__all__ = [
    "ParamSpec",
    "city_digest",
    "compile_buffer",
    "data_fingerprint",
    "file_sha256",
    "generated_dataset",
    "numeric_params",
]
