"""Real warehouses for the data-source tests: a SQLite file, a PostgreSQL database and a
MariaDB database, each created by the test and dropped afterwards (skipped when the
server is not reachable), and a local HTTP server on 127.0.0.1."""

from __future__ import annotations

import datetime as dt
import http.server
import sqlite3
import threading
import time
import uuid

import pytest

PG = {"host": "127.0.0.1", "port": 5432, "user": "postgres"}
MY = {"host": "127.0.0.1", "port": 3306, "user": "root", "password": ""}


def weeks(n: int, *, end: dt.date | None = None) -> list[dt.date]:
    last = end or (dt.date.today() - dt.timedelta(days=dt.date.today().weekday() + 7))
    return [last - dt.timedelta(weeks=i) for i in reversed(range(n))]


def fill_sqlite(path, rows) -> None:
    con = sqlite3.connect(path)
    con.execute("CREATE TABLE tickets (week TEXT, team TEXT, opened INTEGER)")
    con.executemany("INSERT INTO tickets VALUES (?, ?, ?)", rows)
    con.commit()
    con.close()


@pytest.fixture
def sqlite_warehouse(tmp_path, settings):
    settings.HEADWAY_SOURCE_SQLITE_DIRS = [str(tmp_path)]
    path = tmp_path / "warehouse.sqlite3"
    fill_sqlite(path, [(w.isoformat(), "support", 10 + i) for i, w in enumerate(weeks(6))])
    return path


@pytest.fixture
def pg_warehouse(settings):
    psycopg = pytest.importorskip("psycopg")
    name = f"headway_wh_{uuid.uuid4().hex[:10]}"
    try:
        admin = psycopg.connect(**PG, dbname="postgres", autocommit=True, connect_timeout=3)
    except psycopg.OperationalError:
        pytest.skip("PostgreSQL is not reachable at 127.0.0.1:5432")
    admin.execute(f'CREATE DATABASE "{name}"')
    try:
        with psycopg.connect(**PG, dbname=name, autocommit=True) as con:
            con.execute("CREATE TABLE tickets (week date, team text, opened integer)")
            for i, w in enumerate(weeks(6)):
                con.execute("INSERT INTO tickets VALUES (%s, 'support', %s)", (w, 10 + i))
            con.execute("CREATE SEQUENCE seq")
        settings.HEADWAY_SOURCE_ALLOWED_HOSTS = ["127.0.0.1"]
        yield f"postgresql://postgres@127.0.0.1:5432/{name}", name
    finally:
        admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        admin.close()


@pytest.fixture
def mariadb_warehouse(settings):
    pymysql = pytest.importorskip("pymysql")
    name = f"headway_wh_{uuid.uuid4().hex[:10]}"
    try:
        admin = pymysql.connect(**MY, autocommit=True, connect_timeout=3)
    except pymysql.err.OperationalError:
        pytest.skip("MariaDB is not reachable at 127.0.0.1:3306")
    with admin.cursor() as cur:
        cur.execute(f"CREATE DATABASE `{name}`")
        cur.execute(f"CREATE TABLE `{name}`.tickets (week date, team varchar(20), opened int)")
        for i, w in enumerate(weeks(6)):
            cur.execute(f"INSERT INTO `{name}`.tickets VALUES (%s, 'support', %s)", (w, 10 + i))
    settings.HEADWAY_SOURCE_ALLOWED_HOSTS = ["127.0.0.1"]
    try:
        yield f"mysql://root@127.0.0.1:3306/{name}", name, admin
    finally:
        with admin.cursor() as cur:
            cur.execute(f"DROP DATABASE IF EXISTS `{name}`")
        admin.close()


class Site:
    """What the local HTTP server answers: path → (status, content type, body, headers)."""

    def __init__(self):
        self.routes: dict[str, tuple] = {}
        self.seen: list[dict] = []
        self.url = ""


@pytest.fixture
def http_site():
    site = Site()

    class Handler(http.server.BaseHTTPRequestHandler):
        def log_message(self, *args):
            pass

        def do_GET(self):  # noqa: N802
            site.seen.append({"path": self.path, "headers": dict(self.headers)})
            status, ctype, body, headers = site.routes.get(
                self.path, (404, "text/plain", b"missing", {}))
            if callable(body):
                body(self)
                return
            self.send_response(status)
            self.send_header("Content-Type", ctype)
            for k, v in headers.items():
                self.send_header(k, v)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    server.daemon_threads = True
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    site.url = f"http://127.0.0.1:{server.server_address[1]}"
    yield site
    server.shutdown()
    server.server_close()


def stream_forever(chunk: bytes, seconds: float):
    """A body writer: keeps sending ``chunk`` for ``seconds`` (a huge or slow response)."""
    def write(handler):
        handler.send_response(200)
        handler.send_header("Content-Type", "text/csv")
        handler.end_headers()
        end = time.monotonic() + seconds
        try:
            while time.monotonic() < end:
                handler.wfile.write(chunk)
        except (BrokenPipeError, ConnectionResetError):
            pass
    return write
