"""What the language reference says of the values a policy works with: types, built-in
functions and aggregates, built-in fields, input tables, grains, stage periods, document
fields, and the settlement outputs of each payment method (see `terms.py`)."""

from __future__ import annotations

from tests.dsl.language_doc.terms import Term

T = Term

#: `policy_dsl.types.TYPE_NAMES`.
TYPES: dict[str, Term] = {
    "number": T("A plain number.", "纯数。", 'param cv_limit "变异系数上限" : number = 1'),
    "ratio": T(
        "A plain number read as a share or multiple: write `40%`, `6‰` or `0.4`.",
        "比例或倍数（纯数）：写作 `40%`、`6‰` 或 `0.4`。",
        'param low_ratio "低倍率判定倍数" : ratio = 40%',
    ),
    "count": T(
        "A whole number of things (cases, hospitals).",
        "个数（病例数、医院数），整数。",
        'param min_stable_cases "稳定病组最少病例数" : count = 5',
    ),
    "weight": T(
        "A relative weight (RW), a plain number.",
        "相对权重（RW），纯数。",
        'let base_weight "病组权重" : weight at group = weight',
    ),
    "level": T(
        "A hospital level: 0 (unrated), 1, 2 or 3.",
        "医院级别：0（未定级）、1、2、3。",
        'param top_level "最高级别" : level = 3',
    ),
    "money": T(
        "An amount in 元 (unit: money).",
        "金额，单位元。",
        'param per_diem_rate "床日付费标准" : money = 350 元',
    ),
    "rate": T(
        "Money per unit of weight (费率), unit: money.",
        "每单位权重的金额（费率），单位为金额。",
        'let rate "费率" : rate at all = period_fund / sum(settled_weight)',
    ),
    "points": T(
        "A number of points (unit: points).",
        "点数，单位点。",
        'param floor "保底点数" : points = 10 pt',
    ),
    "point_value": T(
        "Money per point (点值): money ÷ points.",
        "每点金额（点值）：金额 ÷ 点数。",
        'let point_value "点值" : point_value at all = period_fund / sum(settled_points)',
    ),
    "bool": T(
        "true or false.", "是或否（true / false）。", 'param use_history "按历史计算" : bool = true'
    ),
    "text": T("Text.", "文字。", 'report tier_rule "规则层级" : text at hospital = tier'),
    "date": T("A calendar date.", "日期。", 'param cutoff "截止日期" : date = 2024-06-30'),
}

#: `policy_dsl.builtins.FUNCTIONS`: the Chinese line and an example (the English line is the
#: registry's own `doc`).
FUNCTIONS: dict[str, Term] = {
    "min": T("", "参数中最小的（缺失的忽略）。", "min(current, base_points * 150%)", "expr"),
    "max": T("", "参数中最大的（缺失的忽略）。", "max(current, base_points * 150%)", "expr"),
    "clamp": T("", "把 x 限制在 [low, high] 之内。", "clamp(clearing_index, 0.9, 1.1)", "expr"),
    "floor": T("", "向下取整。", "floor(incentive_share[level] * drg_cases)", "expr"),
    "ceil": T("", "向上取整。", "ceil(count(case) * 5‰)", "expr"),
    "round": T("", "round(x, 位数)：四舍五入（远离零）。", "round(coefficient, 4)", "expr"),
    "ln": T("", "自然对数（0 或负数时缺失）。", "ln(total_cost)", "expr"),
    "round_fen": T("", "金额四舍五入到分（远离零）。", "round_fen(los * per_diem_rate)", "expr"),
    "abs": T("", "绝对值。", "abs(cost_per_weight_growth)", "expr"),
    "if_missing": T(
        "",
        "if_missing(x, y)：x 缺失时取 y。",
        "if_missing(base_points[group = no_cc(secondary_drg)], 0 pt)",
        "expr",
    ),
    "no_cc": T(
        "",
        "同一 ADRG 的不伴合并症并发症病组（…5，否则 …9）；目录中都没有（或 xQY、0000、空）时"
        "缺失，读它时请套 if_missing。",
        "no_cc(secondary_drg)",
        "expr",
    ),
    "adrg": T("", "病组编码的 ADRG（前三个字符）。", 'adrg(drg_code) == "GB1"', "expr"),
}

