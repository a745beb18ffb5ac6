"""SQL sources against real databases: read-only by the database, one statement, timeout,
row cap (SQLite file, a PostgreSQL database and a MariaDB database made by the test)."""

from __future__ import annotations

import sqlite3

import pytest

from sources.sql import SqlError, run_query, single_statement


def test_single_statement_rules():
    assert single_statement("select 1;") == "select 1"
    assert single_statement("select ';' as x; -- done") .startswith("select ';'")
    assert single_statement("select $$a;b$$") == "select $$a;b$$"
    with pytest.raises(SqlError, match="one statement"):
        single_statement("select 1; delete from tickets")
    with pytest.raises(SqlError, match="one statement"):
        single_statement("select 1 /* x */ ; drop table t")


# --- SQLite ------------------------------------------------------------------------------

def test_sqlite_reads(sqlite_warehouse):
    result = run_query(f"sqlite:///{sqlite_warehouse}", "select week, opened from tickets")
    assert result.columns == ["week", "opened"] and len(result.rows) == 6


@pytest.mark.parametrize("statement", [
    "insert into tickets values ('2026-01-05', 'x', 1) returning opened",
    "delete from tickets returning opened",
    "update tickets set opened = 0 returning opened",
])
def test_sqlite_refuses_writes_by_the_database(sqlite_warehouse, statement):
    with pytest.raises(SqlError, match="(?i)readonly|read-only|read only|query_only"):
        run_query(f"sqlite:///{sqlite_warehouse}", statement)
    con = sqlite3.connect(sqlite_warehouse)
    assert con.execute("select count(*), sum(opened) from tickets").fetchone() == (6, 75)


def test_sqlite_drop_refused(sqlite_warehouse):
    with pytest.raises(SqlError):
        run_query(f"sqlite:///{sqlite_warehouse}", "drop table tickets")
    assert sqlite3.connect(sqlite_warehouse).execute("select count(*) from tickets").fetchone() == (6,)


def test_sqlite_second_statement_refused(sqlite_warehouse):
    with pytest.raises(SqlError, match="one statement"):
        run_query(f"sqlite:///{sqlite_warehouse}", "select 1; drop table tickets")


def test_sqlite_timeout(sqlite_warehouse):
    slow = ("with recursive c(x) as (select 1 union all select x + 1 from c) "
            "select count(*) from c")
    with pytest.raises(SqlError, match="timeout of 1 s"):
        run_query(f"sqlite:///{sqlite_warehouse}", slow, timeout=1)


def test_sqlite_row_cap(sqlite_warehouse):
    result = run_query(f"sqlite:///{sqlite_warehouse}", "select * from tickets", row_cap=4)
    assert len(result.rows) == 4 and result.truncated


def test_sqlite_outside_allowed_folder_refused(sqlite_warehouse, settings, tmp_path_factory):
    other = tmp_path_factory.mktemp("elsewhere") / "x.sqlite3"
    sqlite3.connect(other).close()
    with pytest.raises(SqlError, match="HEADWAY_SOURCE_SQLITE_DIRS"):
        run_query(f"sqlite:///{other}", "select 1")


def test_missing_table_is_the_databases_message(sqlite_warehouse):
    with pytest.raises(SqlError, match="no such table: missing_table"):
        run_query(f"sqlite:///{sqlite_warehouse}", "select * from missing_table")


# --- PostgreSQL ---------------------------------------------------------------------------

def test_pg_reads(pg_warehouse):
    url, _ = pg_warehouse
    result = run_query(url, "select week, opened from tickets order by week")
    assert len(result.rows) == 6


@pytest.mark.parametrize("statement", [
    "insert into tickets values ('2026-01-05', 'x', 1) returning opened",
    "with d as (delete from tickets returning opened) select * from d",
    "select nextval('seq')",
])
def test_pg_refuses_writes_by_the_database(pg_warehouse, statement):
    url, name = pg_warehouse
    with pytest.raises(SqlError, match="read-only transaction"):
        run_query(url, statement)
    import psycopg

    with psycopg.connect(host="127.0.0.1", user="postgres", dbname=name) as con:
        assert con.execute("select count(*) from tickets").fetchone() == (6,)


def test_pg_drop_refused_by_the_database(pg_warehouse):
    url, _ = pg_warehouse
    # A statement the string check does not look at: the database says no.
    with pytest.raises(SqlError, match="read-only transaction"):
        run_query(url, "drop table tickets")


def test_pg_timeout(pg_warehouse):
    url, _ = pg_warehouse
    with pytest.raises(SqlError, match="cut at its timeout of 1 s"):
        run_query(url, "select pg_sleep(3)", timeout=1)


def test_pg_loopback_refused_unless_allowed(pg_warehouse, settings):
    url, _ = pg_warehouse
    settings.HEADWAY_SOURCE_ALLOWED_HOSTS = []
    with pytest.raises(SqlError, match="refused"):
        run_query(url, "select 1")


# --- MariaDB (the MySQL family through SQLAlchemy's PyMySQL dialect) -----------------------

def test_mariadb_reads_and_refuses_writes(mariadb_warehouse):
    url, name, admin = mariadb_warehouse
    assert len(run_query(url, "select week, opened from tickets").rows) == 6
    for statement in ("insert into tickets values ('2026-01-05', 'x', 1)",
                      "delete from tickets", "update tickets set opened = 0",
                      "drop table tickets"):
        with pytest.raises(SqlError, match="(?i)read only|read-only"):
            run_query(url, statement)
    with admin.cursor() as cur:
        cur.execute(f"select count(*) from `{name}`.tickets")
        assert cur.fetchone() == (6,)


def test_mariadb_timeout(mariadb_warehouse):
    url, _, _ = mariadb_warehouse
    with pytest.raises(SqlError, match="timeout"):
        run_query(url, "select sleep(3) from tickets", timeout=1)
