"""The canonical formatter (`drgpolicy fmt`): one layout for every policy, comments kept.

Layout: header clauses one per line; one blank line between declarations where the source had
one (or everywhere, for a tree with no source); sub-items (classes, arms, steps, rows) and
citations indented under their declaration; long formulas broken at `or`, `and` and `if`.
Comments stay before the line they preceded, or at the end of the line they ended; a comment
between the lines of one declaration (inside a long formula) goes right above that declaration,
after the blank line that separates it from the one before.
The canonical text has no byte-order mark and ends its lines with LF: `drgpolicy fmt` writes a
file that starts with a mark, or ends its lines with CR LF (Windows) or CR alone (classic Mac),
back without the mark and with LF (and `fmt --check` lists such a file as not formatted). Lines
are counted as the parser counts them (`diagnostics.source_lines`), so a comment stays on the
line `drgpolicy check` says it is on, whatever the line endings.
"""

from __future__ import annotations

import bisect
from collections.abc import Iterator
from dataclasses import dataclass

from policy_dsl import ast as a
from policy_dsl.diagnostics import source_lines
from policy_dsl.parser import without_bom
from policy_dsl.unparse import WIDTH, expr_lines, expr_text, range_text, string_text


@dataclass(frozen=True)
class Comment:
    """A `#` comment: its line, and whether it stands alone on that line."""

    line: int
    text: str
    own_line: bool


def scan_comments(text: str) -> list[Comment]:
    """Every comment of a file (a `#` outside quotes up to the end of the line)."""
    found = []
    for number, line in enumerate(source_lines(text), start=1):
        column = _comment_start(line)
        if column is not None:
            found.append(Comment(number, line[column:].rstrip(), not line[:column].strip()))
    return found


def _comment_start(line: str) -> int | None:
    quoted = escaped = False
    for i, ch in enumerate(line):
        if escaped:
            escaped = False
        elif ch == "\\" and quoted:
            escaped = True
        elif ch == '"':
            quoted = not quoted
        elif ch == "#" and not quoted:
            return i
    return None


@dataclass(frozen=True)
class Unit:
    """Output lines standing for the source from line `start` on; a blank line may precede a
    `block` unit (a declaration or stage), never a sub-item."""

    lines: list[str]
    start: int
    block: bool = False


def format_policy(tree: a.Policy, source: str | None = None) -> str:
    """Canonical text of a policy; `source` (the original text) supplies comments and blank
    lines. Without it, declarations are separated by one blank line."""
    layout = Layout.of(without_bom(source)) if source else None
    return _weave(list(_units(tree)), layout)


@dataclass(frozen=True)
class Layout:
    """What the formatter keeps of the source text: its comments, and which lines are blank
    or hold code."""

    comments: list[Comment]
    blanks: set[int]
    code: list[int]  # in order

    @staticmethod
    def of(source: str) -> Layout:
        blanks, code = set(), []
        for number, line in enumerate(source_lines(source), start=1):
            if not line.strip():
                blanks.add(number)
            elif line[: _comment_start(line)].strip():
                code.append(number)
        return Layout(scan_comments(source), blanks, code)

    def blank_before(self, line: int) -> bool:
        return line - 1 in self.blanks

    def last_code_line(self, start: int, end: int) -> int:
        """The last line with code from `start` to `end` (`start` if there is none)."""
        index = bisect.bisect_right(self.code, end) - 1
        return self.code[index] if index >= 0 and self.code[index] >= start else start


