"""Output tables in Chinese (`--labels zh`, 中文表头): column headers and class names taken from
the policy's own labels — each definition's and input's label, each class's label — then the
core fields' labels (`policy_dsl.builtins`), then the engine's own columns (`ENGINE_COLUMNS`).

A header two columns would share gets the column's name after it (`病例点数（case_points）`);
a column without a label keeps its name. Values are not translated, except class names (a
category `low` is written `低倍率病例`); ids, codes, numbers and reject reasons stay as they
are. The manifest keeps each file's headers (`headers`: Chinese → name), so a tool can read a
Chinese file back by name (`by_name`).
"""

from __future__ import annotations

from collections.abc import Mapping

import polars as pl

from policy_dsl import ir
from policy_dsl.builtins import CORE_FIELDS

#: The `--labels` choices: the names as they are (`en`, the default) or Chinese.
LABELS = ("en", "zh")

#: Columns the engine writes that are neither a definition of the policy nor a core field.
ENGINE_COLUMNS = {
    "hospital_name": "医疗机构名称",
    "level": "医院级别",
    "tier": "分档",
    "month": "结算月份",
    "cases": "病例数",
    "total_cost": "住院总费用",
    "patient_paid": "个人负担",
    "fund_payment": "基金支付",
    "period": "结算期",
    "budget": "预算",
    # rejects
    "file": "文件",
    "row": "行号",
    "key": "键",
    "field": "字段",
    "reason": "原因",
    "value": "值",
    # deductions
    "kind": "扣款类型",
    "label": "名称",
    "amount": "金额",
    "date": "日期",
    "reference": "依据文号",
    "stage": "结算阶段",
    # indicators (运行监测指标)
    "indicator": "指标",
    "grain": "口径",
    "unit": "单位",
    "target": "目标",
    "met": "是否达到",
    "note": "说明",
}


def policy_labels(policy: ir.Policy) -> dict[str, str]:
    """Every name a policy labels — core fields, inputs, then definitions — with its label."""
    labels = {name: field.label for name, field in CORE_FIELDS.items()}
    labels |= ENGINE_COLUMNS
    labels |= {i.name: i.label for i in policy.inputs if i.label}
    for stage in policy.stages:
        labels |= {d.name: d.label for d in stage.definitions if d.label}
    categories = class_labels(policy).get("category", {})
    return labels | {f"cases_{c}": f"{label}数" for c, label in categories.items()}


def class_labels(policy: ir.Policy) -> dict[str, dict[str, str]]:
    """Per classification, its classes' labels by class name."""
    found: dict[str, dict[str, str]] = {}
    for stage in policy.stages:
        for d in stage.definitions:
            if isinstance(d.expr, ir.Classify):
                found[d.name] = {c.name: c.label or c.name for c in d.expr.classes}
    return found


def headers(columns: list[str], labels: Mapping[str, str]) -> dict[str, str]:
    """Each column's Chinese header (name → header), every header once."""
    found: dict[str, str] = {}
    taken: set[str] = set()
    for name in columns:
        header = labels.get(name, name)
        if header in taken:
            header = f"{header}（{name}）"
        taken.add(header)
        found[name] = header
    return found


def in_chinese(frame: pl.LazyFrame, policy: ir.Policy) -> tuple[pl.LazyFrame, dict[str, str]]:
    """The frame with class names as their labels and Chinese headers; and the headers
    (Chinese → name) for the manifest."""
    classes = class_labels(policy)
    names = frame.collect_schema().names()
    named = frame.with_columns(
        pl.col(name).cast(pl.String).replace(classes[name]) for name in names if name in classes
    )
    shown = headers(names, policy_labels(policy))
    return named.rename(shown), {header: name for name, header in shown.items()}


def named(frame: pl.DataFrame, headers: Mapping[str, str]) -> pl.DataFrame:
    """A table written with `--labels zh` with its columns by name again."""
    return frame.rename({h: n for h, n in headers.items() if h in frame.columns})


def by_name(frame: pl.DataFrame, headers: Mapping[str, str], policy: ir.Policy) -> pl.DataFrame:
    """A table written with `--labels zh` read back by name, class names restored."""
    frame = named(frame, headers)
    classes = class_labels(policy)
    return frame.with_columns(
        pl.col(name).replace({label: c for c, label in classes[name].items()})
        for name in frame.columns
        if name in classes
    )


__all__ = [
    "ENGINE_COLUMNS",
    "LABELS",
    "by_name",
    "class_labels",
    "headers",
    "in_chinese",
    "named",
]
