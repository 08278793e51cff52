"""The data guide (`docs/data.md`, `docs/data.zh-CN.md`) works as written: its script turns a
GBK settlement-list export with Chinese column names into `cases.csv`; with its hospitals,
groups and budget, the folder validates clean and settles under a city made by `init`."""

from __future__ import annotations

import csv
import re
from pathlib import Path

import polars as pl
import pytest

from engine.inputs.reading import not_utf8
from tests.conftest import ROOT
from tests.conftest import run_cli as run

GUIDES = [ROOT / "docs" / "data.md", ROOT / "docs" / "data.zh-CN.md"]
EXPORT = [
    ["清单流水号", "定点医疗机构代码", "定点医疗机构名称", "出院时间", "DRG编码", "DRG名称",
     "医疗费用总额", "个人自付", "个人自费", "实际住院天数", "险种类型"],
    ["000123", "H34010200001", "合肥市第一人民医院", "2024-03-01 10:22:00", "GB15", "食管大手术",
     "12000.50", "1200.00", "300.25", "9", "职工基本医疗保险"],
    ["000124", "H34010200002", "合肥市第二人民医院", "2024-03-02 08:00:00", "", "",
     "5000", "500", "0", "4", "城乡居民基本医疗保险"],
]  # fmt: skip


def blocks(text: str, language: str) -> list[str]:
    return re.findall(rf"```{language}\n(.*?)```", text, flags=re.S)


@pytest.mark.parametrize("guide", GUIDES, ids=lambda p: p.name)
def test_the_guide_takes_an_export_to_a_folder_that_validates_and_settles(
    guide: Path,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    text = guide.read_text(encoding="utf-8")
    monkeypatch.chdir(tmp_path)
    with open("结算清单.csv", "w", encoding="gbk", newline="") as handle:
        csv.writer(handle).writerows(EXPORT)
    folder = tmp_path / "data" / "2024"
    folder.mkdir(parents=True)
    (script,) = blocks(text, "python")
    exec(compile(script, str(guide), "exec"), {})
    assert (folder / "cases.csv").read_text(encoding="utf-8").splitlines() == [
        "case_id,hospital_id,drg_code,total_cost,discharge_date,patient_paid,los,insurance_type",
        "000123,H34010200001,GB15,12000.50,2024-03-01,1500.25,9,职工基本医疗保险",
        "000124,H34010200002,0000,5000,2024-03-02,500.00,4,城乡居民基本医疗保险",
    ]
    hospitals, groups = blocks(text, "csv")
    (folder / "hospitals.csv").write_text(hospitals, encoding="utf-8")
    (folder / "groups.csv").write_text(groups, encoding="utf-8")
    (budget,) = blocks(text, "yaml")
    (folder / "budget.yaml").write_text(budget, encoding="utf-8")

    assert run(capsys, "init", "hefei", "--year", "2024")[0] == 0
    policy = "policies/hefei/2024.policy"
    assert f"drgpolicy validate --data data/2024 --policy {policy}\n" in text
    code, out, _ = run(capsys, "validate", "--data", "data/2024", "--policy", policy)
    assert code == 0, out
    assert "  cases.csv: 2 rows read, none rejected\n" in out
    code, _, err = run(
        capsys, "settle", "--policy", policy, "--data", "data/2024", "--period", "2024",
        "--out", "out/hefei-2024",
    )  # fmt: skip
    assert code == 0, err
    cases = pl.read_csv("out/hefei-2024/settlement/cases.csv", infer_schema_length=0)
    assert cases["case_id"].to_list() == ["000123", "000124"]
    assert cases["category"].to_list() == ["normal", "ungrouped"]
    assert cases["payment"].cast(pl.Decimal(20, 2)).sum() == 2_500_000


@pytest.mark.parametrize("guide", GUIDES, ids=lambda p: p.name)
def test_the_gbk_message_shown_is_the_one_printed(guide: Path, tmp_path: Path) -> None:
    path = tmp_path / "hospitals.csv"
    path.write_text("hospital_id,name,level\nH0001,示范市第一人民医院,3\n", encoding="gbk")
    shown = blocks(guide.read_text(encoding="utf-8"), "text")[1]
    printed = " ".join(not_utf8(path).split())
    before, _, after = " ".join(shown.split()).partition(" …. ")
    assert printed.startswith(before.removesuffix(" …"))
    assert printed.endswith(after)