def _weave(units: list[Unit], layout: Layout | None) -> str:
    out: list[str] = []
    pending = _Pending(layout.comments if layout else [])
    for index, unit in enumerate(units):
        end = units[index + 1].start - 1 if index + 1 < len(units) else 10**9
        last = layout.last_code_line(unit.start, end) if layout else unit.start
        leading = pending.before(unit.start)
        inside, trailing = pending.within(unit.start, last, end)
        lines, displaced = _attach(unit, trailing, last)
        indent = unit.lines[0][: len(unit.lines[0]) - len(unit.lines[0].lstrip())]
        for comment in leading:
            if layout is not None and layout.blank_before(comment.line):
                out.append("")
            out.append(indent + comment.text)
        if unit.block and (layout is None or layout.blank_before(unit.start)):
            out.append("")
        # comments from inside the unit (a long formula) go right above it, with it
        out.extend(indent + comment.text for comment in [*inside, *displaced])
        out.extend(lines)
    for comment in pending.before(10**9):  # after the last declaration
        if layout is not None and layout.blank_before(comment.line):
            out.append("")
        out.append(comment.text)
    return "\n".join(_tidy(out)).strip("\n") + "\n"


class _Pending:
    """The comments not yet placed, taken in order of line as the units (in source order) come:
    each comment is looked at once, so a file of n lines is woven in time linear in n."""

    def __init__(self, comments: list[Comment]) -> None:
        self.comments = sorted(comments, key=lambda c: c.line)
        self.next = 0
        self.carried: list[Comment] = []  # own-line comments after a unit's last code line

    def before(self, line: int) -> list[Comment]:
        """The comments above `line` not placed yet: they go before the unit starting there."""
        while self.next < len(self.comments) and self.comments[self.next].line < line:
            self.carried.append(self.comments[self.next])
            self.next += 1
        found, self.carried = self.carried, []
        return found

    def within(self, start: int, last: int, end: int) -> tuple[list[Comment], list[Comment]]:
        """The comments of a unit's lines `start` … `end` (its code ends on `last`): own-line
        ones between its code lines (a long formula), which go above it, and end-of-line ones.
        Own-line comments after its code are left for the next unit."""
        inside: list[Comment] = []
        trailing: list[Comment] = []
        while self.next < len(self.comments) and self.comments[self.next].line <= end:
            comment = self.comments[self.next]
            self.next += 1
            if not comment.own_line:
                trailing.append(comment)
            elif start < comment.line < last:
                inside.append(comment)
            else:
                self.carried.append(comment)
        return inside, trailing


def _attach(unit: Unit, trailing: list[Comment], last: int) -> tuple[list[str], list[Comment]]:
    """The unit's lines with its trailing comments at the end of the line they ended in the
    source: counted from the unit's first line, but a comment on its last line stays on its
    last line. Where two would share a line, the earlier one is returned, to go on its own line
    before the unit (comments keep their order)."""
    lines = list(unit.lines)
    taken: set[int] = set()
    displaced: list[Comment] = []
    for comment in reversed(trailing):
        offset = len(lines) - 1 if comment.line == last else comment.line - unit.start
        index = min(offset, len(lines) - 1)
        if index in taken:
            displaced.insert(0, comment)
            continue
        taken.add(index)
        lines[index] += "  " + comment.text
    return lines, displaced


def _tidy(lines: list[str]) -> list[str]:
    """No blank line at the start, none doubled."""
    result: list[str] = []
    for line in lines:
        if line == "" and (not result or result[-1] == ""):
            continue
        result.append(line.rstrip())
    return result


def _units(tree: a.Policy) -> Iterator[Unit]:
    yield Unit(_header_lines(tree.header), tree.header.span.line, block=True)
    for decl in tree.items:
        yield from _declaration_units(decl, 0)
    for stage in tree.stages:
        head = f"stage {stage.name} {string_text(stage.label)} per {stage.period}"
        yield Unit([head], stage.span.line, block=True)
        yield from _citation_units(stage.citations, 2)
        for decl in stage.items:
            yield from _declaration_units(decl, 2)


def _header_lines(header: a.Header) -> list[str]:
    keyword = "library" if header.library else "policy"
    lines = [f"{keyword} {header.city} version {string_text(header.version)}"]
    if header.title is not None:
        lines.append(f"  title {string_text(header.title)}")
    if header.effective_from is not None:
        end = f" to {header.effective_to.isoformat()}" if header.effective_to else ""
        lines.append(f"  effective {header.effective_from.isoformat()}{end}")
    if header.extends is not None:
        lines.append(f"  extends {string_text(header.extends)}")
    if header.method is not None:
        lines.append(f"  method {header.method}")
    lines += [f"  include {string_text(name)}" for name in header.includes]
    return lines


