"""Importing published group lists, and the no-CC sibling of a group."""

from __future__ import annotations

from pathlib import Path

import polars as pl
import pytest
from hypothesis import given
from hypothesis import strategies as st

from engine.inputs.catalog import no_cc_code, no_cc_expr, no_cc_groups, read_group_list
from engine.inputs.contract import ContractError

CATALOGS = Path(__file__).resolve().parents[2].parent / "shared" / "data" / "catalogs"
needs_reference_data = pytest.mark.skipif(
    not CATALOGS.is_dir(),
    reason=f"reference group lists not found at {CATALOGS} (../shared/data is not on this machine)",
)


@needs_reference_data
def test_chs_drg_2_0_national_list() -> None:
    groups = read_group_list(CATALOGS / "chs_drg_2_0" / "chs_drg_2.0_DRG.tsv")
    assert groups.columns == ["drg_code", "name", "mdc", "adrg", "severity"]
    assert groups.height == 634
    assert groups["drg_code"].n_unique() == 634
    assert groups["adrg"].n_unique() == 409  # counts stated in the list's SOURCE.txt
    assert groups["mdc"].n_unique() == 26
    assert set(groups["severity"]) == {"1", "3", "5", "9"}
    es35 = groups.filter(pl.col("drg_code") == "ES35").row(0)
    assert es35 == ("ES35", "呼吸系统感染／炎症，不伴合并症或并发症", "E", "ES3", "5")


@needs_reference_data
@pytest.mark.parametrize(
    ("file", "rows"),
    [
        ("opendrg/chs_drg_10_DRG.txt", 618),
        ("opendrg/chs_drg_11_DRG.txt", 628),
        ("opendrg/wuxi_2022_DRG.txt", 599),
        ("opendrg/suzhou_2023_DRG.txt", 667),
        ("opendrg/wuhan_2022_DRG.txt", 665),
        ("opendrg/yantai_2023_DRG.txt", 647),
        ("harbin_weights/harbin_2022_weights.csv", 660),
        ("harbin_weights/harbin_2023_weights.csv", 703),
        ("harbin_weights/harbin_2024_weights.csv", 703),
    ],
)
def test_every_reference_list_loads_with_clean_names(file: str, rows: int) -> None:
    groups = read_group_list(CATALOGS / file)
    assert groups.height == rows
    assert groups.filter(pl.col("name").str.contains(r"[\s\u3000]$")).is_empty()


@needs_reference_data
def test_full_width_spaces_are_stripped_and_chinese_punctuation_kept() -> None:
    wuxi = read_group_list(CATALOGS / "opendrg" / "wuxi_2022_DRG.txt")
    ag19 = wuxi.filter(pl.col("drg_code") == "AG19")["name"].item()
    assert ag19 == "异体骨髓／造血干细胞移植"  # the file has two U+3000 after the name
    assert wuxi.filter(pl.col("drg_code") == "BQY").select("adrg", "severity").row(0) == ("BQY", "")


@needs_reference_data
def test_harbin_csv_with_crlf_and_weights_column() -> None:
    harbin = read_group_list(CATALOGS / "harbin_weights" / "harbin_2024_weights.csv")
    assert harbin.row(1) == ("AB19", "肝移植", "A", "AB1", "9")
    assert read_group_list(CATALOGS / "harbin_weights" / "harbin_2022_weights.csv")["name"][0] == ""


def test_hand_made_tsv_strips_trailing_spaces(tmp_path: Path) -> None:
    path = tmp_path / "list.tsv"
    path.write_text(
        "\ufeffGB29\t胃、十二指肠大手术 \u3000\n\nES31\t呼吸系统感染／炎症，伴严重合并症或并发症\n",
        encoding="utf-8",
    )
    assert read_group_list(path).rows() == [
        ("GB29", "胃、十二指肠大手术", "G", "GB2", "9"),
        ("ES31", "呼吸系统感染／炎症，伴严重合并症或并发症", "E", "ES3", "1"),
    ]


@pytest.mark.parametrize(
    ("name", "text", "words"),
    [
        (
            "list.txt",
            "GB29 胃大手术\nGB2 短码\n",
            "list.txt, line 2: 'GB2 短码' is not a group line",
        ),
        ("list.txt", "GB29 胃大手术\nGB19\n", "line 2"),
        (
            "list.tsv",
            "GB29 胃大手术\n",
            "line 1: 'GB29 胃大手术' is not a group line; expected code<TAB>name",
        ),
        ("list.csv", "code,name\nGB29,x\n", "expected a header with drg_code and drg_name"),
        ("list.csv", "drg_code,drg_name\nGB29,x\ngb19,y\n", "list.csv, line 3"),
        (
            "list.txt",
            "GB29 胃大手术\nES31 感染\nGB29 again\n",
            "line 3: group GB29 is already on line 1",
        ),
    ],
)
def test_malformed_lists_name_the_file_and_line(
    tmp_path: Path, name: str, text: str, words: str
) -> None:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    with pytest.raises(ContractError) as error:
        read_group_list(path)
    assert words in error.value.message
    assert error.value.file == name


CATALOG = ["ES31", "ES33", "ES35", "GB29", "FV23", "FV25", "XA11", "XA13", "RB15", "RB19"]


@pytest.mark.parametrize(
    ("code", "expected"),
    [
        ("ES31", "ES35"),
        ("ES33", "ES35"),
        ("ES35", "ES35"),  # the ADRG's '5' group
        ("GB29", "GB29"),
        ("GB21", "GB29"),  # not split: its '9' group
        ("FV23", "FV25"),
        ("FV27", "FV25"),  # not in the list, but its ADRG is
        ("XA11", None),  # no '5' or '9' in the catalog: missing, never the MCC group itself
        ("XA13", None),
        ("RB11", "RB15"),  # '5' wins over '9'
        ("0000", None),
        ("EQY", None),
        ("", None),
        (None, None),
    ],
)
def test_no_cc_code(code: str | None, expected: str | None) -> None:
    """The one no-CC rule, in both forms: a code (explainer) and a column (batch plan)."""
    groups = no_cc_groups(CATALOG)
    assert no_cc_code(code, groups) == expected
    column = pl.DataFrame({"secondary_drg": [code]}, schema={"secondary_drg": pl.String})
    assert column.select(no_cc_expr(pl.col("secondary_drg"), groups)).to_series().to_list() == [
        expected
    ]


@given(st.lists(st.from_regex(r"[A-Z]{2}[0-9][0-9A-Z]|0000|[A-Z]QY|", fullmatch=True), max_size=30))
def test_vectorized_no_cc_agrees_with_the_scalar_rule(codes: list[str]) -> None:
    groups = no_cc_groups(CATALOG + codes[::2])
    frame = pl.DataFrame({"c": codes}, schema={"c": pl.String})
    result = frame.select(no_cc_expr(pl.col("c"), groups)).to_series()
    assert result.to_list() == [no_cc_code(code, groups) for code in codes]
    assert all(found is None or found[3] in "59" for found in result.to_list())
