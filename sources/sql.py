"""Running a data source's SQL: read-only by the database's own rule, one statement, a
statement timeout and a row cap.

SQLAlchemy Core opens the connection, so any database with a SQLAlchemy driver works:
PostgreSQL (psycopg, installed) and SQLite out of the box; MySQL/MariaDB with
``pip install headway[mysql]`` (PyMySQL); SQL Server with ``pyodbc`` and others with
their driver. Per dialect:

- PostgreSQL: ``SET TRANSACTION READ ONLY`` and ``SET LOCAL statement_timeout``;
- MySQL / MariaDB: ``SET SESSION TRANSACTION READ ONLY`` before ``START TRANSACTION READ
  ONLY``, and ``max_statement_time`` (MariaDB) or ``max_execution_time`` (MySQL);
- SQLite: the file opened with ``mode=ro`` (and ``PRAGMA query_only``); a progress handler
  cuts a query at its timeout; only files inside ``HEADWAY_SOURCE_SQLITE_DIRS``;
- others: the driver's read-only flag where SQLAlchemy has one, and the transaction is
  always rolled back. Give Headway a database user that can only read, too.

The transaction is rolled back at the end whatever happened. A second statement is
refused before anything is sent (``single_statement``); the database refuses writes
regardless. Network hosts pass the same address check as HTTP sources (core.outbound).
"""

from __future__ import annotations

import sqlite3
import time
from dataclasses import dataclass
from pathlib import Path

from django.conf import settings

from core.outbound import OutboundError, resolve_checked


class SqlError(Exception):
    """A query that could not run; the message (the database's own words) is for people."""


@dataclass
class Result:
    columns: list[str]
    rows: list[tuple]
    truncated: bool = False


def single_statement(query: str) -> str:
    """The query without a trailing semicolon; SqlError when it holds a second statement.

    Semicolons inside quotes, identifiers, comments and PostgreSQL dollar quotes do not
    count."""
    text = query.strip()
    i, n = 0, len(text)
    end = None
    while i < n:
        c = text[i]
        if c in ("'", '"', "`"):
            j = i + 1
            while j < n:
                if text[j] == c:
                    if j + 1 < n and text[j + 1] == c:  # doubled quote
                        j += 2
                        continue
                    break
                j += 1
            i = j + 1
        elif text.startswith("--", i):
            j = text.find("\n", i)
            i = n if j < 0 else j + 1
        elif text.startswith("/*", i):
            j = text.find("*/", i + 2)
            i = n if j < 0 else j + 2
        elif c == "$":
            j = text.find("$", i + 1)
            tag = text[i:j + 1] if j > 0 else ""
            if tag and (tag == "$$" or tag[1:-1].replace("_", "").isalnum()) \
                    and not tag[1:-1].isdigit():
                k = text.find(tag, j + 1)
                i = n if k < 0 else k + len(tag)
            else:
                i += 1
        elif c == ";":
            if text[i + 1:].strip(" \t\r\n;"):
                rest = text[i + 1:].strip()
                if not (rest.startswith("--") and "\n" not in rest):
                    raise SqlError("Only one statement is allowed: remove everything after "
                                   "the first semicolon.")
            end = i if end is None else end
            i += 1
        else:
            i += 1
    cleaned = text[:end] if end is not None else text
    if not cleaned.strip():
        raise SqlError("Write a query.")
    return cleaned


def _sqlite_path(url) -> Path:
    database = url.database or ""
    if not database or database == ":memory:":
        raise SqlError("Give the path of a SQLite file (sqlite:////path/to/file.db).")
    path = Path(database).expanduser().resolve()
    allowed = [Path(d).expanduser().resolve() for d in settings.HEADWAY_SOURCE_SQLITE_DIRS]
    if not any(path == d or d in path.parents for d in allowed):
        raise SqlError(f"SQLite files are read only from {', '.join(map(str, allowed)) or '—'} "
                       "(HEADWAY_SOURCE_SQLITE_DIRS).")
    own = settings.DATABASES["default"]
    if own["ENGINE"].endswith("sqlite3") and str(own["NAME"]) not in ("", ":memory:") \
            and Path(own["NAME"]).resolve() == path:
        raise SqlError("Headway's own database cannot be a data source.")
    if not path.is_file():
        raise SqlError(f"unable to open database file {path.name}: no such file.")
    return path


def _make_url(raw: str):
    from sqlalchemy.engine import make_url
    from sqlalchemy.exc import ArgumentError

    try:
        url = make_url(raw.strip())
    except ArgumentError:
        raise SqlError("This is not a database URL (e.g. postgresql://user:pass@host/db, "
                       "mysql://…, sqlite:////path/file.db).")
    driver = url.drivername
    if driver in ("postgres", "postgresql"):
        url = url.set(drivername="postgresql+psycopg")
    elif driver in ("mysql", "mariadb"):
        url = url.set(drivername=f"{driver}+pymysql")
    return url