def _declaration_units(decl: a.Declaration, indent: int) -> Iterator[Unit]:
    pad = " " * indent
    head = _head_lines(decl, indent)
    yield Unit([pad + line for line in head], decl.span.line, block=True)
    if isinstance(decl, a.Document):
        for field in decl.fields:
            yield Unit([f"{pad}  {field_text(field)}"], field.span.line)
    yield from _citation_units(getattr(decl, "citations", ()), indent + 2)
    for part in _parts(decl):
        lines = _part_lines(part, indent + 2)
        yield Unit([" " * (indent + 2) + line for line in lines], part.span.line)
        yield from _citation_units(getattr(part, "citations", ()), indent + 4)


def _citation_units(citations: tuple[a.Citation, ...], indent: int) -> Iterator[Unit]:
    for citation in citations:
        yield Unit([" " * indent + citation_text(citation)], citation.span.line)


def citation_text(citation: a.Citation) -> str:
    if isinstance(citation, a.Assumption):
        return f"assumption {string_text(citation.reason)}"
    article = f" {string_text(citation.article)}" if citation.article is not None else ""
    return f"source {citation.document}{article}"


def field_text(field: a.DocumentField) -> str:
    """`issuer "…"`, `number none`, `date 2021-05-10`."""
    value = field.value
    if isinstance(value, a.Text):
        shown = string_text(value.value)
    elif isinstance(value, a.Name):
        shown = value.name
    else:
        shown = expr_text(value)
    return f"{field.name} {shown}"


def _parts(decl: a.Declaration) -> tuple[a.ClassArm | a.FormulaArm | a.Step | a.TableRow, ...]:
    if isinstance(decl, a.Classify):
        return decl.classes
    if isinstance(decl, a.Formula):
        return decl.arms
    if isinstance(decl, a.Adjust):
        return decl.steps
    if isinstance(decl, a.Table):
        return decl.rows
    return ()


def _typed(type_name: str | None) -> str:
    return f" : {type_name}" if type_name else ""


def _head_lines(decl: a.Declaration, indent: int) -> list[str]:
    prefix = "override " if decl.override else ""
    if isinstance(decl, a.Let):
        keyword = "report" if decl.report else "let"
        head = (
            f"{prefix}{keyword} {decl.name} {string_text(decl.label)}{_typed(decl.type)}"
            f" at {', '.join(decl.grain.keys)} ="
        )
        return _head_with_expr(head, decl.expr, indent)
    if isinstance(decl, a.Adjust):
        head = f"{prefix}adjust {decl.name} {string_text(decl.label)}{_typed(decl.type)} from"
        return _head_with_expr(head, decl.start, indent)
    if isinstance(decl, a.Indicator):
        return _indicator_lines(prefix, decl, indent)
    lines = _simple_head(decl)
    return [prefix + lines[0], *lines[1:]]


def _indicator_lines(prefix: str, decl: a.Indicator, indent: int) -> list[str]:
    """`indicator … for city, hospital =` and its formula; its `when`, if any, on a line of its
    own under them."""
    unit = f" unit {string_text(decl.unit)}" if decl.unit is not None else ""
    head = (
        f"{prefix}indicator {decl.name} {string_text(decl.label)} : {decl.type}{unit}"
        f" for {', '.join(decl.grains)} ="
    )
    lines = _head_with_expr(head, decl.expr, indent)
    if decl.listing is not None:
        lines += ["  " + line for line in _head_with_expr("when", decl.listing, indent + 2)]
    return lines


