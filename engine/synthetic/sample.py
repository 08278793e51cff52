"""A realistic synthetic city (示范市) for demos and tests, deterministic by seed.

`generate_sample` writes a group catalog (CHS-DRG-shaped codes, including 40 real CHS-DRG 2.0
groups), hospitals, a year of cases, a budget, and supervision rows (deductions, assessment
scores: `engine.synthetic.sample_supervision`); everything is vectorized with numpy/polars.
"""

from __future__ import annotations

import itertools
import json
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Any, Literal, NamedTuple

import numpy as np
import polars as pl

from engine.inputs.fields import CONTRACT_VERSION, TABLES, TableKind
from engine.run.atomic import write_file_atomically, write_with
from engine.run.out_folder import MARKER_KEY
from engine.run.progress import step
from engine.synthetic.sample_monitoring import with_monitoring_columns
from engine.synthetic.sample_supervision import supervision_frames
from policy_dsl.errors import PolicyError


class SampleError(PolicyError, ValueError):
    """Arguments no sample is made from: the command says which (exit 1), never a traceback."""


def check_arguments(*, cases: int, seed: int, year: int, parts: int = 1) -> None:
    """Refuse, naming the argument, what `drgpolicy sample` cannot make a city from."""
    if cases < 100 * parts:
        per_part = " per part" if parts > 1 else " and 3 hospitals"
        raise SampleError(f"--cases {cases}: a sample needs at least 100 cases{per_part}")
    if seed < 0:
        raise SampleError(f"--seed {seed}: a seed is a whole number, 0 or more")
    if not 1 <= year <= 9998:  # its cases are discharged in the year, its budget is for it
        raise SampleError(f"--year {year}: give a year such as 2024")


ALL_CASE_AVG_COST = 12_000.0
LEVEL_COST_FACTOR = {1: 0.85, 2: 1.0, 3: 1.1}
MIX_TILT = {1: -0.9, 2: -0.1, 3: 0.45}  # p(group | level) ∝ popularity × weight ** tilt
COST_SIGMA = 0.35
Array = np.ndarray[Any, Any]

# Real CHS-DRG 2.0 groups: code, name, weight (RW, our own plausible value), base group (基础病组).
REAL_GROUPS: tuple[tuple[str, str, float, bool], ...] = (
    ("CB59", "晶状体手术", 0.62, True),
    ("ES35", "呼吸系统感染／炎症，不伴合并症或并发症", 0.55, True),
    ("EX15", "哮喘及喘息性支气管炎，不伴合并症或并发症", 0.52, True),
    ("FV25", "高血压，不伴合并症或并发症", 0.48, True),
    ("GE29", "阑尾切除术", 0.72, True),
    ("GF39", "腹股沟疝及股疝手术", 0.68, True),
    ("HC25", "胆囊切除手术，不伴合并症或并发症", 0.95, True),
    ("IU29", "颈腰背疾病", 0.50, True),
    ("LR15", "肾功能不全，不伴合并症或并发症", 0.72, True),
    ("OB19", "剖宫产术", 0.88, True),
    ("OC29", "阴道分娩伴手术操作", 0.55, True),
    ("BR25", "其他脑缺血性疾病，不伴合并症或并发症", 0.64, True),
    ("DT19", "中耳炎及上呼吸道感染", 0.38, True),
    ("GS15", "胃肠出血，不伴合并症或并发症", 0.58, True),
    ("ES31", "呼吸系统感染／炎症，伴严重合并症或并发症", 1.25, False),
    ("ES33", "呼吸系统感染／炎症，伴一般合并症或并发症", 0.78, False),
    ("GS11", "胃肠出血，伴严重合并症或并发症", 1.30, False),
    ("GS13", "胃肠出血，伴一般合并症或并发症", 0.80, False),
    ("HC23", "胆囊切除手术，伴合并症或并发症", 1.18, False),
    ("FV23", "高血压，伴合并症或并发症", 0.62, False),
    ("EX13", "哮喘及喘息性支气管炎，伴合并症或并发症", 0.70, False),
    ("LR13", "肾功能不全，伴合并症或并发症", 1.05, False),
    ("BR21", "其他脑缺血性疾病，伴严重合并症或并发症", 1.22, False),
    ("BR23", "其他脑缺血性疾病，伴一般合并症或并发症", 0.82, False),
    ("BR11", "脑卒中，伴严重合并症或并发症", 1.85, False),
    ("BR13", "脑卒中，伴一般合并症或并发症", 1.10, False),
    ("BR15", "脑卒中，不伴合并症或并发症", 0.85, False),
    ("GB29", "胃、十二指肠大手术", 3.40, False),
    ("IC29", "髋、肩、膝、肘和踝关节置换术", 4.10, False),
    ("FM39", "经皮冠状动脉支架植入", 2.60, False),
    ("AA19", "心肺移植", 30.0, False),
    ("AA29", "心脏移植", 24.6, False),
    ("AB19", "肝移植", 22.8, False),
    ("AE19", "肾移植", 7.6, False),
    ("AF19", "肺移植", 20.4, False),
    ("AG19", "非同胞全相合异基因造血干细胞移植", 17.5, False),
    ("AG29", "同胞全相合异基因造血干细胞移植", 14.2, False),
    ("AG39", "自体骨髓／造血干细胞移植", 8.9, False),
    ("AH19", "ECMO或全人工心脏植入术", 26.3, False),
    ("AH29", "有创呼吸机支持≥96小时", 9.8, False),
)
BASE_GROUPS = 14  # the first 14 real groups are base groups, the first 30 are common; the
COMMON_REAL = 30  # MDC A transplants after them are rare
RARE_GROUPS = {"AA19": 1, "AA29": 2, "AF19": 3, "AG29": 4}  # deliberately ≤ 5 cases each

