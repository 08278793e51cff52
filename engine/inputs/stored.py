"""Cases kept in a database (病例留在库中): on DuckDB, `settle` leaves the accepted cases in the
database that checked them, and the run's SQL plan reads them there (`engine.plan.sql.plan.
Tables`); a hundred million cases then never come back to Python. What the run needs of them
outside the plan is small — how many, their distinct groups, hospitals or months — and is asked
of the database (`CaseStore`); whatever reads them all (the explainer, the what-if) reads them
back on first use, as the polars plan would have left them (`FrameField`)."""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Sequence
from typing import Any, Protocol, TypeVar, cast, overload

import polars as pl


class CaseStore(Protocol):
    """Cases as a table (or view) of a database."""

    #: the table's name in the database
    table: str

    @property
    def columns(self) -> list[str]:
        """The table's columns, in order."""
        ...

    def frame(self, columns: Sequence[str] | None = None) -> pl.DataFrame:
        """Every row, as the polars path would have them (key order, its types): every column,
        or those of `columns` the table has (and what the polars path adds to them)."""
        ...

    def count(self) -> int: ...

    def distinct(self, columns: Sequence[str]) -> pl.DataFrame:
        """The distinct rows of `columns` (no order)."""
        ...

    def in_period(
        self,
        months: Sequence[str],
        hospitals: pl.DataFrame,
        read: Callable[[Sequence[str] | None], pl.DataFrame],
    ) -> CaseStore:
        """The cases discharged in `months`, each with its hospital's level and tier (those of
        `hospitals`, replacing any of the case file): `RunData.build`'s cut, as a view; `read`
        makes its frame (`frame`)."""
        ...


class FrameField:
    """A dataclass field holding a polars frame — or a `CaseStore` (`held`), read back (once)
    when the field is first read. Installed on the class after the dataclass is made
    (`frame_field`): to the type checker the field stays a frame."""

    def __init__(self, name: str) -> None:
        self.slot, self.read = f"_{name}_held", f"_{name}_read"

    @overload
    def __get__(self, obj: None, owner: type | None = None) -> FrameField: ...

    @overload
    def __get__(self, obj: object, owner: type | None = None) -> pl.DataFrame: ...

    def __get__(self, obj: object | None, owner: type | None = None) -> Any:
        if obj is None:
            return self
        held = obj.__dict__[self.slot]
        if isinstance(held, pl.DataFrame):
            return held
        if self.read not in obj.__dict__:
            obj.__dict__[self.read] = held.frame()
        return obj.__dict__[self.read]

    def __set__(self, obj: object, value: pl.DataFrame | CaseStore) -> None:
        obj.__dict__[self.slot] = value
        obj.__dict__.pop(self.read, None)


C = TypeVar("C", bound=type)


def frame_field(name: str) -> Callable[[C], C]:
    """A class decorator (above `@dataclass`): its field `name` a `FrameField`."""

    def install(cls: C) -> C:
        setattr(cls, name, FrameField(name))
        return cls

    return install


def held(store: CaseStore) -> pl.DataFrame:
    """A `CaseStore` given to a `FrameField` (a frame to the type checker, read back when read)."""
    return cast(pl.DataFrame, store)


def store_of(obj: object, name: str = "cases") -> CaseStore | None:
    """The `CaseStore` a `FrameField` holds (None for a polars frame)."""
    held = obj.__dict__[f"_{name}_held"]
    return None if isinstance(held, pl.DataFrame) else held


T = TypeVar("T")


def replaced(obj: T, **changes: Any) -> T:
    """`dataclasses.replace`, keeping the cases where they are (in the database, not read back)."""
    kept = obj.__dict__["_cases_held"]
    return dataclasses.replace(obj, **({"cases": kept} | changes))  # type: ignore[type-var]


def distinct(obj: object, columns: Sequence[str]) -> pl.DataFrame:
    """The distinct rows of the cases' `columns`, in the database where the cases are."""
    store = store_of(obj)
    if store is not None:
        return store.distinct(columns)
    cases: pl.DataFrame = obj.cases  # type: ignore[attr-defined]
    return cases.select(columns).unique()


def case_columns(obj: object) -> list[str]:
    """The cases' columns, asked of the database where the cases are (not read back)."""
    store = store_of(obj)
    return store.columns if store is not None else obj.cases.columns  # type: ignore[attr-defined]


def count(obj: object) -> int:
    """How many cases."""
    store = store_of(obj)
    return store.count() if store is not None else obj.cases.height  # type: ignore[attr-defined]
