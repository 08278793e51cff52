"""Refresh the README's pictures of the studio: run the browser walk-through
(`tests/studio/test_browser.py`, which leaves its screenshots in out/artifacts/), then shrink
each page's picture into docs/img/ (two thirds of the size, 256 colours).

    .venv/bin/python -m tests.studio.screenshots            # walk through, then shrink
    .venv/bin/python -m tests.studio.screenshots --no-run   # shrink what out/artifacts holds
"""

from __future__ import annotations

import argparse
import subprocess
import sys
from pathlib import Path

from tests.studio.browser import ROOT

ARTIFACTS = ROOT / "out" / "artifacts"
DOCS = ROOT / "docs" / "img"
#: The pictures the README shows: one per page, the what-if's part of each clause and the
#: explain page's tree.
PICTURES = (
    "studio-editor",
    "studio-versions",
    "studio-whatif",
    "studio-whatif-clauses",
    "studio-explain",
    "studio-explain-tree",
    "studio-examples",
)
WIDTH = 960
HEIGHT = 1000  # longer pictures are cut


def shrink(source: Path, target: Path, width: int = WIDTH, height: int = HEIGHT) -> None:
    """`source` scaled to `width` pixels wide, cut at `height`, in a 256-colour palette."""
    from PIL import Image

    with Image.open(source) as image:
        scale = width / image.width
        small = image.convert("RGB").resize(
            (width, round(image.height * scale)), Image.Resampling.LANCZOS
        )
    small = small.crop((0, 0, width, min(small.height, height)))
    small.quantize(colors=256, method=Image.Quantize.MEDIANCUT).save(target, optimize=True)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--no-run", action="store_true", help="only shrink out/artifacts/*.png")
    options = parser.parse_args(argv)
    if not options.no_run:
        test = ROOT / "tests" / "studio" / "test_browser.py"
        done = subprocess.run([sys.executable, "-m", "pytest", "-q", str(test)], cwd=ROOT)
        if done.returncode:
            return done.returncode
    DOCS.mkdir(parents=True, exist_ok=True)
    for name in PICTURES:
        target = DOCS / f"{name}.png"
        shrink(ARTIFACTS / f"{name}.png", target)
        print(f"{target.relative_to(ROOT)}: {target.stat().st_size // 1024} KB")
    return 0


if __name__ == "__main__":
    sys.exit(main())