def _head_with_expr(head: str, expr: a.Expr, indent: int) -> list[str]:
    room = WIDTH - indent - len(head) - 1
    lines = expr_lines(expr, indent + len(head) + 1, room)
    if len(lines) == 1 and len(lines[0]) <= room:
        return [f"{head} {lines[0]}"]
    return [head] + ["  " + line for line in expr_lines(expr, indent + 2)]


def _simple_head(decl: a.Declaration) -> list[str]:
    if isinstance(decl, a.Document):
        return [f"document {decl.name} {string_text(decl.title)}"]
    if isinstance(decl, a.Input):
        grain = f" at {', '.join(decl.grain.keys)}" if decl.grain else ""
        return [f"input {decl.table} {decl.name} {string_text(decl.label)}{grain} : {decl.type}"]
    if isinstance(decl, a.Param):
        declared = f" in {range_text(decl.range)}" if decl.range else ""
        label = string_text(decl.label)
        return [f"param {decl.name} {label} : {decl.type}{declared} = {expr_text(decl.value)}"]
    if isinstance(decl, a.Table):
        label = string_text(decl.label)
        return [f"table {decl.name} {label} from {decl.key_type} to {decl.value_type}"]
    if isinstance(decl, a.Classify):
        return [f"classify {decl.name} {string_text(decl.label)}"]
    if isinstance(decl, a.Formula):
        return [f"formula {decl.name} {string_text(decl.label)}{_typed(decl.type)} by {decl.by}"]
    if isinstance(decl, a.Target):
        return _target_lines(decl)
    assert isinstance(decl, a.Invariant)
    return [f"invariant {decl.name} {string_text(decl.label)}", f"  {_rule_text(decl.rule)}"]


def _target_lines(decl: a.Target) -> list[str]:
    """`target … : grouping_rate >= 90% for city, month`; the grains on the next line when the
    whole does not fit on one."""
    rule = f"{decl.indicator} {decl.op} {expr_text(decl.threshold)}"
    head = f"target {decl.name} {string_text(decl.label)} : {rule}"
    grains = f"for {', '.join(decl.grains)}" if decl.grains else ""
    grains = f"{grains} per {decl.per}".lstrip() if decl.per else grains
    if not grains or len(head) + 1 + len(grains) <= WIDTH:
        return [f"{head} {grains}".rstrip()]
    return [head, f"  {grains}"]


def _rule_text(rule: a.InvariantRule) -> str:
    if isinstance(rule, a.Monotone):
        return f"monotone {rule.target} in {rule.field}"
    if isinstance(rule, a.Closes):
        return f"closes {rule.target} to {rule.budget}"
    return f"always {expr_text(rule.condition)}"


def _part_lines(part: a.ClassArm | a.FormulaArm | a.Step | a.TableRow, indent: int) -> list[str]:
    if isinstance(part, a.ClassArm):
        title = f"class {part.name} {string_text(part.label)}"
        if part.when is None:
            return [f"{title} otherwise"]
        return _head_with_expr(f"{title} when", part.when, indent)
    if isinstance(part, a.FormulaArm):
        return _head_with_expr(f"{part.class_name or 'otherwise'} ->", part.expr, indent)
    if isinstance(part, a.Step):
        return _step_lines(part, indent)
    return [_row_text(part)]


def _step_lines(step: a.Step, indent: int) -> list[str]:
    head = _head_with_expr(f"step {step.name} {string_text(step.label)} when", step.when, indent)
    arrow = _head_with_expr("->", step.expr, indent + 2)
    one_line = len(head) == 1 and len(arrow) == 1
    if one_line and len(head[0]) + 1 + len(arrow[0]) <= WIDTH - indent:
        return [f"{head[0]} {arrow[0]}"]
    return head + ["  " + line for line in arrow]


def _row_text(row: a.TableRow) -> str:
    if isinstance(row, a.DefaultRow):
        return f"else -> {expr_text(row.value)}"
    if isinstance(row, a.KeyRow):
        return f"{expr_text(row.key)} -> {expr_text(row.value)}"
    return f"{range_text(row)} -> {expr_text(row.value)}"
