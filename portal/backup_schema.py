"""What the database in a backup may contain: exactly the objects the migrations create.

An archive's database could carry objects that the migrations never create — a trigger that hides
audit rows or grants rights at login, a view, a function, a rule, an extra table or column. Before
restore writes anything, the dump's schema is compared with the schema the archive's own applied
migrations produce (Django's migration state: every model's table and columns, and
django_migrations). The migrations create no triggers, views, functions or rules, so any of those
is refused, naming the object.

SQLite: sqlite_master and PRAGMA table_info of the dump file. PostgreSQL: `pg_restore --list`
(the dump's table of contents) and `pg_restore --schema-only` (the CREATE TABLE statements).
"""

from __future__ import annotations

import re
import sqlite3
import subprocess  # nosec B404 # pg_restore --list / --schema-only (below)
from pathlib import Path
from typing import Any

from django.db.migrations.loader import MigrationLoader

MIGRATIONS_TABLE = {"django_migrations": {"id", "app", "name", "applied"}}
# Entries of a pg_dump table of contents that a migrated portal database has; anything else is refused.
PG_ALLOWED = {
    "TABLE",
    "TABLE DATA",
    "SEQUENCE",
    "SEQUENCE SET",
    "SEQUENCE OWNED BY",
    "DEFAULT",
    "INDEX",
    "CONSTRAINT",
    "FK CONSTRAINT",
    "ENCODING",
    "STDSTRINGS",
    "SEARCHPATH",
    "ACL",
}
# What some PostgreSQL versions' pg_dump lists for every database (the public schema, plpgsql).
PG_HARMLESS = {
    ("SCHEMA", "public"),
    ("COMMENT", "SCHEMA public"),
    ("EXTENSION", "plpgsql"),
    ("COMMENT", "EXTENSION plpgsql"),
}
# Longest first, so that "MATERIALIZED VIEW" is not read as "MATERIALIZED".
PG_KINDS = sorted(
    PG_ALLOWED
    | {
        "MATERIALIZED VIEW",
        "MATERIALIZED VIEW DATA",
        "VIEW",
        "TRIGGER",
        "EVENT TRIGGER",
        "FUNCTION",
        "PROCEDURE",
        "AGGREGATE",
        "RULE",
        "POLICY",
        "ROW SECURITY",
        "SCHEMA",
        "EXTENSION",
        "TYPE",
        "DOMAIN",
        "COMMENT",
        "DEFAULT ACL",
        "PUBLICATION",
        "SUBSCRIPTION",
        "FOREIGN TABLE",
        "SERVER",
        "USER MAPPING",
    },
    key=len,
    reverse=True,
)
KIND_LABELS = {
    "TABLE": "数据表",
    "VIEW": "视图",
    "MATERIALIZED VIEW": "物化视图",
    "TRIGGER": "触发器",
    "EVENT TRIGGER": "事件触发器",
    "FUNCTION": "函数",
    "PROCEDURE": "存储过程",
    "RULE": "规则",
    "POLICY": "行级安全策略",
    "SCHEMA": "模式",
    "EXTENSION": "扩展",
    "index": "索引",
    "view": "视图",
    "trigger": "触发器",
    "table": "数据表",
}


class SchemaProblem(Exception):
    """Objects the migrations do not create; the message names them, in Chinese."""


def expected_schema(applied: list[tuple[str, str]]) -> dict[str, set[str]]:
    """Table → columns, as the migrations in `applied` create them (the archive's migration state)."""
    loader = MigrationLoader(None, ignore_no_migrations=True)
    nodes = [node for node in applied if node in loader.graph.nodes]
    state = loader.graph.make_state(nodes=nodes, at_end=True, real_apps=loader.unmigrated_apps)
    tables = {name: set(columns) for name, columns in MIGRATIONS_TABLE.items()}
    for model in state.apps.get_models(include_auto_created=True):
        if model._meta.managed and not model._meta.proxy:
            tables[model._meta.db_table] = {field.column for field in model._meta.local_concrete_fields}
    return tables


def _label(kind: str) -> str:
    return KIND_LABELS.get(kind, kind)


def _compare(found: dict[str, set[str]], expected: dict[str, set[str]], problems: list[str]) -> None:
    for table, columns in sorted(found.items()):
        if table not in expected:
            problems.append(f"迁移不会创建的数据表 {table}")
            continue
        for column in sorted(columns - expected[table]):
            problems.append(f"迁移不会创建的字段 {table}.{column}")