#: `policy_dsl.builtins.AGGREGATES` (English: the registry's own words).
AGGREGATES: dict[str, Term] = {
    "sum": T("", "较细一级各行的合计（没有行时为 0）。", "sum(settled_points)", "expr"),
    "mean": T(
        "", "较细一级各行的平均（没有行时缺失）。", "mean(total_cost where not ungrouped)", "expr"
    ),
    "min": T("", "较细一级各行的最小值（没有行时缺失）。", "min(combined_coefficient)", "expr"),
    "max": T("", "较细一级各行的最大值（没有行时缺失）。", "max(total_cost)", "expr"),
    "distinct": T(
        "",
        "distinct(x where …)：较细一级各行中 x 有多少个不同的值"
        "（如 distinct(person_id)：住院的人数；缺失值不计）。",
        "distinct(person_id)",
        "expr",
    ),
    "cv": T("", "变异系数：总体标准差 ÷ 平均值。", "cv(total_cost)", "expr"),
    "count": T(
        "",
        "count(<粒度> where …)：较细一级的行数（如 count(case)）。",
        "count(case where bilateral)",
        "expr",
    ),
    "share": T(
        "",
        "share(<粒度> where …)：满足条件的行所占比例。",
        "share(hospital where drg_hospital)",
        "expr",
    ),
}

#: `policy_dsl.builtins.SPECIAL_FORMS`.
SPECIAL_FORMS: dict[str, Term] = {
    "allocate": T(
        "",
        "allocate(总额, 权数)：按权数把总额分到各行，精确到分（分的尾差按最大余数给出）。",
        "allocate(payable_total, settled_points)",
        "expr",
    ),
}

#: Built-in fields that are not columns of the data contract (their English line here).
DERIVED_FIELDS: dict[str, Term] = {
    "ungrouped": T(
        "true when `drg_code` is `0000` (ungrouped) or `xQY` (ambiguous).",
        "`drg_code` 为 `0000`（未入组）或 `xQY`（歧义组）时为 true。",
    ),
    "month": T("The month of discharge, `YYYY-MM`.", "出院月份，`YYYY-MM`。"),
    "period_months": T(
        "How many months the settled period spans (12 for a year, 1 for a month).",
        "本结算期的月数（年度 12，月度 1）。",
    ),
    "period_year": T("The year of the settled period.", "本结算期所在年度。"),
}

#: `policy_dsl.builtins.INPUT_TABLES`: `input <table> NAME "label" [at grain] : type`.
INPUT_TABLES: dict[str, Term] = {
    "case": T(
        "A column of the cases file.",
        "病例表（cases）的一列。",
        'input case per_diem "按床日付费病例" : bool\n'
        '  assumption "cases 表的 per_diem 列，缺省 false"',
        "decl",
    ),
    "hospital": T(
        "A column of the hospitals file.",
        "医院表（hospitals）的一列。",
        'input hospital drg_qualified "纳入改革的基层医疗机构" : bool\n  assumption "缺省 false"',
        "decl",
    ),
    "group": T(
        "A column of the group catalog.",
        "病组目录（groups）的一列。",
        'input group rare "罕见病病组" : bool\n  assumption "groups 表的 rare 列"',
        "decl",
    ),
    "budget": T(
        "A figure of budget.yaml: one amount, or one per tier (`at tier`).",
        "budget.yaml 中的预算数：一个金额，或每档一个（`at tier`）。",
        'input budget tier_budget "分档预算" at tier : money\n  assumption "谈判确定的各档预算"',
        "decl",
    ),
    "deduction": T(
        "Per hospital, the sum of the deductions of this kind in the period (deductions.csv).",
        "每家医院本期该类扣款的合计（deductions.csv）。",
        'input deduction audit_deduction "智能审核违规扣款" : money\n'
        '  assumption "kind = audit_deduction"',
        "decl",
    ),
    "assessment": T(
        "Per hospital, its score of this assessment for the year (assessments.csv).",
        "每家医院该项考核的年度得分（assessments.csv）。",
        'input assessment drg_assessment "DRG专项考核得分" : number\n  assumption "百分制"',
        "decl",
    ),
}

