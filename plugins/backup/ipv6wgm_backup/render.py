"""The database engine writes the JSONL lines itself, for the tables whose columns it can render
exactly as ``dump.encoder`` would (the same JSON values, see ``tests/backup/test_render.py``).

Why: decoding every cell in Python was most of a backup's time (MariaDB: aiomysql parses each
column of each row in pure Python; 110,000 rows took ten times ``mysqldump``). Rendered by the
engine, a row is one string; on MariaDB a page of rows is one ``GROUP_CONCAT`` value.

Rendered: integers, text (CharField, TextField, UUIDField, enums), booleans, datetimes and JSON.
A table with any other column type (floats, decimals, binary, dates, times, durations, custom
fields) goes through the per-value Python encoder, and so does any page of rows holding a value
the SQL would not render exactly (the row's line is NULL then): a REAL or BLOB in a text or
integer column on SQLite, a datetime not in Tortoise's UTC text form, JSON the engine does not
accept or with a number past 64 bits or a double's range, a zero date.
"""

from __future__ import annotations

from typing import Any

from tortoise import fields

#: Tortoise's text form of an aware UTC datetime in SQLite, with and without microseconds.
_SQLITE_UTC = ("[0-9][0-9][0-9][0-9]-[0-9][0-9]-[0-9][0-9] [0-9][0-9]:[0-9][0-9]:[0-9][0-9]+00:00",
               "[0-9][0-9][0-9][0-9]-[0-9][0-9]-[0-9][0-9] [0-9][0-9]:[0-9][0-9]:[0-9][0-9]"
               ".[0-9][0-9][0-9][0-9][0-9][0-9]+00:00")
#: A number in a JSON document that the encoder (Python's json, then orjson) might not carry as
#: it is written: an integer past 64 bits (orjson takes -2**63 .. 2**64-1), an exponent past a
#: double's range. Matches inside strings too: such a document is merely encoded in Python.
_JSON_BIG_RE = "-[0-9]{19}|[0-9]{20}|[eE][-+]?[0-9]{3}"
_JSON_BIG_GLOB = ("*-" + "[0-9]" * 19 + "*", "*" + "[0-9]" * 20 + "*", "*[eE][0-9][0-9][0-9]*",
                  "*[eE][-+][0-9][0-9][0-9]*")
_INTEGERS = (fields.IntField, fields.BigIntField, fields.SmallIntField)
_TEXT = (fields.CharField, fields.TextField, fields.UUIDField)


def kind(field: fields.Field) -> str | None:
    """What the engine renders the field as, or None (the Python encoder does)."""
    if isinstance(field, fields.BooleanField):
        return "bool"
    if isinstance(field, fields.DatetimeField):
        return "datetime"
    if isinstance(field, fields.JSONField):
        return "json"
    if isinstance(field, _INTEGERS):
        return "int"
    if isinstance(field, _TEXT):
        return "text"
    return None


def _mysql(kind_: str, c: str) -> tuple[str, str | None]:
    """(SQL rendering column ``c`` as its JSON text, never NULL; SQL true for a value it would
    not render as the encoder does). '%' is doubled: the driver formats the query."""
    return {
        "int": (f"IFNULL(CAST({c} AS CHAR), 'null')", None),
        "text": (f"IFNULL(JSON_QUOTE({c}), 'null')", None),
        "bool": (f"IF({c} IS NULL, 'null', IF({c}, 'true', 'false'))", None),
        # DATETIME is naive UTC here; isoformat() leaves out a zero fraction
        "datetime": (f"IF({c} IS NULL, 'null', CONCAT('\"', DATE_FORMAT({c}, '%%Y-%%m-%%dT%%H:%%i:%%s'), "
                     f"IF(MICROSECOND({c}) = 0, '', DATE_FORMAT({c}, '.%%f')), '+00:00\"'))",
                     f"({c} IS NOT NULL AND DAYOFYEAR({c}) IS NULL)"),  # a zero date or day
        "json": (f"IFNULL(JSON_COMPACT({c}), 'null')",
                 f"({c} IS NOT NULL AND (NOT JSON_VALID({c}) OR {c} REGEXP '{_JSON_BIG_RE}'))"),
    }[kind_]


def _sqlite(kind_: str, c: str) -> tuple[str, str | None]:
    """(An argument of ``json_array`` giving column ``c``'s JSON value; SQL true for a value it
    would not render as the encoder does).

    ``json_array`` writes a REAL with 15 digits (not exactly); a BLOB makes it fail, as it makes
    the encoder fail. INTEGER columns may hold a REAL; TEXT ones only text; JSON and TIMESTAMP
    columns have NUMERIC affinity (a JSON number document may be stored as a number). Python's
    json accepts NaN and Infinity, SQLite's json() does not."""
    glob = f"CASE length({c}) " + " ".join(f"WHEN {len(p.replace('[0-9]', '0'))} THEN {c} GLOB '{p}'"
                                           for p in _SQLITE_UTC) + " ELSE 0 END"
    big = " OR ".join(f"{c} GLOB '{p}'" for p in _JSON_BIG_GLOB)
    return {
        "int": (c, f"typeof({c}) = 'real'"),
        "text": (c, None),
        "bool": (f"CASE WHEN {c} IS NULL THEN NULL WHEN {c} THEN json('true') ELSE json('false') END",
                 f"typeof({c}) NOT IN ('integer', 'null')"),
        "datetime": (f"substr({c}, 1, 10) || 'T' || substr({c}, 12)",
                     f"({c} IS NOT NULL AND NOT (typeof({c}) = 'text' AND {glob}))"),
        "json": (f"json({c})", f"({c} IS NOT NULL AND (typeof({c}) NOT IN ('text', 'integer') OR "
                               f"NOT json_valid({c}) OR {big}))"),
    }[kind_]


def line_sql(columns: tuple[str, ...], field_objects: tuple[fields.Field, ...], dialect: str,
             quote: Any) -> str | None:
    """SQL of a row's JSONL line, NULL for a row holding a value it would not render exactly (that
    page is then encoded in Python); None when a column's type is not rendered by the engine."""
    kinds = [kind(f) for f in field_objects]
    if None in kinds:
        return None
    render = _mysql if dialect == "mysql" else _sqlite
    parts, checks = zip(*(render(k, quote(c)) for k, c in zip(kinds, columns, strict=True)), strict=True)  # type: ignore[arg-type]
    check = " OR ".join(x for x in checks if x)
    if dialect == "mysql":
        line = "CONCAT('[', " + ", ',', ".join(parts) + ", ']')"
        return f"IF({check}, NULL, {line})" if check else line
    line = f"json_array({', '.join(parts)})"
    return f"CASE WHEN {check} THEN NULL ELSE {line} END" if check else line


def probe_sql(dialect: str) -> str:
    """One query using every SQL function the lines need: it fails where one is missing (MySQL
    has no JSON_COMPACT, an SQLite may be built without its JSON functions)."""
    if dialect == "mysql":
        return ("SELECT JSON_COMPACT('[1]'), JSON_QUOTE('a'), JSON_VALID('1'), '1' REGEXP '[0-9]{2}', "
                "DAYOFYEAR(NOW()), DATE_FORMAT(NOW(), '%%Y.%%f'), MICROSECOND(NOW()), "
                "GROUP_CONCAT('a' ORDER BY 1 SEPARATOR ',')")
    return "SELECT json_array(json('[1]'), 'a'), json_valid('1'), group_concat('a', char(10)), '1' GLOB '[0-9]'"