# MDC → (short system name, groups in the MDC: real CHS-DRG 2.0 proportions, ≈ 600 in all).
MDCS: dict[str, tuple[str, int]] = {
    "B": ("神经系统", 66), "C": ("眼", 20), "D": ("头颈耳鼻咽口", 30), "E": ("呼吸系统", 38),
    "F": ("循环系统", 53), "G": ("消化系统", 43), "H": ("肝胆胰", 31), "I": ("肌肉骨骼", 43),
    "J": ("皮肤乳腺", 22), "K": ("内分泌代谢", 17), "L": ("泌尿系统", 26),
    "M": ("男性生殖系统", 9), "N": ("女性生殖系统", 13), "O": ("妊娠分娩", 14),
    "P": ("新生儿", 15), "Q": ("血液免疫", 20), "R": ("骨髓增生及肿瘤", 37),
    "S": ("感染及寄生虫", 14), "T": ("精神", 13), "U": ("物质使用", 2), "V": ("创伤中毒", 14),
    "W": ("烧伤", 6), "X": ("其他就医情况", 16), "Y": ("HIV相关", 7), "Z": ("多发严重创伤", 7),
}  # fmt: skip


class _Kind(NamedTuple):
    """A kind of ADRG, by its 2nd letter: share of ADRGs, weight distribution, name stems."""

    letters: str
    share: float
    median_weight: float
    sigma: float
    stems: str  # space-separated


KINDS = (
    _Kind("ABCDEFGHIJK", 0.40, 1.4, 0.65,  # surgery 手术
          "大手术 复杂手术 其他手术 修复重建术 切除术 内镜手术 微创手术 探查术 成形术 介入治疗 "
          "植入术 引流术"),
    _Kind("LMNPQ", 0.12, 1.0, 0.5,  # procedures 操作
          "诊断性操作 治疗性操作 穿刺术 内镜检查 介入检查"),
    _Kind("RSTUVWXYZ", 0.48, 0.56, 0.45,  # medical 内科
          "恶性肿瘤 良性肿瘤 感染 炎症 损伤 先天性疾病 退行性疾病 功能障碍 症状及体征 其他疾病 "
          "急性疾病 慢性疾病 出血性疾病 代谢性疾病"),
)  # fmt: skip
SPLITS = (("9", 0.5), ("135", 0.35), ("35", 0.15))
SEVERITY = {  # (name suffix, weight factor) by severity digit and split
    ("1", "135"): ("，伴严重合并症或并发症", 1.6),
    ("3", "135"): ("，伴一般合并症或并发症", 1.15),
    ("5", "135"): ("，不伴合并症或并发症", 0.8),
    ("3", "35"): ("，伴合并症或并发症", 1.2),
    ("5", "35"): ("，不伴合并症或并发症", 0.85),
    ("9", "9"): ("", 1.0),
}
ROMAN = ("", "（Ⅱ）", "（Ⅲ）", "（Ⅳ）", "（Ⅴ）", "（Ⅵ）")