#: `policy_dsl.grains.KEYS`, and `all`.
GRAINS: dict[str, Term] = {
    "case": T("One inpatient stay.", "一个病例（一次住院）。"),
    "hospital": T("One hospital; a case has one.", "一家医院；每个病例属于一家。"),
    "group": T("One DRG group; a case has one.", "一个 DRG 病组；每个病例属于一个。"),
    "level": T("A hospital level; a hospital has one.", "医院级别；每家医院有一个。"),
    "tier": T("A budget tier; a hospital has one.", "预算档次；每家医院属于一档。"),
    "month": T("A month of discharge; a case has one.", "出院月份；每个病例有一个。"),
    "all": T("The whole period: one value.", "整个结算期：一个值。"),
}

#: `policy_dsl.check.declarations.PERIODS`.
PERIODS: dict[str, Term] = {
    "month": T(
        "Settled month by month: a year's run settles each month on its own.",
        "逐月结算：年度运行时每月各自结算。",
    ),
    "year": T("Settled once for the period.", "按整个结算期结算一次。"),
}

#: `policy_dsl.ast.DOCUMENT_FIELDS`.
DOCUMENT_FIELDS: dict[str, Term] = {
    "issuer": T(
        "Who issued it (发文机关), in quotes.",
        "发文机关，写在引号里。",
        'issuer "宣城市医疗保障局"',
    ),
    "number": T(
        "Its number (文号) in quotes, or `none`.",
        "文号，写在引号里；没有文号写 `none`。",
        'number "宣医保秘〔2023〕16号"',
    ),
    "date": T(
        'A day `2021-05-10`, or in quotes the month `"2023-04"` or the year `"2022"`.',
        '日期 `2021-05-10`；只知道月份或年份时写在引号里：`"2023-04"`、`"2022"`。',
        "date 2021-05-10",
    ),
    "status": T(
        "`in_force`, `draft` or `report` (below).",
        "`in_force`、`draft` 或 `report`（见下）。",
        "status in_force",
    ),
    "text": T(
        "The file of its text, in a sources folder (optional; quotes are checked against it).",
        "全文文件名，放在 sources 文件夹里（可不写；有了才核对引文）。",
        'text "001_a723f35855d65e1a.txt"',
    ),
}

#: `policy_dsl.check.documents.STATUSES`.
STATUSES: dict[str, Term] = {
    "in_force": T("In force.", "现行有效。"),
    "draft": T("A draft for comments (征求意见稿).", "征求意见稿。"),
    "report": T(
        "A report, news article or slides: describes rules but is not the rule.",
        "报道、新闻稿或幻灯片：描述规则，但本身不是规则。",
    ),
}

#: `policy_dsl.check.structure.OUTPUTS`: what each settlement output is.
OUTPUTS: dict[str, Term] = {
    "category": T("The case's class (a classification).", "病例类型（一个分类）。"),
    "base_points": T("Base points (基准点数).", "基准点数。"),
    "case_points": T(
        "The case's points after its class and adjustments.", "按类别和调整后的病例点数。"
    ),
    "coefficient": T("The coefficient applied to the case (系数).", "适用于该病例的系数。"),
    "settled_points": T(
        "Settled points = case points × coefficient.", "结算点数 = 病例点数 × 系数。"
    ),
    "point_value": T("Money per point (点值).", "点值（每点金额）。"),
    "base_weight": T("The group's weight (病组权重).", "病组权重。"),
    "case_weight": T(
        "The case's weight after its class and adjustments.", "按类别和调整后的病例权重。"
    ),
    "settled_weight": T(
        "Settled weight = case weight × coefficient.", "结算权重 = 病例权重 × 系数。"
    ),
    "rate": T("Money per unit of weight (费率).", "费率（每单位权重的金额）。"),
    "payment": T(
        "The case's payable amount (病例支付额), money per case.",
        "病例支付额（应付金额），每个病例一个。",
    ),
}
