"""Plain statements: a Core statement compiled once per dialect and run on the driver.

SQLAlchemy's handling of one execution (the compiled cache's lookup, an execution context,
the bind and result processing set up again, a CursorResult) costs about 55 µs on the
development machine, where SQLite's own work for a small indexed statement is about 4 µs.
The statements every phone turn runs (its clinic, its inbox row, its call's row) are few
and fixed, so `Plain` keeps what the compiler worked out and runs the SQL on the driver's
connection, inside the transaction of the SQLAlchemy connection it is given:

- the SQL text and the order of its parameters, from SQLAlchemy's own compiler;
- each parameter's conversion (a datetime to SQLite's text, a dict to JSON), and each
  result column's, from the column types, as SQLAlchemy would convert them;
- the driver's errors are raised as SQLAlchemy's (`IntegrityError`, `OperationalError`).

Rows come back as named tuples of the statement's column keys. An INSERT or UPDATE without
values of its own writes the columns an execution is given (compiled once for each set of
keys), and the columns' Python-side defaults (`default`, `onupdate`) for the others. What
it does not do: expand IN lists given at run time, or the ORM; such statements go through
SQLAlchemy as usual. Listeners of `before_cursor_execute` (statement counters in tests)
are told of each statement, without a cursor or an execution context.
"""

from __future__ import annotations

import threading
from collections import namedtuple
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Connection, exc
from sqlalchemy.engine import Dialect
from sqlalchemy.sql import ClauseElement

from backend.db import to_driver

Convert = Callable[[Any], Any]


def _same(value: Any) -> Any:
    return value


class Plain:
    """One Core statement, run on the driver's connection (see the module's text)."""

    def __init__(self, statement: ClauseElement) -> None:
        self.statement = statement
        self._forms: dict[tuple[str, frozenset[str]], _Compiled] = {}
        self._lock = threading.Lock()

    def execute(self, connection: Connection, params: Mapping[str, Any] | None = None) -> None:
        """Run the statement (a write whose result is not needed)."""
        _form, cursor = self._run(connection, params)
        cursor.close()

    def all(self, connection: Connection, params: Mapping[str, Any] | None = None) -> list[Any]:
        """Every row."""
        form, cursor = self._run(connection, params)
        try:
            return [form.read(row) for row in cursor.fetchall()]
        finally:
            cursor.close()

    def first(self, connection: Connection, params: Mapping[str, Any] | None = None) -> Any:
        """The first row, or None (the rest are not read)."""
        form, cursor = self._run(connection, params)
        try:
            row = cursor.fetchone()
        finally:
            cursor.close()
        return form.read(row) if row is not None else None

    def scalar(self, connection: Connection, params: Mapping[str, Any] | None = None) -> Any:
        """The first column of the first row, or None."""
        row = self.first(connection, params)
        return row[0] if row is not None else None

    def rowcount(self, connection: Connection, params: Mapping[str, Any] | None = None) -> int:
        """How many rows the statement changed."""
        _form, cursor = self._run(connection, params)
        count: int = cursor.rowcount
        cursor.close()
        return count

    def _run(
        self, connection: Connection, params: Mapping[str, Any] | None
    ) -> tuple[_Compiled, Any]:
        """The statement's form for this dialect and keys, and the driver's cursor."""
        params = params or {}
        form = self._form(connection.dialect, params)
        values = form.values(params)
        watching = connection.dispatch.before_cursor_execute
        if watching:  # a test or a profiler counting statements: it sees these too
            for listener in watching:
                listener(connection, None, form.sql, values, None, False)
        driver: Any = connection.connection.driver_connection
        try:
            return form, driver.execute(form.sql, values)
        except connection.dialect.loaded_dbapi.Error as error:
            raise exc.DBAPIError.instance(
                form.sql, values, error, connection.dialect.loaded_dbapi.Error
            ) from error

    def _form(self, dialect: Dialect, params: Mapping[str, Any]) -> _Compiled:
        # An INSERT or UPDATE without values of its own takes the columns it is given.
        key = (dialect.name, frozenset(params))
        form = self._forms.get(key)
        if form is None:
            with self._lock:
                form = self._forms.get(key) or _Compiled.of(self.statement, dialect, params)
                self._forms[key] = form
        return form