def sqlite_problems(dump: Path, expected: dict[str, set[str]]) -> list[str]:
    problems: list[str] = []
    source = sqlite3.connect(f"{dump.resolve().as_uri()}?mode=ro", uri=True)
    try:
        rows = source.execute("SELECT type, name FROM sqlite_master ORDER BY type, name").fetchall()
        found: dict[str, set[str]] = {}
        for kind, name in rows:
            name = str(name)
            if name.startswith("sqlite_"):
                continue
            if kind == "table":
                quoted = '"' + name.replace('"', '""') + '"'
                found[name] = {str(row[1]) for row in source.execute(f"PRAGMA table_info({quoted})")}
            elif kind != "index":
                problems.append(f"迁移不会创建的{_label(str(kind))} {name}")
    except sqlite3.Error as exc:
        raise SchemaProblem(f"数据库文件无法读取（{exc}）") from exc
    finally:
        source.close()
    _compare(found, expected, problems)
    return problems


def _toc_entry(line: str) -> tuple[str, str, str] | None:
    """(kind, schema, name) of one `pg_restore --list` line, e.g. '215; 1259 16390 TABLE public portal_user me'."""
    line = line.strip()
    if not line or line.startswith(";"):
        return None
    try:
        _, rest = line.split(";", 1)
        rest = rest.strip().split(" ", 2)[2]  # drop the catalog and object OIDs
    except (ValueError, IndexError):
        return ("?", "", line)
    for kind in PG_KINDS:
        if rest.startswith(kind + " "):
            words = rest[len(kind) + 1 :].split(" ")
            schema = words[0]
            name = " ".join(words[1:-1]) if len(words) > 2 else (words[1] if len(words) > 1 else "")
            return (kind, schema, name)
    return ("?", "", rest)


CREATE_TABLE = re.compile(r"^CREATE (?:UNLOGGED )?TABLE (\S+) \($(.*?)^\)", re.MULTILINE | re.DOTALL)


def _unquote(identifier: str) -> str:
    if identifier.startswith('"') and identifier.endswith('"'):
        return identifier[1:-1].replace('""', '"')
    return identifier


def _pg_tables(sql: str) -> dict[str, set[str]]:
    found: dict[str, set[str]] = {}
    for qualified, body in CREATE_TABLE.findall(sql):
        name = _unquote(qualified.split(".", 1)[1] if "." in qualified and not qualified.startswith('"') else qualified)
        columns = set()
        for line in body.splitlines():
            line = line.strip().rstrip(",")
            if not line or line.startswith(("CONSTRAINT ", "--")):
                continue
            match = re.match(r'("(?:[^"]|"")+"|\S+)', line)
            if match:
                columns.add(_unquote(match.group(1)))
        found[name] = columns
    return found


def postgresql_problems(
    dump: Path, expected: dict[str, set[str]], pg_restore: str, env: dict[str, Any] | None = None
) -> list[str]:
    problems: list[str] = []

    def run(*args: str) -> str:
        result = subprocess.run(  # nosec B603 # pg_restore, fixed arguments, no shell
            [pg_restore, *args, str(dump)], env=env, capture_output=True, text=True, check=False
        )
        if result.returncode != 0:
            raise SchemaProblem(f"pg_restore 无法读取数据库文件：{result.stderr.strip()[-1000:]}")
        return result.stdout

    tables_in_toc = 0
    for line in run("--list").splitlines():
        entry = _toc_entry(line)
        if entry is None:
            continue
        kind, schema, name = entry
        if kind == "ACL" or kind in {"ENCODING", "STDSTRINGS", "SEARCHPATH"} or (kind, name) in PG_HARMLESS:
            continue
        if schema not in {"public", "-"}:
            problems.append(f"迁移不会创建的{_label(kind)} {schema}.{name}（模式 {schema}）")
        elif kind not in PG_ALLOWED:
            problems.append(f"迁移不会创建的{_label(kind)} {name}")
        elif kind == "TABLE":
            tables_in_toc += 1
    found = _pg_tables(run("--schema-only", "--file=-"))
    if len(found) != tables_in_toc:
        problems.append(f"数据库文件中有 {tables_in_toc} 张表，只读出 {len(found)} 张的结构")
    _compare(found, expected, problems)
    return problems


def schema_problems(
    vendor: str, dump: Path, applied: list[tuple[str, str]], *, pg_restore: str = "", env: dict[str, Any] | None = None
) -> list[str]:
    expected = expected_schema(applied)
    if vendor == "sqlite":
        return sqlite_problems(dump, expected)
    return postgresql_problems(dump, expected, pg_restore, env)
