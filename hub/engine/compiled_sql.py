"""Statements built by the ORM once per process and executed with new parameters.

The webhook intake runs the same two statements for every request: look the recipe up and
insert its run. Building them through the ORM each time cost several times what executing
them costs (bench/engine.py; docs/engine.md, "Scale"), so each is built once — by the ORM,
from the models, so it follows their fields — and then executed on a plain cursor.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from django.db import connections, models

SENTINEL = "\x00compiled-sql-parameter\x00"


class CompiledQuery:
    """``make(SENTINEL)`` returns a ``values_list`` queryset filtered on one value; its SQL
    is built once per database and run with the real value in the sentinel's place. Rows
    come back as the database returns them (no field converters): use it for plain columns
    and text."""

    def __init__(self, make: Callable[[str], models.QuerySet], using: str = "default"):
        self.make, self.using = make, using
        self._built: dict[str, tuple[str, list, int]] = {}

    def _statement(self) -> tuple[str, list, int]:
        vendor = connections[self.using].vendor
        if vendor not in self._built:
            sql, params = self.make(SENTINEL).query.sql_with_params()
            params = list(params)
            self._built[vendor] = (sql, params, params.index(SENTINEL))
        return self._built[vendor]

    def first(self, value: str) -> tuple | None:
        sql, params, index = self._statement()
        params = [*params]
        params[index] = value
        with connections[self.using].cursor() as cursor:
            cursor.execute(sql, params)
            return cursor.fetchone()


class RowInsert:
    """``INSERT … RETURNING id`` of one model's rows, every concrete column listed. A value
    not given is the field's default, and each value is prepared by its field, as
    ``Model.objects.create`` would; no save signals are sent."""

    def __init__(self, model: type[models.Model], using: str = "default"):
        self.model, self.using = model, using
        self.fields = [f for f in model._meta.concrete_fields if not f.primary_key]
        # Such a field gets its value in Model.save (pre_save), which is not called here.
        automatic = [f.name for f in self.fields if getattr(f, "auto_now", False)]
        automatic += [f.name for f in self.fields if getattr(f, "auto_now_add", False)]
        if automatic:
            raise TypeError(f"{model.__name__}: RowInsert cannot fill {automatic}")
        self._sql: dict[str, str] = {}

    def _statement(self, connection) -> str:
        if connection.vendor not in self._sql:
            quote = connection.ops.quote_name
            columns = ", ".join(quote(f.column) for f in self.fields)
            marks = ", ".join(["%s"] * len(self.fields))
            pk = quote(self.model._meta.pk.column)
            table = quote(self.model._meta.db_table)
            # Only quoted names from the model's own metadata go into the text.
            self._sql[connection.vendor] = (
                f"INSERT INTO {table} ({columns}) VALUES ({marks}) RETURNING {pk}"  # noqa: S608
            )
        return self._sql[connection.vendor]

    def insert(self, values: dict[str, Any]) -> models.Model:
        """Insert the row and return the model instance with its id."""
        connection = connections[self.using]
        row = {}
        params = []
        for field in self.fields:
            value = values[field.attname] if field.attname in values else field.get_default()
            row[field.attname] = value
            params.append(field.get_db_prep_save(value, connection))
        unknown = set(values) - set(row)
        if unknown:
            raise TypeError(f"{self.model.__name__} has no field {sorted(unknown)}")
        with connection.cursor() as cursor:
            cursor.execute(self._statement(connection), params)
            pk = cursor.fetchone()[0]
        instance = self.model(pk=pk, **row)
        instance._state.adding, instance._state.db = False, self.using
        return instance


class BatchInsert(RowInsert):
    """``INSERT … VALUES (…), (…) … RETURNING id`` of many rows of one model. Each row's
    parameters are prepared by its fields ahead of time (``prepare``); the statement runs
    later (``insert``), with the columns named ``late`` given their value then — the
    schedule tick builds the runs of a due time before it comes and inserts them when it
    does, stamped with that moment."""

    ROWS_PER_STATEMENT = 1000

    def index(self, attname: str) -> int:
        return next(i for i, f in enumerate(self.fields) if f.attname == attname)

    def prepare(self, values: dict[str, Any], late: tuple[str, ...] = ()) -> list:
        connection = connections[self.using]
        known = {f.attname for f in self.fields}
        unknown = set(values) - known
        if unknown:
            raise TypeError(f"{self.model.__name__} has no field {sorted(unknown)}")
        row = []
        for field in self.fields:
            if field.attname in late:
                row.append(None)
                continue
            value = values[field.attname] if field.attname in values else field.get_default()
            row.append(field.get_db_prep_save(value, connection))
        return row

    def insert(self, rows: list[list], late: dict[str, Any] | None = None) -> list[int]:
        """Insert the prepared rows (in statements of at most ROWS_PER_STATEMENT rows, fewer
        where the database caps parameters); their ids, in order."""
        connection = connections[self.using]
        fill = [
            (i, field.get_db_prep_save((late or {})[field.attname], connection))
            for i, field in enumerate(self.fields)
            if field.attname in (late or {})
        ]
        cap = connection.features.max_query_params
        per = self.ROWS_PER_STATEMENT
        if cap is not None:
            per = max(1, min(per, cap // len(self.fields)))
        ids: list[int] = []
        with connection.cursor() as cursor:
            for start in range(0, len(rows), per):
                chunk = rows[start : start + per]
                params: list = []
                for row in chunk:
                    row = list(row)
                    for i, value in fill:
                        row[i] = value
                    params.extend(row)
                cursor.execute(self._rows_statement(connection, len(chunk)), params)
                ids.extend(r[0] for r in cursor.fetchall())
        return ids

    def _rows_statement(self, connection, count: int) -> str:
        quote = connection.ops.quote_name
        columns = ", ".join(quote(f.column) for f in self.fields)
        row = "(" + ", ".join(["%s"] * len(self.fields)) + ")"
        pk = quote(self.model._meta.pk.column)
        table = quote(self.model._meta.db_table)
        # Only quoted names from the model's own metadata go into the text.
        return (
            f"INSERT INTO {table} ({columns}) VALUES {', '.join([row] * count)} "  # noqa: S608
            f"RETURNING {pk}"
        )
