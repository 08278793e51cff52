"""A city's versions on one timeline: order, the version in force on a day, gaps and overlaps."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest

from policy_dsl.diagnostics import PolicyErrors
from policy_dsl.lower import compile_file
from policy_dsl.versions import (
    VersionsError,
    check_timeline,
    city_folders,
    in_force,
    load_city,
    versions_on,
)

REPO = Path(__file__).resolve().parents[2]
XUANCHENG = REPO / "policies" / "xuancheng"

#: The smallest policy that checks: the outputs of the points method, nothing else.
BODY = """
input budget drg_fund "年度基金预算" : money

let base_points "基准点数" : points at group = weight * 100 pt
  assumption "权重 × 100"
classify category "病例类型"
  class normal "正常病例" otherwise
let case_points "病例点数" : points at case = base_points
let coefficient "系数" : ratio at case = 1
let settled_points "结算点数" : points at case = case_points * coefficient
let point_value "点值" at all = drg_fund / sum(settled_points)
let payment "病例支付额" : money at case = settled_points * point_value
"""

#: Two comment lines put every header on line 3.
HEADER_LINE = 3


def write_version(
    folder: Path,
    version: str,
    start: str,
    end: str | None = None,
    *,
    city: str = "demo",
    extends: str | None = None,
    file: str | None = None,
) -> Path:
    """A version file: the header as given; the body only when it extends no other version."""
    lines = [
        f"# {city} {version}",
        "# synthetic policy for tests",
        f'policy {city} version "{version}"',
        f"  effective {start}" + (f" to {end}" if end else ""),
    ]
    if extends:
        lines.append(f'  extends "{extends}"')
    lines.append("  method points")
    text = "\n".join(lines) + "\n" + ("" if extends else BODY)
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / (file or f"{version}.policy")
    path.write_text(text, encoding="utf-8")
    return path


def day(text: str) -> dt.date:
    return dt.date.fromisoformat(text)


# ---- loading and order -----------------------------------------------------------------------


def test_versions_come_in_order_of_effective_date_not_file_name(tmp_path: Path) -> None:
    write_version(tmp_path, "2024", "2024-01-01", "2024-12-31", file="a.policy")
    write_version(tmp_path, "2022", "2022-01-01", "2022-12-31", file="b.policy")
    write_version(tmp_path, "2023", "2023-01-01", "2023-12-31", file="c.policy")
    city = load_city(tmp_path)
    assert city.city == "demo"
    assert [v.version for v in city.versions] == ["2022", "2023", "2024"]
    assert [v.path.name for v in city.versions] == ["b.policy", "c.policy", "a.policy"]


def test_each_version_carries_dates_base_path_and_ir_hash(tmp_path: Path) -> None:
    write_version(tmp_path, "2023", "2023-01-01", "2023-12-31")
    path = write_version(tmp_path, "2024", "2024-01-01", extends="2023")
    newest = load_city(tmp_path).versions[-1]
    assert newest.version == "2024"
    assert (newest.effective_from, newest.effective_to, newest.ends) == (
        day("2024-01-01"),
        None,
        None,
    )
    assert newest.extends == "2023"
    assert newest.path == path
    assert newest.hash == compile_file(path).hash
    assert len(newest.hash) == 64


def test_xuancheng_versions() -> None:
    city = load_city(XUANCHENG)
    assert [(v.version, v.effective_from, v.effective_to, v.extends) for v in city.versions] == [
        ("2023", day("2023-01-01"), day("2023-12-31"), None),
        ("2024", day("2024-01-01"), day("2024-12-31"), "2023"),
    ]
    assert [v.hash for v in city.versions] == [
        compile_file(XUANCHENG / "2023.policy").hash,
        compile_file(XUANCHENG / "2024.policy").hash,
    ]
    assert check_timeline(city) == []
    assert in_force(city, day("2024-06-30")).version == city.versions[1]


def test_a_folder_with_a_broken_file_raises_its_diagnostics(tmp_path: Path) -> None:
    write_version(tmp_path, "2023", "2023-01-01")
    (tmp_path / "broken.policy").write_text('policy demo version "2024"\n  effective 2024-01-01\n')
    with pytest.raises(PolicyErrors) as caught:
        load_city(tmp_path)
    assert {d.code for d in caught.value.diagnostics} >= {"E121"}
    assert all(d.file.endswith("broken.policy") for d in caught.value.diagnostics)


def test_a_folder_mixing_cities_is_refused(tmp_path: Path) -> None:
    write_version(tmp_path, "2023", "2023-01-01", city="demo")
    write_version(tmp_path, "2024", "2024-01-01", city="other")
    with pytest.raises(VersionsError, match="several cities: demo, other"):
        load_city(tmp_path)


def test_an_empty_folder_is_refused(tmp_path: Path) -> None:
    with pytest.raises(VersionsError, match=r"no \.policy files"):
        load_city(tmp_path)


# ---- in force on a day -----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("on", "expected"),
    [
        ("2023-01-01", "2023"),  # first day of 2023
        ("2023-12-31", "2023"),  # last day of 2023, inclusive
        ("2024-01-01", "2024"),  # the next version's first day
        ("2024-02-29", "2024"),
        ("2024-12-31", "2024"),
    ],
)
def test_in_force_on_days_including_boundaries(tmp_path: Path, on: str, expected: str) -> None:
    write_version(tmp_path, "2023", "2023-01-01", "2023-12-31")
    write_version(tmp_path, "2024", "2024-01-01", "2024-12-31", extends="2023")
    found = in_force(tmp_path, day(on))
    assert found.version is not None and found.version.version == expected
    assert found.reason is None


def test_no_version_before_the_first_or_after_the_last(tmp_path: Path) -> None:
    write_version(tmp_path, "2023", "2023-01-01", "2023-12-31")
    city = load_city(tmp_path)
    before = in_force(city, day("2022-12-31"))
    after = in_force(city, day("2024-01-01"))
    assert before.version is None and after.version is None
    assert before.reason == (
        'no version of demo is in force before 2023-01-01 (the first, "2023", takes effect then)'
    )
    assert after.reason == 'no version of demo is in force after 2023-12-31 (when "2023" ends)'


def test_an_open_ended_version_ends_the_day_before_the_next_one_starts(tmp_path: Path) -> None:
    write_version(tmp_path, "2023", "2023-01-01")
    write_version(tmp_path, "2024", "2024-07-01")
    city = load_city(tmp_path)
    assert [v.ends for v in city.versions] == [day("2024-06-30"), None]
    assert check_timeline(city) == []
    assert in_force(city, day("2024-06-30")).version == city.versions[0]
    assert in_force(city, day("2024-07-01")).version == city.versions[1]
    assert in_force(city, day("2099-01-01")).version == city.versions[1]


# ---- timeline check --------------------------------------------------------------------------


def test_a_gap_between_versions_is_w702_at_the_later_header(tmp_path: Path) -> None:
    write_version(tmp_path, "2023", "2023-01-01", "2023-12-31")
    later = write_version(tmp_path, "2024", "2024-03-01", "2024-12-31")
    city = load_city(tmp_path)
    [found] = check_timeline(city)
    assert found.code == "W702" and found.severity == "warning"
    assert found.message == "no version of demo is in force from 2024-01-01 to 2024-02-29"
    assert (found.file, found.line, found.column) == (str(later), HEADER_LINE, 1)
    assert found.hint and "drop the `to` date" in found.hint
    assert in_force(city, day("2024-02-01")).reason == found.message
    assert in_force(city, day("2024-03-01")).version == city.versions[1]


def test_versions_meeting_exactly_have_no_gap(tmp_path: Path) -> None:
    write_version(tmp_path, "2023", "2023-01-01", "2023-12-31")
    write_version(tmp_path, "2024", "2024-01-01")
    assert check_timeline(load_city(tmp_path)) == []


def test_an_overlap_is_e707_at_the_later_header(tmp_path: Path) -> None:
    write_version(tmp_path, "2023", "2023-01-01", "2024-03-31")
    later = write_version(tmp_path, "2024", "2024-01-01", "2024-12-31")
    city = load_city(tmp_path)
    [found] = check_timeline(city)
    assert found.code == "E707" and found.severity == "error"
    assert found.message == (
        'versions "2023" and "2024" of demo are both in force from 2024-01-01 to 2024-03-31'
    )
    assert (found.file, found.line, found.column) == (str(later), HEADER_LINE, 1)
    assert found.hint and 'end "2023" on 2023-12-31' in found.hint
    assert "E707" in found.render() and f"{HEADER_LINE} | policy demo" in found.render()
    overlapped = in_force(city, day("2024-02-01"))
    assert overlapped.version is None
    assert overlapped.reason == 'versions "2023" and "2024" of demo overlap on 2024-02-01 (E707)'
    assert in_force(city, day("2024-04-01")).version == city.versions[1]


def test_two_versions_starting_the_same_day_overlap_even_when_open_ended(tmp_path: Path) -> None:
    write_version(tmp_path, "a", "2024-01-01")
    write_version(tmp_path, "b", "2024-01-01")
    [found] = check_timeline(load_city(tmp_path))
    assert found.code == "E707"
    assert found.message.endswith("both in force from 2024-01-01 onwards")


def test_a_long_version_overlapping_two_later_ones_is_reported_for_each(tmp_path: Path) -> None:
    write_version(tmp_path, "2022", "2022-01-01", "2030-12-31")
    write_version(tmp_path, "2023", "2023-01-01", "2023-12-31")
    write_version(tmp_path, "2024", "2024-01-01")
    found = check_timeline(load_city(tmp_path))
    assert [(d.code, Path(d.file).stem) for d in found] == [("E707", "2023"), ("E707", "2024")]


# ---- all cities ------------------------------------------------------------------------------


def test_versions_on_a_day_for_every_city(tmp_path: Path) -> None:
    write_version(tmp_path / "alpha", "2024", "2024-01-01", city="alpha")
    write_version(tmp_path / "beta", "2025", "2025-01-01", city="beta")
    (tmp_path / "notes").mkdir()
    assert city_folders(tmp_path) == [tmp_path / "alpha", tmp_path / "beta"]
    alpha, beta = versions_on(day("2024-06-30"), tmp_path)
    assert alpha.city == "alpha" and alpha.version is not None and alpha.version.version == "2024"
    assert beta.city == "beta" and beta.version is None
    assert beta.reason is not None and "before 2025-01-01" in beta.reason


def test_versions_on_a_root_without_cities_is_refused(tmp_path: Path) -> None:
    with pytest.raises(VersionsError):
        versions_on(day("2024-01-01"), tmp_path)
