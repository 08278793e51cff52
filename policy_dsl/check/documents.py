"""The fields of each `document` declaration (E130–E136): what identifies a source document and
where its text is.

    document sz "苏州市开展按疾病诊断相关分组DRG付费改革实施方案"
      issuer "苏州市人民政府办公室"      # 发文机关 (required)
      number "苏府办[2021]103号"        # 文号, or `none` (required)
      date 2021-05-10                   # or "2023-04" / "2022" when only that is given (required)
      status in_force                   # in_force | draft (征求意见稿) | report (required)
      text "001_a723f35855d65e1a.txt"   # its text, in a sources folder (optional)
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Callable

from policy_dsl import ast as a
from policy_dsl.check.scope import did_you_mean
from policy_dsl.diagnostics import Diagnostic
from policy_dsl.loader import Entry
from policy_dsl.sources import unsafe_text_path

Report = Callable[[Diagnostic], None]

#: The fields of a document, in the formatter's order.
FIELDS = a.DOCUMENT_FIELDS
REQUIRED = ("issuer", "number", "date", "status")
#: `status`: in force, a draft for comments (征求意见稿), or a report (news, slides) that
#: describes rules but is not the rule.
STATUSES = ("in_force", "draft", "report")
#: The word `number` takes for a document without 文号.
NO_NUMBER = "none"
_PARTIAL_DATE = re.compile(r"(\d{4})(?:-(\d{2}))?")

EXAMPLE = (
    'issuer "宣城市医疗保障局" / number "宣医保秘〔2023〕16号" (or `number none`) / '
    'date 2023-04-01 (or "2023-04", "2023") / status in_force (or draft, report) / '
    'text "<file in a sources folder>"'
)


def check_documents(entries: list[Entry], report: Report) -> None:
    """Every document's fields: known, once each, the required ones present, valid values."""
    for entry in entries:
        if isinstance(entry.decl, a.Document):
            _check_document(entry, entry.decl, report)


def _check_document(entry: Entry, decl: a.Document, report: Report) -> None:
    at = entry.file.source.diagnostic
    seen: dict[str, a.DocumentField] = {}
    for field in decl.fields:
        if field.name not in FIELDS:
            hint = did_you_mean(field.name, FIELDS) or f"the fields are {_listed(FIELDS)}"
            report(
                at("E130", f"document `{decl.name}` has no field `{field.name}`", field.span, hint)
            )
        elif field.name in seen:
            first = seen[field.name].span.line
            report(
                at(
                    "E131",
                    f"document `{decl.name}` gives `{field.name}` twice (first on line {first})",
                    field.span,
                    "keep one of them",
                )
            )
        else:
            seen[field.name] = field
            problem = _VALUES[field.name](field.value)
            if problem is not None:
                code, message, hint = problem
                report(at(code, f"document `{decl.name}`: {message}", field.value.span, hint))
    missing = [name for name in REQUIRED if name not in seen]
    if missing:
        report(
            at(
                "E132",
                f"document `{decl.name}` does not give its {_listed(missing)}",
                decl.span,
                f"add, one per line under the title: {EXAMPLE}",
            )
        )


Problem = tuple[str, str, str] | None


def _issuer(value: a.DocumentValue) -> Problem:
    if isinstance(value, a.Text) and value.value.strip():
        return None
    return (
        "E133",
        "`issuer` is the issuing body in quotes",
        'write e.g. `issuer "宣城市医疗保障局"`',
    )


def _number(value: a.DocumentValue) -> Problem:
    if (isinstance(value, a.Text) and value.value.strip()) or (
        isinstance(value, a.Name) and value.name == NO_NUMBER
    ):
        return None
    return (
        "E133",
        "`number` is the 文号 in quotes, or `none`",
        'write e.g. `number "宣医保秘〔2023〕16号"`, or `number none` for a document without 文号',
    )


def _date(value: a.DocumentValue) -> Problem:
    if isinstance(value, a.Date) or (isinstance(value, a.Text) and _valid_date(value.value)):
        return None
    shown = f'"{value.value}"' if isinstance(value, a.Text) else f"`{_word(value)}`"
    return (
        "E134",
        f"`date {shown}` is not a date",
        'write the day as 2021-05-10, or in quotes the month "2023-04" or the year "2022" '
        "when the document gives only that",
    )


def _valid_date(text: str) -> bool:
    """YYYY, YYYY-MM (month 01–12) or a calendar date YYYY-MM-DD."""
    found = _PARTIAL_DATE.fullmatch(text)
    if found:
        return found[2] is None or 1 <= int(found[2]) <= 12
    try:
        dt.date.fromisoformat(text)
    except ValueError:
        return False
    return len(text) == 10


def _status(value: a.DocumentValue) -> Problem:
    if isinstance(value, a.Name) and value.name in STATUSES:
        return None
    word = value.value if isinstance(value, a.Text) else _word(value)
    hint = did_you_mean(str(word), STATUSES) or ""
    unquoted = " without quotes" if isinstance(value, a.Text) else ""
    return (
        "E135",
        f"`{word}` is not a status",
        f"{hint} write one of {_listed(STATUSES)}{unquoted}: in_force (在用), draft (征求意见稿), "
        "report (a news article or slides: describes rules, is not the rule)".lstrip(),
    )


def _text(value: a.DocumentValue) -> Problem:
    if not isinstance(value, a.Text):
        return (
            "E133",
            "`text` is a file name in quotes",
            'write e.g. `text "004_f075d89bf2526765.txt"`',
        )
    why = unsafe_text_path(value.value)
    if why is None:
        return None
    return (
        "E136",
        f'`text "{value.value}"` cannot be looked up: {why}',
        "give the file's name, or a path inside the sources folder (no `..`, not absolute); "
        "the folders searched are the policy's `sources/` and those given with `--sources`",
    )


def _word(value: a.DocumentValue) -> str:
    """A value that is no quoted text, as written."""
    if isinstance(value, a.Date):
        return value.value.isoformat()
    return value.name if isinstance(value, a.Name) else str(getattr(value, "value", ""))


_VALUES: dict[str, Callable[[a.DocumentValue], Problem]] = {
    "issuer": _issuer,
    "number": _number,
    "date": _date,
    "status": _status,
    "text": _text,
}


def _listed(names: tuple[str, ...] | list[str]) -> str:
    quoted = [f"`{n}`" for n in names]
    return quoted[0] if len(quoted) == 1 else ", ".join(quoted[:-1]) + " and " + quoted[-1]


__all__ = ["FIELDS", "NO_NUMBER", "REQUIRED", "STATUSES", "check_documents"]
