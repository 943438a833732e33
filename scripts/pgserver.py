"""Start a throwaway PostgreSQL server from the machine's binaries (tests and benchmarks).

Usage from Python: ``with TempPostgres() as url: ...``. From the shell:
``python scripts/pgserver.py start DIR`` prints a URL; ``... stop DIR`` stops it.
When running as root (CI containers), the server runs as the ``postgres`` system user,
because PostgreSQL refuses to run as root.
"""
from __future__ import annotations

import glob
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path


def find_bindir() -> Path | None:
    for candidate in sorted(glob.glob("/usr/lib/postgresql/*/bin"), reverse=True):
        if Path(candidate, "initdb").exists():
            return Path(candidate)
    initdb = shutil.which("initdb")
    return Path(initdb).parent if initdb else None


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _as_server_user(cmd: list[str]) -> list[str]:
    if os.geteuid() == 0:
        return ["runuser", "-u", "postgres", "--"] + cmd
    return cmd


#: Test settings: speed over durability (a crashed test server is thrown away anyway).
TEST_SETTINGS = {"fsync": "off", "synchronous_commit": "off", "max_connections": "200"}
#: Benchmark settings: durable like a production server (fsync on); commits do not wait for the
#: WAL flush, which matches SQLite's WAL with synchronous=NORMAL that the SQLite bench uses.
BENCH_SETTINGS = {"fsync": "on", "synchronous_commit": "off", "max_connections": "200",
                  "shared_buffers": "256MB"}


def start(datadir: Path, settings: dict | None = None) -> str:
    """initdb + pg_ctl start in ``datadir``; returns the SQLAlchemy URL of the ``postgres`` database."""
    bindir = find_bindir()
    if bindir is None:
        raise RuntimeError("PostgreSQL binaries not found (apt-get install postgresql)")
    datadir.mkdir(parents=True, exist_ok=True)
    if os.geteuid() == 0:
        shutil.chown(datadir, "postgres", "postgres")
    port = _free_port()
    subprocess.run(_as_server_user([str(bindir / "initdb"), "-D", str(datadir / "data"), "-U", "postgres",
                                    "--auth=trust", "-E", "UTF8", "--locale=C.UTF-8"]),
                   check=True, stdout=subprocess.DEVNULL)
    extra = " ".join(f"-c {k}={v}" for k, v in (TEST_SETTINGS if settings is None else settings).items())
    opts = f"-p {port} -k {datadir} -c listen_addresses=127.0.0.1 {extra}"
    subprocess.run(_as_server_user([str(bindir / "pg_ctl"), "-D", str(datadir / "data"), "-o", opts,
                                    "-l", str(datadir / "server.log"), "-w", "start"]),
                   check=True, stdout=subprocess.DEVNULL)
    (datadir / "port").write_text(str(port))
    url = f"postgresql+psycopg://postgres@127.0.0.1:{port}/postgres"
    return url


def stop(datadir: Path) -> None:
    bindir = find_bindir()
    if bindir and (datadir / "data").exists():
        subprocess.run(_as_server_user([str(bindir / "pg_ctl"), "-D", str(datadir / "data"), "-m", "fast", "stop"]),
                       stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)


class TempPostgres:
    def __enter__(self) -> str:
        self.dir = Path(tempfile.mkdtemp(prefix="pgtest-"))
        os.chmod(self.dir, 0o755)
        return start(self.dir)

    def __exit__(self, *exc):
        stop(self.dir)
        shutil.rmtree(self.dir, ignore_errors=True)


if __name__ == "__main__":
    action, directory = sys.argv[1], Path(sys.argv[2])
    if action == "start":
        print(start(directory))
    else:
        stop(directory)
