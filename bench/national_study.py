"""Can the hazard tables be partitioned by province? Four facts, checked on a throwaway PostgreSQL.

`python -m bench.national_study` (PostgreSQL binaries needed; not part of `make bench`). The answers
decide the design written in README ("Growing past one PostgreSQL server"): a toy schema shaped like
the portal's (enterprises with a province, hazards partitioned by it into 31 lists) is asked

1. whether hazards may keep `PRIMARY KEY (id)` alone (no: the key must include the partition key);
2. whether events may keep `FOREIGN KEY (hazard_id) REFERENCES hazard (id)` (no: only `(id, province)`);
3. how many partitions the portal's query shape visits (`enterprise_id IN (enterprises of a region)`),
   and how many once a province predicate is added (31 and 1);
4. whether a BEFORE INSERT trigger could fill the key for the ORM, which does not know it (no: a row
   may not move to another partition in a BEFORE trigger).
"""

from __future__ import annotations

import sys
from typing import Any

PROVINCES = range(11, 42)  # 31 list partitions, like the two-digit province codes


def _ask(cursor: Any, sql: str) -> Any:
    """The statement's rows, "ok", or the error's first line (the error is the answer sought)."""
    cursor.execute("SAVEPOINT ask")
    try:
        cursor.execute(sql)
    except Exception as exc:  # noqa: BLE001 - every database error is an answer here
        cursor.execute("ROLLBACK TO SAVEPOINT ask")
        return "ERROR: " + str(exc).splitlines()[0]
    rows = cursor.fetchall() if cursor.description else "ok"
    cursor.execute("RELEASE SAVEPOINT ask")
    return rows


def _partitions_scanned(plan: Any) -> int:
    return sum(" on h_" in row[0] and "Scan" in row[0] for row in plan)


def study(url: str) -> dict[str, Any]:
    import psycopg2

    connection = psycopg2.connect(url)
    try:
        cursor = connection.cursor()
        answers: dict[str, Any] = {"version": _ask(cursor, "SELECT version()")[0][0]}
        answers["primary key (id)"] = _ask(
            cursor,
            "CREATE TABLE h1 (id bigserial PRIMARY KEY, province smallint NOT NULL) PARTITION BY LIST (province)",
        )
        _ask(cursor, "CREATE TABLE e (id bigserial PRIMARY KEY, province smallint NOT NULL)")
        _ask(
            cursor,
            "CREATE TABLE h (id bigserial, province smallint NOT NULL, enterprise_id bigint NOT NULL, "
            "found_on date NOT NULL, PRIMARY KEY (id, province)) PARTITION BY LIST (province)",
        )
        for code in PROVINCES:
            _ask(cursor, f"CREATE TABLE h_{code} PARTITION OF h FOR VALUES IN ({code})")
        _ask(cursor, "CREATE INDEX ON h (enterprise_id)")
        answers["foreign key (hazard_id)"] = _ask(
            cursor, "CREATE TABLE ev1 (id bigserial PRIMARY KEY, hazard_id bigint NOT NULL REFERENCES h (id))"
        )
        answers["foreign key (hazard_id, province)"] = _ask(
            cursor,
            "CREATE TABLE ev2 (id bigserial PRIMARY KEY, hazard_id bigint NOT NULL, province smallint NOT NULL, "
            "FOREIGN KEY (hazard_id, province) REFERENCES h (id, province))",
        )
        _ask(cursor, "INSERT INTO e (province) SELECT 11 + (g % 31) FROM generate_series(1, 3100) g")
        _ask(
            cursor,
            "INSERT INTO h (province, enterprise_id, found_on) "
            "SELECT e.province, e.id, date '2024-01-01' + (g % 300) FROM generate_series(1, 20) g, e",
        )
        _ask(cursor, "ANALYZE")
        answers["partitions visited by enterprise_id IN (…)"] = _partitions_scanned(
            _ask(cursor, "EXPLAIN SELECT count(*) FROM h WHERE enterprise_id IN (SELECT id FROM e WHERE province = 14)")
        )
        answers["partitions visited with province = 14"] = _partitions_scanned(
            _ask(
                cursor,
                "EXPLAIN SELECT count(*) FROM h WHERE province = 14 "
                "AND enterprise_id IN (SELECT id FROM e WHERE province = 14)",
            )
        )
        _ask(
            cursor,
            "CREATE FUNCTION fill_province() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN "
            "NEW.province := (SELECT province FROM e WHERE id = NEW.enterprise_id); RETURN NEW; END $$",
        )
        _ask(cursor, "CREATE TRIGGER fill BEFORE INSERT ON h FOR EACH ROW EXECUTE FUNCTION fill_province()")
        # Enterprise 4 is in province 15; the row is routed by the value given (11) before the trigger runs.
        answers["BEFORE INSERT trigger filling the key"] = _ask(
            cursor, "INSERT INTO h (province, enterprise_id, found_on) VALUES (11, 4, date '2024-01-01')"
        )
        connection.rollback()
        return answers
    finally:
        connection.close()


def main() -> int:
    from tests.services import PostgresServer

    server = PostgresServer().start()
    try:
        for question, answer in study(server.url).items():
            print(f"{question}: {answer}")
    finally:
        server.stop()
    return 0


if __name__ == "__main__":
    sys.exit(main())
