"""What the language reference says of each term, in English and Chinese, with an example.

The terms themselves come from the code (the grammar's keywords and symbols, the built-in
registries); this module only describes them. A term the code has and this module does not
describe stops the reference from being generated (`undocumented`), so nothing is added to the
language without a line in both references.

An example's `kind` says how the test suite checks it (`tests/dsl/test_language_doc.py`):
`file` parses as a whole file, `decl` as declarations after a header, `stage` as a stage after
one, `expr` as the expression of a definition; `text` is not parsed.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Term:
    """One term: what it is, in each language, and an example of its use."""

    en: str
    zh: str
    example: str = ""
    kind: str = "text"


T = Term
HEADER = 'policy hefei version "2024"\n  effective 2024-01-01 to 2024-12-31\n  method points'
CLASSIFY = (
    'classify category "病例类型"\n'
    '  class ungrouped "未入组病例" when ungrouped\n'
    '  class high "高倍率病例" when cost_ratio >= high_ratio\n'
    '  class normal "正常病例" otherwise'
)
FORMULA = (
    'formula class_points "病例分类点数" : points by category\n'
    "  ungrouped -> total_cost / all_avg_cost * 100 pt\n"
    "  high -> base_points * cost_ratio\n"
    "  otherwise -> base_points"
)
ADJUST = (
    'adjust case_points "病例点数" : points from class_points\n'
    '  step bilateral "双侧器官同时手术" when bilateral -> max(current, base_points * 150%)'
)
TABLE = (
    'table high_ratio_k "高倍率判定倍数" from points to ratio\n'
    '  assumption "按基准点数分档，待核"\n'
    "  [0, 100) -> 300%\n"
    "  [100, inf) -> 200%"
)
MONOTONE = (
    'invariant monotone_points "病例点数不随费用增加而下降"\n  monotone case_points in total_cost'
)
STAGE = (
    'stage monthly "月度结算" per month\n'
    '  let rate "月度费率" : rate at case = year_start.tier_rate'
)
INDICATOR = 'indicator cases "总病例数" : count unit "例" for city, hospital = count(case)'
RANK = "rank(incentive_points desc within hospital where incentive_candidate)"

#: Every keyword of the grammar (`policy_dsl.parser.keywords()`).
KEYWORDS: dict[str, Term] = {
    "for": T(
        "The grains an indicator or a target is computed for: `city`, `tier`, `level`, "
        "`hospital`, `group`, `month`.",
        "指标或目标按哪些口径计算：`city`、`tier`、`level`、`hospital`、`group`、`month`。",
        INDICATOR,
        "decl",
    ),
    "include": T(
        "Takes in a library module (`policy_dsl/library/`), e.g. the standard indicators; the "
        "policy may `override` any of its declarations. A version that `extends` another keeps "
        "its base's includes.",
        "取用指标库中的模块（`policy_dsl/library/`），如标准指标；本文件可逐项 `override`。"
        "`extends` 旧版本的新版本沿用旧版本的 include。",
        HEADER + '\n  include "indicators"',
        "file",
    ),
    "indicator": T(
        "A monitoring indicator (运行监测指标): a formula computed for each grain it lists "
        "(`for`), written to `indicators.csv`; `settled.<output>` reads the run's case results "
        "and `previous.<indicator>` the previous run's value (growth rates).",
        "运行监测指标：按所列口径（`for`）分别计算的公式，写入 `indicators.csv`；"
        "`settled.<输出>` 读本次结算的病例结果，`previous.<指标>` 读上一期的值（增长率）。",
        INDICATOR,
        "decl",
    ),
    "library": T(
        "Opens a library module instead of a policy: declarations that policies take in with "
        "`include`; a module settles nothing itself.",
        "指标库模块的文件头（代替 policy）：供政策文件用 `include` 取用的声明；模块本身不结算。",
        'library indicators version "1.0"\n  title "运行监测标准指标"',
        "file",
    ),
    "target": T(
        "A target (监测目标) on an indicator, checked for each grain listed: pass/fail in "
        "`indicators.csv` (`target`, `met`).",
        "指标的监测目标，按所列口径逐一检查："
        "在 `indicators.csv` 中给出目标与是否达到（`target`、`met`）。",
        'target grouping_floor "整体入组率在 90% 以上" : grouping_rate >= 90% for city, month',
        "decl",
    ),
    "unit": T(
        'The unit an indicator\'s value is reported in (`unit "例"`), shown beside it.',
        '指标数值的单位（`unit "例"`），与数值一同显示。',
        INDICATOR,
        "decl",
    ),
    "adjust": T(
        "Adjustments: named steps applied in order to a starting value (`from`), each reading "
        "the running value as `current`.",
        "调整：从起始值（`from`）出发，按顺序执行的具名步骤，每步以 `current` 读当前值。",
        ADJUST,
        "decl",
    ),
    "always": T(
        "An invariant that must hold for every row: `always <condition>`.",
        "不变式：对每一行都成立的条件，`always <条件>`。",
        'invariant points_not_negative "病例点数不为负"\n  always case_points >= 0 pt',
        "decl",
    ),
    "and": T(
        "Both conditions; a chain of `and` is one level however long.",
        "并且；一串 `and` 无论多长都只算一层嵌套。",
        "level >= 2 and not is_new",
        "expr",
    ),
    "asc": T(
        "Ascending order of a `rank` key (smallest first).",
        "`rank` 的升序（小的排前）。",
        "rank(cost_per_point asc within level)",
        "expr",
    ),
    "assumption": T(
        "Where no document fixes a value: what is assumed and why. A parameter or table needs a "
        "`source` or an `assumption` (E110).",
        "文件没有规定的数值：写明假设了什么、为什么。"
        "参数和表必须有 `source` 或 `assumption`（E110）。",
        'param low_ratio "低倍率判定倍数" : ratio = 40%\n'
        '  assumption "文件未给出；取 0.4 倍，待核"',
        "decl",
    ),
    "at": T(
        "The grain a definition is computed at: `at case`, `at hospital, group`, `at all`.",
        "定义的计算粒度：`at case`、`at hospital, group`、`at all`。",
        'let level_cost "级别次均费用" : money at level = mean(total_cost)',
        "decl",
    ),
    "by": T(
        "The classification a `formula` gives one value per class of.",
        "`formula` 按哪个分类逐类给值。",
        FORMULA,
        "decl",
    ),
    "class": T(
        "One class of a classification, with its condition (`when`) or `otherwise`.",
        "分类中的一类：带条件（`when`）或 `otherwise`。",
        CLASSIFY,
        "decl",
    ),
    "classify": T(
        "An ordered, first-match classification: every case gets exactly one class; the last "
        "class must be `otherwise` (E601).",
        "有序分类，先满足的为准：每个病例恰好归入一类；最后一类必须是 `otherwise`（E601）。",
        CLASSIFY,
        "decl",
    ),
    "closes": T(
        "An invariant that a value sums to a total: `closes payment to period_fund`.",
        "不变式：某值合计等于总额，`closes payment to period_fund`。",
        'invariant budget_closes "本期支付总额等于本期预算"\n  closes payment to period_fund',
        "decl",
    ),
    "current": T(
        "Inside an adjustment step: the value so far (E112 elsewhere).",
        "调整步骤中的当前值（在别处使用报 E112）。",
        ADJUST,
        "decl",
    ),
    "desc": T(
        "Descending order of a `rank` key (largest first).",
        "`rank` 的降序（大的排前）。",
        RANK,
        "expr",
    ),
    "document": T(
        "A source document that citations name, with its fields (issuer, number, date, status, "
        "text).",
        "被引用的依据文件及其字段（发文机关、文号、日期、状态、全文）。",
        'document sz "苏州市开展按疾病诊断相关分组DRG付费改革实施方案"\n'
        '  issuer "苏州市人民政府办公室"\n'
        '  number "苏府办[2021]103号"\n'
        "  date 2021-05-10\n"
        "  status in_force\n"
        '  text "001_a723f35855d65e1a.txt"',
        "decl",
    ),
    "effective": T(
        "The version's effective dates: `effective FROM to TO` (the end may be left open).",
        "版本的生效日期：`effective 起 to 止`（止日可不写）。",
        HEADER,
        "file",
    ),
    "elif": T(
        "A further condition of an `if`.",
        "`if` 的下一个条件。",
        "if cost_ratio >= 3 then 1 elif cost_ratio <= 0.4 then 2 else 0",
        "expr",
    ),
    "else": T(
        "The value of an `if` when no condition holds; in a table, the row for any other key.",
        "`if` 条件都不成立时的值；在表中是其余键的行。",
        "if level >= 3 then 110% else 100%",
        "expr",
    ),
    "extends": T(
        "The earlier version of the same city this one starts from; everything it does not "
        "`override` is taken from there.",
        "本版本所继承的同城旧版本；没有 `override` 的内容都沿用旧版本。",
        'policy xuancheng version "2024"\n  effective 2024-01-01 to 2024-12-31\n  extends "2023"\n'
        "  method points",
        "file",
    ),
    "false": T("The boolean false.", "布尔值“否”。", "special_review == false", "expr"),
    "formula": T(
        "One value per class of a classification (`by`); `otherwise ->` for the rest.",
        "按分类（`by`）逐类给值；其余类用 `otherwise ->`。",
        FORMULA,
        "decl",
    ),
    "from": T(
        "A table's key type (`from level to ratio`); an adjustment's starting value.",
        "表的键类型（`from level to ratio`）；调整的起始值。",
        TABLE,
        "decl",
    ),
    "if": T(
        "A value chosen by conditions: `if … then … elif … then … else …`.",
        "按条件取值：`if … then … elif … then … else …`。",
        "if category is special then 1 else hospital_coefficient",
        "expr",
    ),
    "in": T(
        "A class among several (`category in (high, low)`); a parameter's range "
        "(`: ratio in [0, 1]`); the variable of `monotone`.",
        "属于几个类之一（`category in (high, low)`）；参数的取值范围（`: ratio in [0, 1]`）；"
        "`monotone` 的自变量。",
        "category in (normal, high, low)",
        "expr",
    ),
    "inf": T(
        "An open upper end of a table row or a range.",
        "表的区间行或取值范围的无上限端。",
        TABLE,
        "decl",
    ),
    "input": T(
        "A field the policy reads beyond the built-in ones: a column of cases, hospitals or "
        "groups, a budget figure, a deduction or an assessment score.",
        "内置字段之外要读的数据：病例、医院、病组表的列，预算数，扣款或考核得分。",
        'input case per_diem "按床日付费病例" : bool\n  assumption "cases 表的 per_diem 列"',
        "decl",
    ),
    "invariant": T(
        "A property the author asserts; the test suite checks it on generated data.",
        "作者断言的性质，测试用生成的数据检查。",
        MONOTONE,
        "decl",
    ),
    "is": T(
        "A case's class: `category is high`, `category is not special`.",
        "判断类别：`category is high`、`category is not special`。",
        "category is not special",
        "expr",
    ),
    "let": T(
        "A definition: a named value computed at a grain.",
        "定义：在某粒度上计算的具名数值。",
        'let cost_ratio "费用倍率" : ratio at case = total_cost / avg_cost',
        "decl",
    ),
    "method": T(
        "The payment method, `points` (点数法) or `rate` (费率法): it fixes the settlement "
        "outputs the policy must define (E801).",
        "付费方法，`points`（点数法）或 `rate`（费率法），决定必须定义的结算结果（E801）。",
        HEADER,
        "file",
    ),
    "monotone": T(
        "An invariant that a value does not fall when another rises (same group, same hospital).",
        "不变式：同一病组、同一医院内，一个值随另一个值增加而不下降。",
        MONOTONE,
        "decl",
    ),
    "not": T("The opposite of a condition.", "条件取反。", "not ungrouped", "expr"),
    "or": T(
        "Either condition; a chain of `or` is one level however long.",
        "或者；一串 `or` 无论多长都只算一层嵌套。",
        "level <= 1 or is_new",
        "expr",
    ),
    "otherwise": T(
        "The catch-all class of a classification, or the value of a formula for the other classes.",
        "分类的兜底类，或公式中其余各类的值。",
        CLASSIFY,
        "decl",
    ),
    "override": T(
        "Replaces the base version's declaration of the same name (E702 if there is none, "
        "E704 if a redeclaration lacks it).",
        "替换旧版本的同名声明（旧版本没有则报 E702；重复声明却没写 override 报 E704）。",
        'override param low_ratio "低倍率判定倍数" : ratio = 30%\n  assumption "2024 年下调"',
        "decl",
    ),
    "param": T(
        "A parameter: a labelled, typed number (or flag, text, date) with its citation.",
        "参数：带标签、类型和出处的数值（或开关、文字、日期）。",
        'param low_ratio "低倍率判定倍数" : ratio in [0, 1] = 40%\n  assumption "待核"',
        "decl",
    ),
    "per": T(
        "The period a stage settles: `per month` or `per year`. After a target's grains, "
        "`per year` makes it a yearly target (年度目标): judged only on a run of a whole year "
        "(`--period 2024`), not on its months; a month's or a quarter's run shows the value "
        "against it as progress (`target` ends `per year: progress`, `met` empty).",
        "阶段的结算周期：`per month` 或 `per year`。写在目标的口径之后，`per year` 表示年度目标："
        "只在全年结算期（`--period 2024`）判定，年度结算中的各月不判定；"
        "按月、按季结算时只列数值作为进度（`target` 以 `per year: progress` 结尾，`met` 为空）。",
        STAGE,
        "stage",
    ),
    "policy": T(
        'The header\'s first word: `policy CITY version "VERSION"`.',
        '文件头的第一个词：`policy 城市 version "版本"`。',
        HEADER,
        "file",
    ),
    "rank": T(
        "A row's place within groups of rows, by keys in order (1 = first).",
        "按键排序后，行在组内的名次（1 为第一）。",
        RANK,
        "expr",
    ),
    "report": T(
        "A definition that is also put in the hospital statement or the period summary.",
        "同时写入医院结算单或期间汇总的定义。",
        'report cases_paid "结算病例数" : count at hospital = count(case)',
        "decl",
    ),
    "source": T(
        "A citation: the document and its exact words (`drgpolicy check --sources` finds them "
        "in the text, E137 if not).",
        "引用：文件及其原话（`drgpolicy check --sources` 在全文中逐字查找，找不到报 E137）。",
        'param low_ratio_grassroots "一级及以下医疗机构低倍率判定系数" : ratio = 30%\n'
        '  source xc2024 "住院总费用低于本 DRG 病组均次费用 0.3 倍以下"',
        "decl",
    ),
    "stage": T(
        "A step of the settlement flow with its own declarations; a later stage reads an "
        "earlier one as `stage.name`.",
        "结算流程中的一个阶段，有自己的声明；后面的阶段以 `阶段.名称` 读前面的。",
        STAGE,
        "stage",
    ),
    "step": T(
        'One named step of an adjustment: `step NAME "label" when CONDITION -> VALUE`.',
        '调整中的一个具名步骤：`step 名称 "标签" when 条件 -> 值`。',
        ADJUST,
        "decl",
    ),
    "table": T(
        'A lookup by key or by range: `table NAME "label" from KEY_TYPE to VALUE_TYPE`, then '
        "its rows.",
        '按键或区间查值的表：`table 名称 "标签" from 键类型 to 值类型`，然后逐行。',
        TABLE,
        "decl",
    ),
    "then": T(
        "The value of an `if` when its condition holds.",
        "`if` 条件成立时的值。",
        "if is_new then 80% else 100%",
        "expr",
    ),
    "title": T(
        "The title of the version, usually the document's.",
        "版本标题，一般用文件标题。",
        'policy suzhou version "2024"\n  title "苏州市按疾病诊断相关分组DRG付费"\n'
        "  effective 2024-01-01\n  method points",
        "file",
    ),
    "to": T(
        "The end date of `effective`; a table's value type; the total of `closes`.",
        "`effective` 的截止日期；表的值类型；`closes` 的总额。",
        TABLE,
        "decl",
    ),
    "true": T("The boolean true.", "布尔值“是”。", "bilateral == true", "expr"),
    "version": T(
        "The version's name, in quotes (a plain name: E140).",
        "版本名，写在引号里（须为简单名称：E140）。",
        HEADER,
        "file",
    ),
    "when": T(
        "The condition of a class or an adjustment step.",
        "类别或调整步骤的条件。",
        CLASSIFY,
        "decl",
    ),
    "where": T(
        "Which rows an aggregate, `count`, `share` or `rank` takes.",
        "聚合、`count`、`share`、`rank` 取哪些行。",
        "mean(total_cost where not ungrouped)",
        "expr",
    ),
    "within": T(
        "The groups a `rank` ranks within.",
        "`rank` 在哪些分组内排名。",
        RANK,
        "expr",
    ),
}

#: Every symbol of the grammar: its string terminals that are not words, and the comparison
#: operators.
SYMBOLS: dict[str, Term] = {
    "+": T("Addition (same units).", "加（单位相同）。", "base_points + 50 pt", "expr"),
    "-": T(
        "Subtraction (same units), or a negative number.",
        "减（单位相同），或负号。",
        "total_cost - unreasonable_cost",
        "expr",
    ),
    "*": T(
        "Multiplication: units multiply (points × money per point → money).",
        "乘：单位相乘（点数 × 点值 → 金额）。",
        "settled_points * point_value",
        "expr",
    ),
    "/": T(
        "Division: units divide (money ÷ money → a plain number).",
        "除：单位相除（金额 ÷ 金额 → 纯数）。",
        "total_cost / avg_cost",
        "expr",
    ),
    "==": T("Equal.", "等于。", 'tier == "A"', "expr"),
    "!=": T("Not equal.", "不等于。", 'secondary_drg != ""', "expr"),
    "<": T("Less than.", "小于。", "cost_ratio < 0.4", "expr"),
    "<=": T("Less than or equal.", "小于或等于。", "cost_ratio <= low_ratio", "expr"),
    ">": T("Greater than.", "大于。", "count(case) > 5", "expr"),
    ">=": T("Greater than or equal.", "大于或等于。", "cost_ratio >= high_ratio", "expr"),
    "=": T(
        "Gives a parameter or definition its value; re-keys a lookup (`name[group = …]`).",
        "给参数或定义赋值；换键读取（`name[group = …]`）。",
        "base_points[group = no_cc(secondary_drg)]",
        "expr",
    ),
    "->": T(
        "Gives a table row, a formula arm or an adjustment step its value.",
        "给表的行、公式的一类或调整步骤赋值。",
        TABLE,
        "decl",
    ),
    ":": T(
        "Introduces a type: `: ratio`, `: money at hospital`.",
        "引出类型：`: ratio`、`: money at hospital`。",
        'let drg_cases "DRG 病例数" : count at hospital = count(case)',
        "decl",
    ),
    ",": T(
        "Separates arguments, grain keys, table bounds and classes.",
        "分隔参数、粒度键、区间端点和类别。",
        "clamp(clearing_index, 0.9, 1.1)",
        "expr",
    ),
    ".": T(
        "Reads a value of an earlier stage: `monthly.payment`.",
        "读前面阶段的值：`monthly.payment`。",
        "sum(monthly.payment)",
        "expr",
    ),
    "(": T(
        "Groups an expression; opens arguments; an open lower or upper end of a range.",
        "括号；函数参数；区间的开端。",
        "(total_cost - unreasonable_cost) / all_avg_cost",
        "expr",
    ),
    ")": T("Closes `(`.", "与 `(` 配对。", "max(current, base_points)", "expr"),
    "[": T(
        "A table lookup (`table[key]`), a re-keyed read, or a closed end of a range.",
        "查表（`表[键]`）、换键读取，或区间的闭端。",
        "level_coefficient[level]",
        "expr",
    ),
    "]": T("Closes `[`.", "与 `[` 配对。", "incentive_share[level]", "expr"),
}

#: Every literal of the grammar (the terminals of its `literal` rule), by terminal name.
LITERALS: dict[str, Term] = {
    "NUMBER": T(
        "A plain number; an exponent is allowed (`1.2e9`).",
        "纯数，可用科学计数法（`1.2e9`）。",
        "1.5",
        "expr",
    ),
    "PERCENT": T("A ratio in percent: `80%` is 0.8.", "百分数：`80%` 即 0.8。", "80%", "expr"),
    "PERMILLE": T("A ratio in per mille: `6‰` is 0.006.", "千分数：`6‰` 即 0.006。", "6‰", "expr"),
    "MONEY": T(
        "An amount of money in 元: `1200 元` or `¥1200`.",
        "金额（元）：`1200 元` 或 `¥1200`。",
        "1200 元",
        "expr",
    ),
    "POINTS": T(
        "A number of points: `100 pt` or `100 点`.",
        "点数：`100 pt` 或 `100 点`。",
        "100 pt",
        "expr",
    ),
    "DATE": T(
        "A calendar date, YYYY-MM-DD (E004 if there is no such day).",
        "日期，YYYY-MM-DD（不存在的日期报 E004）。",
        "2024-01-01",
        "expr",
    ),
    "STRING": T(
        "Text in double quotes: labels, quotes, file names.",
        "双引号中的文字：标签、引文、文件名。",
        '"正常病例"',
        "expr",
    ),
    "TRUE": T("The boolean true.", "布尔值“是”。", "true", "expr"),
    "FALSE": T("The boolean false.", "布尔值“否”。", "false", "expr"),
}
