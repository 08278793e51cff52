"""Golden hashes of the outputs: every shipped policy settled on the bundled sample, a sha256 per
output file, so that a change meant to be faster proves it writes the same bytes.

    .venv/bin/python -m tests.engine.output_hashes          # compare (what the test does)
    .venv/bin/python -m tests.engine.output_hashes --write  # regenerate, on purpose only

CSV files and the manifest are hashed as written. A Parquet file is hashed by what it holds (its
schema and its rows, as CSV text): its bytes also depend on the writer's version and compression,
which do not change a value; so the manifest beside Parquet files is hashed without their sha256.
The manifest is hashed without the backend's version too (polars 2.1 → 2.2 on a fresh install
moved every manifest and no other byte): the golden pins what we write, not what pip resolves.
"""

from __future__ import annotations

import argparse
import hashlib
import io
import json
import sys
import tempfile
from pathlib import Path

import polars as pl

from engine.inputs.rundata import Period
from engine.run.outputs import FORMATS, write_outputs
from engine.run.settle import load_data, load_policy, settle
from tests.conftest import POLICIES, ROOT, SAMPLE

GOLDEN = ROOT / "tests" / "golden" / "outputs" / "hashes.json"
PERIOD = "2024"


def file_hash(path: Path) -> str:
    """sha256 of a CSV or JSON file's bytes, or of a Parquet file's schema and rows."""
    if path.name == "manifest.json":
        manifest = json.loads(path.read_text(encoding="utf-8"))
        for name in manifest["outputs"]:
            if name.endswith(".parquet"):
                manifest["outputs"][name] = "parquet"
        manifest["backend"]["version"] = "any"
        text = json.dumps(manifest, ensure_ascii=False, indent=2, sort_keys=True)
        return hashlib.sha256(text.encode("utf-8")).hexdigest()
    if path.suffix != ".parquet":
        return hashlib.sha256(path.read_bytes()).hexdigest()
    frame = pl.read_parquet(path)
    text = io.StringIO()
    text.write(repr(list(frame.schema.items())) + "\n")
    frame.with_columns(pl.all().cast(pl.String)).write_csv(text)
    return hashlib.sha256(text.getvalue().encode("utf-8")).hexdigest()


def output_hashes(written_only: bool = False) -> dict[str, str]:
    """`<city>/<version>/<format>/<file>` → hash, for every shipped policy settled on the sample
    for the year 2024 (`written_only`: computing only what the outputs read, as `drgpolicy
    settle` does)."""
    found: dict[str, str] = {}
    with tempfile.TemporaryDirectory() as tmp:
        for path in sorted(POLICIES.rglob("*.policy")):
            policy = load_policy(path)
            inputs = load_data(SAMPLE, policy)
            result = settle(policy, inputs, Period.parse(PERIOD), written_only=written_only)
            for fmt in FORMATS:
                out = Path(tmp) / policy.city / policy.version / fmt
                write_outputs(result, out, fmt)
                for file in sorted(out.rglob("*")):
                    if file.is_file():
                        name = f"{policy.city}/{policy.version}/{fmt}/{file.relative_to(out)}"
                        found[name] = file_hash(file)
    return found


def golden() -> dict[str, str]:
    data: dict[str, str] = json.loads(GOLDEN.read_text(encoding="utf-8"))
    return data


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--write", action="store_true", help="store the hashes as the golden")
    parser.add_argument(
        "--written-only", action="store_true", help="settle as `drgpolicy settle` does"
    )
    args = parser.parse_args(argv)
    found = output_hashes(args.written_only)
    if args.write:
        GOLDEN.parent.mkdir(parents=True, exist_ok=True)
        GOLDEN.write_text(json.dumps(found, indent=1, sort_keys=True) + "\n", encoding="utf-8")
        print(f"wrote {len(found)} hashes to {GOLDEN.relative_to(ROOT)}")
        return 0
    stored = golden()
    changed = sorted(k for k in found.keys() | stored.keys() if found.get(k) != stored.get(k))
    for name in changed:
        print(f"differs: {name}")
    print(f"{len(found) - len(changed)} of {len(found)} output files as the golden")
    return 1 if changed else 0


if __name__ == "__main__":
    sys.exit(main())