def mask_url(raw: str) -> str:
    try:
        return _make_url(raw).render_as_string(hide_password=True)
    except SqlError:
        return ""


def run_query(raw_url: str, query: str, *, timeout: float = 10.0, row_cap: int = 10_000,
              params: dict | None = None) -> Result:
    """Run ``query`` read-only; at most ``row_cap`` rows (``truncated`` says if more)."""
    from sqlalchemy import create_engine, text
    from sqlalchemy.exc import DBAPIError, NoSuchModuleError, SQLAlchemyError
    from sqlalchemy.pool import NullPool

    statement = single_statement(query)
    url = _make_url(raw_url)
    backend = url.get_backend_name()
    connect_args: dict = {}
    if backend == "sqlite":
        path = _sqlite_path(url)
        url = url.set(drivername="sqlite+pysqlite", database=f"file:{path}",
                      query={"mode": "ro", "uri": "true"})
        connect_args["timeout"] = timeout
    elif url.host:
        try:
            address = resolve_checked(url.host, url.port or 0)
        except OutboundError as exc:
            raise SqlError(str(exc))
        if backend == "postgresql":
            connect_args["hostaddr"] = address  # connect to the checked address
        else:
            url = url.set(host=address)
        connect_args["connect_timeout"] = max(1, int(timeout))
    try:
        engine = create_engine(url, poolclass=NullPool, connect_args=connect_args)
    except (NoSuchModuleError, ImportError) as exc:
        raise SqlError(f"No driver for {url.drivername} is installed ({exc}); see the README, "
                       "'Data sources'.")
    except SQLAlchemyError as exc:
        raise SqlError(str(exc))
    started = time.monotonic()
    try:
        with engine.connect() as conn:
            _begin_read_only(conn, backend, timeout, started)
            try:
                result = conn.execute(text(statement).execution_options(), params or {})
                if not result.returns_rows:
                    raise SqlError("The query returns no rows: write a SELECT.")
                columns = list(result.keys())
                rows = [tuple(r) for r in result.fetchmany(row_cap + 1)]
            finally:
                conn.rollback()
    except DBAPIError as exc:
        raise SqlError(_plain(exc, backend, timeout, started))
    except SQLAlchemyError as exc:
        raise SqlError(str(exc).split("\n")[0])
    finally:
        engine.dispose()
    truncated = len(rows) > row_cap
    return Result(columns=columns, rows=rows[:row_cap], truncated=truncated)


def _begin_read_only(conn, backend: str, timeout: float, started: float) -> None:
    if backend == "postgresql":
        conn.exec_driver_sql("SET TRANSACTION READ ONLY")
        conn.exec_driver_sql(f"SET LOCAL statement_timeout = {int(timeout * 1000)}")
        conn.exec_driver_sql("SET LOCAL idle_in_transaction_session_timeout = "
                             f"{int(timeout * 1000) + 5000}")
    elif backend in ("mysql", "mariadb"):
        conn.exec_driver_sql("SET SESSION TRANSACTION READ ONLY")
        try:
            conn.exec_driver_sql(f"SET SESSION max_statement_time = {float(timeout)}")  # MariaDB
        except Exception:
            conn.rollback()
            conn.exec_driver_sql("SET SESSION TRANSACTION READ ONLY")
            conn.exec_driver_sql(f"SET SESSION max_execution_time = {int(timeout * 1000)}")
        conn.exec_driver_sql("START TRANSACTION READ ONLY")
    elif backend == "sqlite":
        raw = conn.connection.dbapi_connection
        raw.execute("PRAGMA query_only = ON")
        deadline = started + timeout

        def cut() -> int:
            return 1 if time.monotonic() > deadline else 0

        raw.set_progress_handler(cut, 10_000)
    # Other dialects: no portable read-only switch; the transaction is rolled back at the
    # end and the README asks for a database user that can only read.



def _plain(exc, backend: str, timeout: float, started: float) -> str:
    """The database's own message, first line, without SQLAlchemy's decoration."""
    original = getattr(exc, "orig", None) or exc
    message = str(original).strip().split("\n")[0]
    if backend == "mysql" or backend == "mariadb":
        args = getattr(original, "args", ())
        if len(args) >= 2:
            message = str(args[1])
    elapsed = time.monotonic() - started
    lowered = message.lower()
    if ("statement timeout" in lowered or "interrupted" in lowered
            or "max_statement_time" in lowered or "maximum statement execution time" in lowered
            or "query execution was interrupted" in lowered) and elapsed >= timeout * 0.8:
        return f"The query was cut at its timeout of {timeout:g} s ({message})."
    if isinstance(original, sqlite3.OperationalError) and "readonly" in lowered.replace(" ", ""):
        return f"The database refused a write: {message}."
    return message
