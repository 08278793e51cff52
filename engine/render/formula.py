"""A formula in words (公式的中文写法): the policy's canonical text of an expression
(`policy_dsl.unparse`) with each name it reads written as its Chinese label and each keyword,
built-in function and operator as the word or sign an analyst reads —

    level_coefficient * level_share + cost_coefficient * cost_share
    级别系数 × 级别系数占比 + 成本系数 × 成本系数占比

Quoted text stays as written; a name without a label stays as it is. The code form is shown
beside it on the page, so that the words never stand alone for the rule.
"""

from __future__ import annotations

import re
from collections.abc import Mapping

#: Keywords and built-ins, in the words the document uses.
WORDS = {
    "if": "如果",
    "then": "则",
    "elif": "否则如果",
    "else": "否则",
    "and": "且",
    "or": "或",
    "not": "非",
    "in": "属于",
    "is": "为",
    "where": "其中",
    "within": "分组：",
    "desc": "降序",
    "asc": "升序",
    "when": "当",
    "current": "当前值",
    "otherwise": "其他情形",
    "true": "是",
    "false": "否",
    "inf": "∞",
    "from": "从",
    "to": "到",
    "per": "每",
    "steps": "步骤",
    "by": "按",
    "monotone": "单调不减",
    "closes": "收支平衡于",
    "always": "始终成立",
    "min": "最小值",
    "max": "最大值",
    "sum": "合计",
    "mean": "平均值",
    "count": "计数",
    "share": "占比",
    "cv": "变异系数",
    "clamp": "限定在区间",
    "floor": "向下取整",
    "ceil": "向上取整",
    "round": "四舍五入",
    "round_fen": "四舍五入到分",
    "abs": "绝对值",
    "if_missing": "缺失时取",
    "no_cc": "不伴并发症病组",
    "adrg": "ADRG",
    "rank": "排名",
    "allocate": "按权重分配",
    "case": "病例",
    "hospital": "医疗机构",
    "group": "病组",
    "tier": "分档",
    "month": "月份",
    "pt": "点",
}

#: Operators as the signs of a written formula.
SIGNS = {"*": "×", "/": "÷", "<=": "≤", ">=": "≥", "!=": "≠", "==": "=", "->": "→"}

_TOKEN = re.compile(
    r'(?P<text>"(?:[^"\\]|\\.)*")|(?P<name>[A-Za-z_][A-Za-z0-9_]*)|(?P<sign><=|>=|!=|==|->|[*/])'
)


def in_words(formula: str, labels: Mapping[str, str]) -> str:
    """`formula` with names as their labels, keywords as words and operators as signs."""

    def word(match: re.Match[str]) -> str:
        if match.group("text") is not None:
            return match.group("text")
        if match.group("sign") is not None:
            return SIGNS[match.group("sign")]
        name = match.group("name")
        return labels.get(name) or WORDS.get(name) or name

    return _TOKEN.sub(word, formula)


__all__ = ["SIGNS", "WORDS", "in_words"]