@dataclass(frozen=True)
class _Catalog:
    """The group catalog plus what the case generator needs to know about each group."""

    frame: pl.DataFrame  # drg_code, name, weight, avg_cost, base_group (sorted by code)
    popularity: Array
    surgical: Array
    heavy_tail: Array
    rare: dict[int, int]  # group index → number of cases


@dataclass(frozen=True)
class _City:
    """Hospitals plus their hidden traits (size, cost factor, case mix)."""

    frame: pl.DataFrame
    share: Array  # share of the city's cases
    cost_factor: Array
    mix_level: Array  # level whose case mix the hospital sees
    incentive_rate: Array


def generate_sample(
    out_dir: Path,
    *,
    cases: int,
    seed: int,
    year: int = 2024,
    fmt: Literal["csv", "parquet"] = "csv",
    hospitals: int | None = None,
) -> dict[str, Any]:
    """Write cases, hospitals, groups, deductions, assessments, budget.yaml and README.md into
    `out_dir`; return a summary.

    The same arguments always give byte-identical files.
    """
    check_arguments(cases=cases, seed=seed, year=year)
    n_hospitals = hospitals or min(300, max(12, cases // 1500))
    if n_hospitals < 3:
        raise SampleError("a sample needs at least 100 cases and 3 hospitals")
    with step("generate the groups and hospitals"):
        catalog = _catalog(np.random.default_rng([seed, 1]))
        city = _city(np.random.default_rng([seed, 2]), n_hospitals, cases, catalog)
    with step(f"generate {cases:,} cases"):
        case_frame = _cases(np.random.default_rng([seed, 3]), cases, year, catalog, city)
    out_dir.mkdir(parents=True, exist_ok=True)
    monitored, groups = with_monitoring_columns(
        np.random.default_rng([seed, 5]), case_frame, catalog.frame
    )
    tables: dict[TableKind, pl.DataFrame] = {
        "groups": groups,
        "hospitals": city.frame,
        "cases": monitored,
    }
    tables |= supervision_frames(np.random.default_rng([seed, 4]), city.frame, case_frame, year)
    with step("write the tables", total=len(tables)) as counting:
        for kind, frame in tables.items():
            _write_table(out_dir, kind, frame, fmt)
            counting.advance()
    facts = {
        "seed": seed,
        "year": year,
        "format": fmt,
        "cases": cases,
        "hospitals": n_hospitals,
        "groups": catalog.frame.height,
        "deductions": tables["deductions"].height,
    }
    return _describe(out_dir, facts, _budget(case_frame, city.frame), catalog, city)


def _describe(
    out_dir: Path, facts: dict[str, Any], budget: dict[str, Any], catalog: _Catalog, city: _City
) -> dict[str, Any]:
    """Write what a generated city is beside its tables — `budget.yaml`, a `README.md` and the
    `sample.json` marker (whole generations and `engine.synthetic.sample_parts` alike) — and
    return its summary: `facts` with the budget's totals."""
    write_file_atomically(
        out_dir / "budget.yaml", _budget_yaml(budget, facts["seed"], facts["year"])
    )
    summary = {**facts, **budget["totals"]}
    write_file_atomically(out_dir / "README.md", _readme(summary, catalog, city))
    marker = {MARKER_KEY: "sample", **summary}
    write_file_atomically(out_dir / "sample.json", json.dumps(marker, indent=2) + "\n")
    return summary


# ---- group catalog (病组目录) ------------------------------------------------------------------


def _catalog(rng: np.random.Generator) -> _Catalog:
    real = pl.DataFrame(
        [(code, name, weight, base) for code, name, weight, base in REAL_GROUPS],
        schema=["drg_code", "name", "weight", "base_group"],
        orient="row",
    )
    frame = pl.concat([real, _synthetic_groups(rng, {code[:3] for code, *_ in REAL_GROUPS})])
    noise = rng.lognormal(0.0, 0.05, frame.height)
    frame = frame.with_columns(
        avg_cost=(pl.col("weight") * ALL_CASE_AVG_COST * noise).round(2),
        rank=pl.Series(_popularity_ranks(rng, frame.height)),
    ).sort("drg_code")
    return _catalog_traits(rng, frame)


def _synthetic_groups(rng: np.random.Generator, taken: set[str]) -> pl.DataFrame:
    """CHS-DRG-shaped groups: per MDC, ADRGs split 1/3/5, 3/5 or not (9), until the MDC is full."""
    rows: list[tuple[str, str, float, bool]] = []
    for mdc, (_, target) in MDCS.items():
        count = sum(code.startswith(mdc) for code, *_ in REAL_GROUPS)
        stems_used: dict[str, int] = {}
        while count < target:
            adrg, base_name, base_weight = _adrg(rng, mdc, taken, stems_used)
            split = str(rng.choice([s for s, _ in SPLITS], p=[p for _, p in SPLITS]))
            for severity in split:
                suffix, factor = SEVERITY[(severity, split)]
                weight = float(np.clip(base_weight * factor, 0.2, 30.0).round(4))
                rows.append((adrg + severity, base_name + suffix, weight, False))
            count += len(split)
    return pl.DataFrame(rows, schema=["drg_code", "name", "weight", "base_group"], orient="row")


def _adrg(
    rng: np.random.Generator, mdc: str, taken: set[str], stems_used: dict[str, int]
) -> tuple[str, str, float]:
    """A new ADRG code of the MDC, its name and its base weight."""
    kind = KINDS[rng.choice(len(KINDS), p=[k.share for k in KINDS])]
    free = [
        mdc + letter + digit
        for letter in kind.letters
        for digit in "123456789"
        if mdc + letter + digit not in taken
    ]
    adrg = free[rng.integers(len(free))]
    taken.add(adrg)
    stems = kind.stems.split()
    stem = stems[rng.integers(len(stems))]
    repeat = stems_used.get(stem, 0)
    stems_used[stem] = repeat + 1
    name = MDCS[mdc][0] + stem + ROMAN[min(repeat, len(ROMAN) - 1)]
    return adrg, name, float(kind.median_weight * rng.lognormal(0.0, kind.sigma))


def _popularity_ranks(rng: np.random.Generator, n: int) -> Array:
    """Zipf ranks: the 14 base groups first, then the other common real groups, then the rest
    (each part shuffled)."""
    bounds = (0, BASE_GROUPS, COMMON_REAL, n)
    return np.concatenate([lo + rng.permutation(hi - lo) for lo, hi in itertools.pairwise(bounds)])


def _catalog_traits(rng: np.random.Generator, frame: pl.DataFrame) -> _Catalog:
    codes = frame["drg_code"].to_list()
    popularity = (frame["rank"].to_numpy() + 1.0) ** -0.75
    synthetic_rare = rng.choice(
        [i for i, c in enumerate(codes) if c[0] != "A" and frame["rank"][i] >= COMMON_REAL],
        2,
        replace=False,
    )
    rare = {codes.index(code): n for code, n in RARE_GROUPS.items()} | {
        int(i): 5 for i in synthetic_rare
    }
    popularity[list(rare)] = 0.0
    eligible = ~frame["base_group"].to_numpy() & (popularity > 0)
    heavy_tail = eligible & (rng.random(len(codes)) < 0.04)
    surgical = np.array([c[1] in KINDS[0].letters and c[0] != "A" for c in codes]) & (
        popularity > 0
    )
    return _Catalog(frame.drop("rank"), popularity, surgical, heavy_tail, rare)


# ---- hospitals (定点医疗机构) -----------------------------------------------------------------

DISTRICTS = (
    "东城区", "西城区", "南湖区", "北山区", "高新区", "临江区", "江北区", "滨海区",
    "青石县", "柳河县", "桃源县", "松山县", "梅岭县", "安平县", "白沙县", "云台县",
)  # fmt: skip
LEVEL2_KINDS = (
    "人民医院", "中医医院", "妇幼保健院", "第二人民医院", "中西医结合医院", "骨伤科医院",
    "康复医院", "第三人民医院",
)  # fmt: skip
TOWN_HEADS = "青石柳桃河沙枫松梅竹安平龙凤金银"
TOWN_TAILS = "山桥湾口塘林溪坪岭庄"
DIGITS = "零一二三四五六七八九"


def _chinese_number(n: int) -> str:
    """1..99 in Chinese numerals (第一, 第十二 …)."""
    tens, ones = divmod(n, 10)
    head = "" if tens == 0 else ("十" if tens == 1 else DIGITS[tens] + "十")
    return head + (DIGITS[ones] if ones or not tens else "")


def _cycled(pool: list[str], count: int) -> list[str]:
    return [
        pool[i % len(pool)] + ("" if i < len(pool) else f"第{i // len(pool) + 1}分院")
        for i in range(count)
    ]


def _hospital_names(rng: np.random.Generator, counts: tuple[int, int, int]) -> list[str]:
    """Names for level-3, level-2 (a cancer hospital first) and level-1 hospitals, in that order."""
    n3, n2, n1 = counts
    level3 = [f"示范市第{_chinese_number(k % 99 + 1)}人民医院" for k in range(n3)]
    level2 = ["示范市肿瘤医院"] + [d + k for k in LEVEL2_KINDS for d in DISTRICTS]
    towns = [h + t for h in TOWN_HEADS for t in TOWN_TAILS]
    level1 = [
        towns[i] + ("街道社区卫生服务中心" if j % 3 == 0 else "镇卫生院")
        for j, i in enumerate(rng.permutation(len(towns)))
    ]
    return level3 + _cycled(level2, n2) + _cycled(level1, n1)


def _city(rng: np.random.Generator, n: int, cases: int, catalog: _Catalog) -> _City:
    n3, n2 = max(1, round(0.18 * n)), max(1, round(0.37 * n))
    level = np.repeat([3, 2, 1], [n3, n2, n - n3 - n2])
    specialist = np.arange(n) == n3  # the first level-2 hospital: 示范市肿瘤医院
    is_new = np.zeros(n, bool)
    is_new[
        rng.choice(
            np.flatnonzero((level < 3) & ~specialist), max(1, round(0.08 * n)), replace=False
        )
    ] = True
    size = np.array([0.0, 0.6, 2.2, 6.0])[level] * rng.lognormal(0.0, 0.35, n)
    size *= np.where(is_new, 0.4, 1.0) * np.where(np.arange(n) == 0, 1.6, 1.0)
    cost_factor = rng.lognormal(0.0, 0.1, n) * np.where(specialist, 1.3, 1.0)
    mix_level = np.where(specialist, 3, level)
    share = size / size.sum()
    incentive_rate = np.array([0.0, 0.0002, 0.0012, 0.0035])[level]
    incentive_rate[0] = 0.011  # the biggest tertiary hospital exceeds the 6‰ quota
    frame = _hospital_frame(
        rng,
        level,
        is_new,
        _history(rng, catalog, mix_level, level, cost_factor, share * cases, is_new),
    )
    return _City(frame, share, cost_factor, mix_level, incentive_rate)


def _level_cost_factor(level: Array) -> Array:
    return np.array([0.0, *LEVEL_COST_FACTOR.values()])[level]


def _mix(catalog: _Catalog, mix_level: int) -> Array:
    """p(group | a hospital seeing the case mix of `mix_level`); no transplants below level 3."""
    weight = catalog.frame["weight"].to_numpy()
    p = catalog.popularity * weight ** MIX_TILT[mix_level]
    p[(weight >= 5) & (mix_level < 3)] = 0.0
    return p / p.sum()


def _history(
    rng: np.random.Generator,
    catalog: _Catalog,
    mix_level: Array,
    level: Array,
    cost_factor: Array,
    expected_cases: Array,
    is_new: Array,
) -> dict[str, Array]:
    """Historical average cost and total weight: what the hospital's mix and costs imply."""
    avg_cost, weight = catalog.frame["avg_cost"].to_numpy(), catalog.frame["weight"].to_numpy()
    mix = np.stack([_mix(catalog, m) for m in mix_level])
    level_factor = _level_cost_factor(level)
    hist_avg = mix @ avg_cost * level_factor * cost_factor * rng.lognormal(0.0, 0.04, len(level))
    hist_weight = expected_cases * (mix @ weight) * rng.lognormal(0.0, 0.06, len(level))
    return {
        "hist_avg_cost": np.where(is_new, 0.0, hist_avg.round(2)),
        "hist_cases": np.where(is_new, 0, expected_cases.round()).astype(np.int64),
        "hist_weight_total": np.where(is_new, 0.0, hist_weight.round(2)),
    }


def _tiers(level: Array, hist_avg_cost: Array) -> Array:
    """A = level 3, B = level 2, C = level 1; a level-2 hospital costlier than the level-3
    median history goes to A (stand-in for Wuxi's actuarial tiering model 精算模型)."""
    level3 = hist_avg_cost[(level == 3) & (hist_avg_cost > 0)]
    median3 = np.median(level3) if level3.size else np.inf
    tier = np.array(["", "C", "B", "A"])[level]
    return np.where((level == 2) & (hist_avg_cost > median3), "A", tier)


def _hospital_frame(
    rng: np.random.Generator, level: Array, is_new: Array, history: dict[str, Array]
) -> pl.DataFrame:
    n = len(level)
    counts = (int((level == 3).sum()), int((level == 2).sum()), int((level == 1).sum()))
    return pl.DataFrame(
        {
            "hospital_id": [f"H{i:04d}" for i in range(1, n + 1)],
            "name": _hospital_names(rng, counts),
            "level": level.astype(np.int64),
            "tier": _tiers(level, history["hist_avg_cost"]),
            "is_new": is_new,
            **history,
            "admission_ratio_growth": rng.uniform(-0.05, 0.15, n).round(4),
            "cost_per_weight_growth": rng.uniform(-0.05, 0.12, n).round(4),
            "list_accuracy": rng.uniform(0.85, 1.0, n).round(4),
            "assessment_score": rng.uniform(60.0, 100.0, n).round(1),
        }
    )


# ---- cases (病例) ------------------------------------------------------------------------------


def _hospitals_and_groups(
    rng: np.random.Generator, n: int, catalog: _Catalog, city: _City
) -> tuple[Array, Array]:
    """Hospital of each case by size, its group by the hospital's case mix; then the
    deliberately rare groups, placed at tertiary-mix hospitals."""
    hospital = rng.choice(len(city.share), n, p=city.share)
    group = np.empty(n, np.int64)
    mix = city.mix_level[hospital]
    for level in (1, 2, 3):
        where = np.flatnonzero(mix == level)
        group[where] = rng.choice(len(catalog.popularity), where.size, p=_mix(catalog, level))
    rare_at = rng.choice(n, sum(catalog.rare.values()), replace=False)
    group[rare_at] = np.repeat(list(catalog.rare), list(catalog.rare.values()))
    hospital[rare_at] = rng.choice(np.flatnonzero(city.mix_level == 3), rare_at.size)
    return hospital, group


def _secondary(rng: np.random.Generator, group: Array, catalog: _Catalog) -> Array:
    """A surgical group at a different ADRG for each case (siblings are ≤ 3 adjacent codes)."""
    surgical = np.flatnonzero(catalog.surgical)
    pick = rng.choice(
        surgical.size,
        group.size,
        p=catalog.popularity[surgical] / catalog.popularity[surgical].sum(),
    )
    adrg = catalog.frame["drg_code"].str.slice(0, 3).to_numpy()
    same = adrg[surgical[pick]] == adrg[group]
    return surgical[np.where(same, (pick + 3) % surgical.size, pick)]


def _cases(
    rng: np.random.Generator, n: int, year: int, catalog: _Catalog, city: _City
) -> pl.DataFrame:
    hospital, group = _hospitals_and_groups(rng, n, catalog, city)
    level = city.frame["level"].to_numpy()[hospital]
    weight = catalog.frame["weight"].to_numpy()[group]
    draw = rng.random((8, n))
    rare = np.isin(group, list(catalog.rare))
    ungrouped, ambiguous = (draw[0] < 0.01) & ~rare, (draw[0] >= 0.01) & (draw[0] < 0.015) & ~rare
    surgical = catalog.surgical[group] & ~ungrouped & ~ambiguous
    bilateral = surgical & (draw[1] < 0.06)
    multi_site = surgical & ~bilateral & (draw[2] < 0.045)
    incentive = ~ungrouped & (draw[3] < city.incentive_rate[hospital])
    special = draw[4] < 0.002
    heavy = catalog.heavy_tail[group] & (draw[5] < 0.1)
    factor = (
        _level_cost_factor(level)
        * city.cost_factor[hospital]
        * rng.lognormal(-(COST_SIGMA**2) / 2, COST_SIGMA, n)
        * np.where(heavy, rng.uniform(6, 12, n), 1.0)
        * np.where(bilateral, 1.4, 1.0)
        * np.where(multi_site, 1.3, 1.0)
        * np.where(incentive, rng.uniform(2, 4, n), 1.0)
        * np.where(special, rng.uniform(2.5, 5, n), 1.0)
    )
    total = np.maximum(catalog.frame["avg_cost"].to_numpy()[group] * factor, 80.0).round(2)
    employee = draw[6] < 0.45
    paid_share = np.where(employee, rng.uniform(0.25, 0.33, n), rng.uniform(0.32, 0.40, n))
    los = (2.5 + 6 * weight**0.55) * rng.lognormal(-0.1, 0.45, n) * np.where(incentive, 2, 1)
    codes = _case_codes(catalog, group, ungrouped, ambiguous)
    secondary = np.full(n, catalog.frame.height)  # index of "" (no secondary operation)
    secondary[multi_site] = _secondary(rng, group[multi_site], catalog)
    return pl.DataFrame(
        {
            "case_id": _case_ids(n),
            "hospital_id": city.frame["hospital_id"].gather(hospital),
            "drg_code": codes,
            "total_cost": total,
            "discharge_date": _discharge_dates(rng, n, year),
            "bilateral": bilateral,
            "multi_site": multi_site,
            "secondary_drg": pl.Series([*catalog.frame["drg_code"], ""]).gather(secondary),
            "unreasonable_cost": np.where(draw[7] < 0.06, total * rng.uniform(0, 0.05, n), 0).round(
                2
            ),
            "incentive_approved": incentive,
            "special_review": special,
            "patient_paid": (total * paid_share).round(2),
            "insurance_type": np.where(employee, "employee", "resident"),
            "los": np.clip(los.round(), 1, 180).astype(np.int64),
            "drg_suitable": rng.random(n) >= 0.01,
        }
    )


def _case_codes(catalog: _Catalog, group: Array, ungrouped: Array, ambiguous: Array) -> pl.Series:
    """drg_code: the group, or 0000 (未入组), or the MDC's xQY (歧义组)."""
    codes = catalog.frame["drg_code"]
    specials = ["0000", *(f"{chr(letter)}QY" for letter in range(ord("A"), ord("Z") + 1))]
    qy_index = np.array([ord(code[0]) - ord("A") + 1 for code in codes])
    index = np.where(
        ungrouped, len(codes), np.where(ambiguous, len(codes) + qy_index[group], group)
    )
    return pl.Series([*codes, *specials]).gather(index)


def _case_ids(n: int) -> pl.Series:
    width = max(6, len(str(n)))
    return pl.select(
        pl.concat_str(pl.lit("C"), pl.int_range(1, n + 1).cast(pl.String).str.zfill(width))
    ).to_series()


def _discharge_dates(rng: np.random.Generator, n: int, year: int) -> pl.Series:
    """Discharge dates spread over the year, in case-id order."""
    first = date(year, 1, 1).toordinal() - date(1970, 1, 1).toordinal()
    days = date(year + 1, 1, 1).toordinal() - date(year, 1, 1).toordinal()
    return pl.Series(np.sort(rng.integers(0, days, n)) + first).cast(pl.Int32).cast(pl.Date)


# ---- budget, README, writing ------------------------------------------------------------------


def _budget(cases: pl.DataFrame, hospitals: pl.DataFrame) -> dict[str, Any]:
    suitable = cases.filter(pl.col("drg_suitable")).join(
        hospitals.select("hospital_id", "tier"), on="hospital_id"
    )
    by_tier = dict(suitable.group_by("tier").agg(pl.sum("total_cost")).iter_rows())
    drg_fund = round(0.97 * float(suitable["total_cost"].sum()))
    return {
        "drg_fund": drg_fund,
        "inpatient_fund": round(drg_fund / 0.8),
        "tier_budget": {tier: round(0.97 * by_tier.get(tier, 0.0)) for tier in "ABC"},
        "totals": {"total_cost": round(float(cases["total_cost"].sum()), 2), "drg_fund": drg_fund},
    }


def _budget_yaml(budget: dict[str, Any], seed: int, year: int) -> str:
    tiers = "\n".join(f"    {tier}: {amount}" for tier, amount in budget["tier_budget"].items())
    return f"""\
# Budget of the synthetic city 示范市 (drgpolicy sample, seed {seed}). Amounts in 元.
contract_version: "{CONTRACT_VERSION}"
year: {year}
values:
  # DRG 年度预算: annual DRG budget on a total-cost basis
  # = 97% of the year's total cost of DRG-suitable cases.
  drg_fund: {budget["drg_fund"]}
  # 住院统筹基金总额: annual inpatient fund = drg_fund / 0.8 (DRG is 80% of inpatient spending).
  inpatient_fund: {budget["inpatient_fund"]}
  # 分档预算 (Wuxi 3-5-1): budget per tier = 97% of that tier's total cost of DRG-suitable cases.
  tier_budget:
{tiers}
"""


def _readme(summary: dict[str, Any], catalog: _Catalog, city: _City) -> str:
    levels = city.frame["level"].value_counts().sort("level").iter_rows()
    new = int(city.frame["is_new"].sum())
    return f"""\
# Synthetic sample: 示范市 {summary["year"]}

Generated by `engine.synthetic.sample.generate_sample(cases={summary["cases"]}, \
seed={summary["seed"]}, year={summary["year"]}, fmt="{summary["format"]}")`; the same arguments \
give byte-identical files.
Synthetic data for demos and tests, not real patients. Field meanings: `engine/CONTRACT.md`.

- `groups`: {catalog.frame.height} groups with CHS-DRG-shaped codes (MDC letter, ADRG letter +
  letter + digit, severity 1/3/5 or 9), including {len(REAL_GROUPS)} real CHS-DRG 2.0 groups with
  their real names (the 14 Yantai one-rate / Wuhan base groups have `base_group = true`); other
  names are synthetic. Weights are our own (lognormal, median ≈ 0.9, 0.2 to 30);
  `avg_cost` ≈ weight × {ALL_CASE_AVG_COST:.0f} 元 with noise.
- `hospitals`: {city.frame.height} hospitals; levels {", ".join(f"{lv}: {n}" for lv, n in levels)};
  {new} new (no history: `hist_avg_cost`, `hist_cases` and `hist_weight_total` are 0).
  Tier A = level 3, B = level 2, C = level 1, except a level-2 hospital whose `hist_avg_cost`
  is above the level-3 median goes to A: a stand-in for Wuxi's actuarial tiering model.
- `cases`: {summary["cases"]} discharges over {summary["year"]}; tertiary hospitals are bigger
  and see heavier groups; cost is lognormal (σ {COST_SIGMA}) around the group average ×
  level factor (1: 0.85, 2: 1.0, 3: 1.1) × hospital factor. About 1% ungrouped `0000`, 0.5%
  ambiguous `xQY`, 2% bilateral, 1.5% multi-site (with `secondary_drg`), 0.3% incentive approved
  (H0001 above a 6‰ quota), 0.2% special review, 1% unsuited to DRG. Some groups have ≤ 5 cases
  on purpose; some have a heavy cost tail (CV > 1). For the run-monitoring indicators (drawn
  from a stream of their own, `engine/synthetic/sample_monitoring.py`): `person_id` (each
  hospital admits its patients 1.05–1.25 times), `discharge_outcome` (death more likely in
  heavier groups), `self_paid` (2–10% of the cost), `drug_cost` and `consumable_cost`; in `groups`,
  `targeted_therapy` (RT, RU6) and `tcm_advantage` (BR15, BR25, IU29).
- `budget.yaml`: drg_fund, inpatient_fund and tier_budget (see its comments).
- `deductions`: {summary["deductions"]} deductions of three kinds (违规扣款 `audit_deduction`,
  拒付 `refusal`, 考核扣罚 `assessment_penalty`; each city reads the kinds its document names),
  0 to 4 per hospital over the year, each 10–80% of the hospital's median case cost, with a
  reason and a decision id.
- `assessments`: three scores per hospital for {summary["year"]}: `insurance_assessment`
  (年度医保考核, the same number as `assessment_score`), `drg_assessment` (DRG专项考核, 70 to
  100) and `data_quality` (数据质控审查, 75 to 100).
"""


def _write_table(out_dir: Path, kind: TableKind, frame: pl.DataFrame, fmt: str) -> None:
    """Write one table in contract column order; remove the same table in the other format so
    the folder stays loadable."""
    frame = frame.select(spec.name for spec in TABLES[kind])
    other = "parquet" if fmt == "csv" else "csv"
    (out_dir / f"{kind}.{other}").unlink(missing_ok=True)
    if fmt == "parquet":
        write_with(out_dir / f"{kind}.parquet", frame.write_parquet)
    else:
        precision = 2 if kind == "cases" else None
        write_with(out_dir / f"{kind}.csv", lambda p: frame.write_csv(p, float_precision=precision))
