"""The PostgreSQL side of `make bench DB=postgres` (issue 7).

A throwaway local server (scripts/pgserver.py, the same one the test suite starts) with
production-like durability (fsync on), the city loaded into it from a cached ``pg_dump``
(benchmarks/cache/city*.pgdump) or seeded once and dumped, and the few SQL statements the
runner needs, on SQLite or PostgreSQL alike.
"""
from __future__ import annotations

import os
import sqlite3
import subprocess
import tempfile
from datetime import datetime
from pathlib import Path

import psycopg

from scripts import pgserver


class Server:
    """``with Server() as pg:`` starts a server in a temporary directory and always stops it."""

    def __init__(self) -> None:
        self.dir: Path | None = None
        self.port: int | None = None
        self.bindir = pgserver.find_bindir()

    def __enter__(self) -> "Server":
        if self.bindir is None:
            raise RuntimeError("PostgreSQL binaries not found (apt-get install postgresql)")
        self.dir = Path(tempfile.mkdtemp(prefix="bench-pg-"))
        os.chmod(self.dir, 0o755)
        try:
            pgserver.start(self.dir, pgserver.BENCH_SETTINGS)
        except BaseException:
            self.stop()
            raise
        self.port = int((self.dir / "port").read_text())
        return self

    def __exit__(self, *exc) -> None:
        self.stop()

    def stop(self) -> None:
        if self.dir is None:
            return
        pgserver.stop(self.dir)
        subprocess.run(["rm", "-rf", str(self.dir)], check=False)
        self.dir = None

    # --- addresses ---------------------------------------------------------------------------

    def libpq(self, dbname: str) -> str:
        return f"postgresql://postgres@127.0.0.1:{self.port}/{dbname}"

    def url(self, dbname: str) -> str:
        """The DATABASE_URL the app gets."""
        return f"postgresql+psycopg://postgres@127.0.0.1:{self.port}/{dbname}"

    # --- administration ----------------------------------------------------------------------

    def admin(self, sql: str) -> None:
        with psycopg.connect(self.libpq("postgres"), autocommit=True) as conn:
            conn.execute(sql)

    def create_db(self, name: str, template: str | None = None) -> None:
        self.admin(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        self.admin(f'CREATE DATABASE "{name}"' + (f' TEMPLATE "{template}"' if template else ""))

    def _tool(self, name: str, *args: str, timeout: float = 3600) -> None:
        done = subprocess.run([str(self.bindir / name), *args], capture_output=True, text=True, timeout=timeout)
        if done.returncode != 0:
            raise RuntimeError(f"{name} failed ({done.returncode}):\n{done.stdout}\n{done.stderr[-3000:]}")

    def dump(self, dbname: str, path: Path) -> None:
        tmp = path.with_name(path.name + ".part")
        self._tool("pg_dump", "--format=custom", "--no-owner", "--file", str(tmp), self.libpq(dbname))
        os.replace(tmp, path)

    def restore(self, path: Path, dbname: str) -> None:
        self.create_db(dbname)
        self._tool("pg_restore", "--no-owner", "--jobs", "2", "--dbname", self.libpq(dbname), str(path))
        self.admin(f'ALTER DATABASE "{dbname}" SET timezone TO \'UTC\'')
        with psycopg.connect(self.libpq(dbname), autocommit=True) as conn:
            conn.execute("ANALYZE")

    def version(self) -> str:
        with psycopg.connect(self.libpq("postgres")) as conn:
            return conn.execute("SHOW server_version").fetchone()[0]

    def settings(self) -> dict:
        names = ("fsync", "synchronous_commit", "shared_buffers", "max_connections")
        with psycopg.connect(self.libpq("postgres")) as conn:
            return {n: conn.execute(f"SHOW {n}").fetchone()[0] for n in names}


class Sql:
    """The runner's few direct statements, written once with ``?`` placeholders, on a SQLite file
    or a PostgreSQL database. Datetimes come back as the SQLite text form on both."""

    def __init__(self, target) -> None:
        if isinstance(target, Path):
            self.kind, self.conn = "sqlite", sqlite3.connect(target, timeout=30)
        else:
            self.kind, self.conn = "postgresql", psycopg.connect(target)

    def param(self, value):
        """A datetime parameter in the column's stored form."""
        if isinstance(value, datetime) and self.kind == "sqlite":
            return value.strftime("%Y-%m-%d %H:%M:%S.%f")
        return value

    def execute(self, sql: str, params: tuple = ()) -> list[tuple]:
        if self.kind == "postgresql":
            sql = sql.replace("%", "%%").replace("?", "%s")
        cur = self.conn.execute(sql, tuple(self.param(p) for p in params))
        rows = cur.fetchall() if cur.description else []
        return [tuple(v.strftime("%Y-%m-%d %H:%M:%S.%f") if isinstance(v, datetime) else v for v in row)
                for row in rows]

    def commit(self) -> None:
        self.conn.commit()

    def close(self) -> None:
        self.conn.close()