@dataclass(frozen=True)
class _Slot:
    """One parameter of the SQL: the caller's key and its conversion; else a value the
    statement carries (already converted); else a column default made at each run."""

    name: str  # as the SQL names it (named paramstyles)
    key: str | None  # the caller's key; None when the value is not the caller's
    convert: Convert
    fixed: Any = None
    default: Callable[[], Any] | None = None

    def value(self, params: Mapping[str, Any]) -> Any:
        if self.key is not None:
            return self.convert(params[self.key])
        return self.fixed if self.default is None else self.convert(self.default())


def _default(column: Any, update: bool) -> Callable[[], Any] | None:
    """The Python-side default of a column the caller gave no value (an INSERT's `default`,
    an UPDATE's `onupdate`), as SQLAlchemy would fill it in."""
    default = column.onupdate if update else column.default
    if default is None:
        return None
    if default.is_scalar:
        value = default.arg
        return lambda: value
    if default.is_callable:
        made = default.arg  # SQLAlchemy's wrapper takes an execution context: none here
        return lambda: made(None)
    raise ValueError(f"a plain statement cannot compute the default of {column.key}")


@dataclass(frozen=True)
class _Compiled:
    """The statement compiled for one dialect: its SQL, how to fill its parameters and how
    to read its rows."""

    sql: str
    slots: tuple[_Slot, ...]
    positional: bool
    make: Callable[..., tuple[Any, ...]]
    results: tuple[Convert | None, ...]

    @classmethod
    def of(cls, statement: ClauseElement, dialect: Dialect, params: Mapping[str, Any]) -> _Compiled:
        compiled: Any = statement.compile(dialect=dialect, column_keys=list(params))
        if any(bind.required for bind in compiled.post_compile_params):
            raise ValueError("a plain statement cannot expand parameters")
        required = {bind.key for bind in compiled.binds.values() if bind.required}
        # The SQL with a fixed IN list written out, and the value of every parameter the
        # statement carries (the caller's are None here: they stay parameters).
        state = compiled.construct_expanded_state(dict.fromkeys(required))
        names = state.positiontup if dialect.positional else list(state.parameters)
        unescaped = {escaped: name for name, escaped in (compiled.escaped_bind_names or {}).items()}
        prefetch = {column.key: (column, False) for column in compiled.insert_prefetch}
        prefetch |= {column.key: (column, True) for column in compiled.update_prefetch}
        slots = []
        for name in names or ():
            original = unescaped.get(name, name)
            bind = compiled.binds.get(original)  # None: an element of a fixed IN list
            convert = (
                to_driver(bind, dialect) if bind is not None else state.processors.get(name)
            ) or _same
            if bind is not None and bind.key in prefetch and bind.key not in params:
                default = _default(*prefetch[bind.key])
                slots.append(_Slot(name, None, convert, default=default))
            elif bind is not None and bind.key in required:
                slots.append(_Slot(name, bind.key, convert))
            else:
                slots.append(_Slot(name, None, _same, convert(state.parameters[name])))
        columns = list(getattr(statement, "exported_columns", ()))
        results = tuple(
            column.type.dialect_impl(dialect).result_processor(dialect, None) for column in columns
        )
        make = namedtuple("Row", [column.key for column in columns], rename=True)  # type: ignore[misc]
        return cls(state.statement, tuple(slots), dialect.positional, make, results)

    def values(self, params: Mapping[str, Any]) -> list[Any] | dict[str, Any]:
        """The driver's parameters."""
        if self.positional:
            return [slot.value(params) for slot in self.slots]
        return {slot.name: slot.value(params) for slot in self.slots}

    def read(self, row: Sequence[Any]) -> tuple[Any, ...]:
        """A result row as the statement's columns' types read it."""
        return self.make(
            *(
                value if convert is None or value is None else convert(value)
                for convert, value in zip(self.results, row, strict=True)
            )
        )
