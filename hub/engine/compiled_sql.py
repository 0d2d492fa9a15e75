"""Statements built by the ORM once per process and executed with new parameters.

The webhook intake runs the same two statements for every request: look the recipe up and
insert its run. Building them through the ORM each time cost several times what executing
them costs (bench/engine.py; docs/engine.md, "Scale"), so each is built once — by the ORM,
from the models, so it follows their fields — and then executed on a plain cursor.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import Any

from django.db import connections, models

SENTINEL = "\x00compiled-sql-parameter\x00"
# Stand-ins for id parameters: integers no table holds, inside every backend's integer range
# (an out-of-range value would make Django build an always-false condition instead).
ID_SENTINELS = tuple(-2_147_000_000 - k for k in range(8))


def _sentinels(kinds: tuple[str, ...]) -> list:
    ids = iter(ID_SENTINELS)
    texts = (f"{SENTINEL}{k}" for k in range(len(kinds)))
    return [next(ids) if kind == "id" else next(texts) for kind in kinds]


def _positions(params: list, sentinels: list) -> list[list[int]]:
    """Where each sentinel stands among the built statement's parameters (a value used
    twice, as in two subqueries, stands twice)."""
    found = [[i for i, p in enumerate(params) if type(p) is type(s) and p == s] for s in sentinels]
    if not all(found):
        raise TypeError("a compiled statement must use every one of its parameters")
    return found


def _fill(params: list, positions: list[list[int]], values: tuple) -> list:
    if len(values) != len(positions):
        raise TypeError(f"expected {len(positions)} parameter(s), got {len(values)}")
    params = [*params]
    for where, value in zip(positions, values, strict=True):
        for i in where:
            params[i] = value
    return params


class CompiledQuery:
    """``make(*sentinels)`` returns a ``values_list`` queryset filtered on ``kinds`` values
    ("text" or "id"); its SQL is built once per database and run with the real values in
    the sentinels' places. Rows come back as the database returns them (no field
    converters): use it for plain columns and text."""

    def __init__(
        self,
        make: Callable[..., models.QuerySet],
        using: str = "default",
        kinds: tuple[str, ...] = ("text",),
    ):
        self.make, self.using, self.kinds = make, using, kinds
        self._built: dict[str, tuple[str, list, list[list[int]]]] = {}

    def _statement(self) -> tuple[str, list, list[list[int]]]:
        vendor = connections[self.using].vendor
        if vendor not in self._built:
            sentinels = _sentinels(self.kinds)
            sql, params = self.make(*sentinels).query.sql_with_params()
            params = list(params)
            self._built[vendor] = (sql, params, _positions(params, sentinels))
        return self._built[vendor]

    def first(self, *values) -> tuple | None:
        sql, params, positions = self._statement()
        with connections[self.using].cursor() as cursor:
            cursor.execute(sql, _fill(params, positions, values))
            return cursor.fetchone()


class CompiledModelQuery:
    """``make(*sentinels)`` returns a model queryset (annotations allowed); ``first(*values)``
    runs its SQL, built once, and returns the model instance as the queryset's ``first()``
    would: every column through its field's converters, annotations set as attributes.

    Converters belong to a connection (its backend's operations), so the statement is built
    once per thread's connection."""

    def __init__(
        self,
        make: Callable[..., models.QuerySet],
        kinds: tuple[str, ...],
        using: str = "default",
    ):
        self.make, self.kinds, self.using = make, kinds, using
        self._local = threading.local()

    def _statement(self, connection):
        built = getattr(self._local, "built", None)
        if built is None or built[0] is not connection:
            sentinels = _sentinels(self.kinds)
            queryset = self.make(*sentinels)[:1]
            compiler = queryset.query.get_compiler(using=self.using)
            sql, params = compiler.as_sql()
            params = list(params)
            fields = compiler.klass_info["select_fields"]
            start, end = fields[0], fields[-1] + 1
            names = [column[0].target.attname for column in compiler.select[start:end]]
            converters = compiler.get_converters([column[0] for column in compiler.select])
            annotations = dict(compiler.annotation_col_map or {})
            built = (
                connection,
                queryset.model,
                sql,
                params,
                _positions(params, sentinels),
                compiler,
                converters,
                (start, end, names),
                annotations,
            )
            self._local.built = built
        return built

    def first(self, *values) -> models.Model | None:
        connection = connections[self.using]
        _, model, sql, params, positions, compiler, converters, span, annotations = self._statement(
            connection
        )
        with connection.cursor() as cursor:
            cursor.execute(sql, _fill(params, positions, values))
            row = cursor.fetchone()
        if row is None:
            return None
        if converters:
            row = next(iter(compiler.apply_converters([row], converters)))
        start, end, names = span
        instance = model.from_db(self.using, names, row[start:end])
        for name, position in annotations.items():
            setattr(instance, name, row[position])
        return instance


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

    def save(self, instance: models.Model) -> models.Model:
        """Insert an unsaved instance as ``instance.save(force_insert=True)`` would (its
        values as they are; no save signals) and give it its id."""
        connection = connections[self.using]
        params = [f.get_db_prep_save(getattr(instance, f.attname), connection) for f in self.fields]
        with connection.cursor() as cursor:
            cursor.execute(self._statement(connection), params)
            instance.pk = cursor.fetchone()[0]
        instance._state.adding, instance._state.db = False, self.using
        return instance


class RowUpdate:
    """``UPDATE … SET <names> WHERE id = %s [AND <match> = %s …]`` of one model's row, the
    columns named once; each value prepared by its field, as ``QuerySet.update`` would.
    Returns how many rows changed (0 when a ``match`` column no longer holds its value)."""

    def __init__(
        self,
        model: type[models.Model],
        names: tuple[str, ...],
        match: tuple[str, ...] = (),
        using: str = "default",
    ):
        self.model, self.using = model, using
        self.fields = [model._meta.get_field(name) for name in names]
        self.match = [model._meta.get_field(name) for name in match]
        self._sql: dict[str, str] = {}

    def _statement(self, connection) -> str:
        if connection.vendor not in self._sql:
            quote = connection.ops.quote_name
            columns = ", ".join(f"{quote(f.column)} = %s" for f in self.fields)
            where = [quote(self.model._meta.pk.column)] + [quote(f.column) for f in self.match]
            table = quote(self.model._meta.db_table)
            conditions = " AND ".join(f"{column} = %s" for column in where)
            # Only quoted names from the model's own metadata go into the text.
            self._sql[connection.vendor] = f"UPDATE {table} SET {columns} WHERE {conditions}"  # noqa: S608
        return self._sql[connection.vendor]

    def update(self, pk: int, values: dict[str, Any], *matching: Any) -> int:
        if len(values) != len(self.fields) or len(matching) != len(self.match):
            raise TypeError(f"{self.model.__name__}: expected {[f.name for f in self.fields]}")
        connection = connections[self.using]
        params = [f.get_db_prep_save(values[f.name], connection) for f in self.fields]
        params.append(pk)
        params += [
            f.get_db_prep_save(v, connection) for f, v in zip(self.match, matching, strict=True)
        ]
        with connection.cursor() as cursor:
            cursor.execute(self._statement(connection), params)
            return cursor.rowcount


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
