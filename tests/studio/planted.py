"""Markup planted in every text a user controls — the labels and sources of a policy, a version
name, hospital and case ids, a rejected value, an example's title — for the tests that check no
page and no report turns it into an element. Each planted `<img>` points at a path holding
`drgpwn`, so that a browser test also sees any request it would make."""

from __future__ import annotations

import re
import shutil
from pathlib import Path

from tests.conftest import POLICIES, SAMPLE

MARKER = "drgpwn"
IMG = f"<img src=/{MARKER}.png onerror=alert(1)>"
SCRIPT = "<script>alert(2)</script>"
IMAGE_MD = f"![p](/{MARKER}-md.png)"
LABEL = f"{IMG}{IMAGE_MD} "
SOURCE = f"{SCRIPT}{IMG} "
VERSION = f"<img src=/{MARKER}-v.png onerror=alert(3)>"
HOSPITAL = f"<img src=/{MARKER}-h.png onerror=alert(4)>"
CASE = "<script>alert(5)</script>"
REJECTED = f"<img src=/{MARKER}-r.png onerror=alert(6)>"
TITLE = f"<img src=/{MARKER}-t.png onerror=alert(7)> {IMAGE_MD}"
CITY = "xuancheng"
#: The hospital whose id is planted; its first case gets the planted case id.
PLANTED_HOSPITAL = "H0001"

_LABELLED = re.compile(
    r"^(\s*(?:override\s+)?(?:(?:param|let|report|classify|class|table|formula|adjust|step"
    r'|invariant|stage|document)\s+\w+|input\s+\w+\s+\w+|title)\s+)"',
    re.M,
)
_SOURCE = re.compile(r'(\bsource\s+\w+\s+)"')


def planted_text(text: str) -> str:
    """A policy text with `LABEL` before each label and `SOURCE` before each quoted source."""
    text = _LABELLED.sub(lambda m: f'{m.group(1)}"{LABEL}', text)
    return _SOURCE.sub(lambda m: f'{m.group(1)}"{SOURCE}', text)


def plant_policies(root: Path) -> Path:
    """A copy of the shipped policies whose Xuancheng 2023 and 2024 have planted labels and
    sources (and the titles of the documents, which 2023 declares for both), with a version
    named `VERSION` after 2024 that adds a parameter citing a planted source, and an example
    titled `TITLE`."""
    shutil.copytree(POLICIES, root)
    city = root / CITY
    base = planted_text((city / "2023.policy").read_text(encoding="utf-8"))
    assert re.search(rf'^document\s+\w+\s+"{re.escape(LABEL)}', base, re.M), "2023 declares them"
    (city / "2023.policy").write_text(base, encoding="utf-8")
    text = planted_text((city / "2024.policy").read_text(encoding="utf-8"))
    (city / "2024.policy").write_text(text, encoding="utf-8")
    document = re.search(r"^\s*source\s+(\w+)\s", text, re.M)
    assert document is not None, "Xuancheng 2024 cites a document"
    later = re.sub(r'version\s+"2024"', f'version "{VERSION}"', text, count=1)
    later = re.sub(r"effective\s+[0-9-]+(\s+to\s+[0-9-]+)?", "effective 2030-01-01", later, count=1)
    later += (
        f'\nparam planted_share "{LABEL}" : ratio = 10%\n  source {document.group(1)} "{SOURCE}"\n'
    )
    (city / "planted.policy").write_text(later, encoding="utf-8")
    example = city / "examples" / "bilateral.yaml"
    lines = example.read_text(encoding="utf-8").splitlines(keepends=True)
    titled = [f'title: "{TITLE}"\n' if line.startswith("title:") else line for line in lines]
    example.write_text("".join(titled), encoding="utf-8")
    return root


def plant_data(folder: Path) -> Path:
    """A copy of the sample whose hospital H0001 is `HOSPITAL` (in every file that names it),
    whose first case is `CASE`, and with one more case of an unknown hospital `REJECTED`
    (rejected, its value shown)."""
    shutil.copytree(SAMPLE, folder)
    for name in ("hospitals.csv", "cases.csv", "deductions.csv", "assessments.csv"):
        path = folder / name
        text = path.read_text(encoding="utf-8").replace(PLANTED_HOSPITAL, HOSPITAL)
        path.write_text(text, encoding="utf-8")
    cases = folder / "cases.csv"
    lines = cases.read_text(encoding="utf-8").splitlines()
    row = next(i for i, line in enumerate(lines) if f",{HOSPITAL}," in line)
    case_id = lines[row].split(",")[0]
    extra = lines[row].replace(HOSPITAL, REJECTED).replace(case_id, "C999999", 1)
    lines[row] = lines[row].replace(case_id, CASE, 1)
    cases.write_text("\n".join([*lines, extra]) + "\n", encoding="utf-8")
    return folder
