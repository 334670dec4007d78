"""Throw-away servers for tests and benchmarks: a real PostgreSQL cluster, a local
S3-compatible server, and `vigil serve` itself as a process."""

from __future__ import annotations

import contextlib
import glob
import os
import pwd
import shutil
import socket
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import IO

import httpx
import psycopg
from psycopg import sql

PG_USER = "postgres"
PG_DATABASE = "vigil"
# Trust auth: the cluster only listens on loopback and a private socket dir, and dies with
# the test session. --no-sync and fsync=off: durability is not what these tests measure.
INITDB_OPTIONS = ("-U", PG_USER, "--auth=trust", "-E", "UTF8", "--locale=C", "--no-sync")
PG_CTL_OPTIONS = ("-m", "fast", "-w", "-t", "60")


class ServerUnavailable(RuntimeError):
    """A test server could not be started; the message says why and what to do."""


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


def postgres_bin_dir() -> Path:
    """The newest installed PostgreSQL's bin directory (Debian keeps them out of PATH)."""
    found = sorted(glob.glob("/usr/lib/postgresql/*/bin/initdb"), key=_major_version)
    if found:
        return Path(found[-1]).parent
    on_path = shutil.which("initdb")
    if on_path:
        return Path(on_path).parent
    raise ServerUnavailable(
        "PostgreSQL is not installed (no /usr/lib/postgresql/*/bin/initdb). "
        "Run `make test`, which installs it, or `apt-get install postgresql`."
    )


def _major_version(initdb: str) -> int:
    version = Path(initdb).parts[-3]
    return int(version) if version.isdigit() else 0


class PostgresServer:
    """One cluster in a temp dir, listening on 127.0.0.1:<port> with trust auth.

    As root the cluster runs as the ``postgres`` system user, because PostgreSQL refuses to
    run as root."""

    def __init__(self) -> None:
        self.bin_dir = postgres_bin_dir()
        # Not under pytest's tmp_path: that is private to root, and postgres must enter it.
        self.root = Path(tempfile.mkdtemp(prefix="vigil-pg-"))
        self.data_dir = self.root / "data"
        self.log_file = self.root / "server.log"
        self.port = free_port()
        self._owner = _unprivileged_owner()
        if self._owner is not None:
            os.chown(self.root, self._owner.pw_uid, self._owner.pw_gid)

    @property
    def url(self) -> str:
        """The SQLAlchemy URL of the ``vigil`` database."""
        return self.database_url(PG_DATABASE)

    def database_url(self, database: str) -> str:
        return f"postgresql+psycopg://{PG_USER}@127.0.0.1:{self.port}/{database}"

    def start(self) -> PostgresServer:
        """initdb, start, create the ``vigil`` database. Raises ServerUnavailable."""
        self._run("initdb", "-D", str(self.data_dir), *INITDB_OPTIONS)
        self._pg_ctl("start")
        self.create_database(PG_DATABASE)
        return self

    def restart(self) -> None:
        """Fast restart: every open connection is cut, as when the server restarts in
        production."""
        self._pg_ctl("restart")

    def stop(self) -> None:
        """Stop the server (if it runs) and delete its directory."""
        try:
            if (self.data_dir / "postmaster.pid").exists():
                self._run("pg_ctl", "stop", "-D", str(self.data_dir), "-m", "fast", "-w")
        finally:
            shutil.rmtree(self.root, ignore_errors=True)

    def create_database(self, name: str) -> str:
        """Create an empty database; returns its SQLAlchemy URL."""
        self._execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
        return self.database_url(name)

    def drop_database(self, name: str) -> None:
        # FORCE ends sessions a test left open, which would otherwise block the drop.
        statement = sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)")
        self._execute(statement.format(sql.Identifier(name)))

    def _execute(self, statement: sql.Composed) -> None:
        conninfo = f"host=127.0.0.1 port={self.port} user={PG_USER} dbname=postgres"
        with psycopg.connect(conninfo, autocommit=True) as connection:
            connection.execute(statement)

    def _pg_ctl(self, action: str) -> None:
        options = f"-p {self.port} -h 127.0.0.1 -k {self.root} -c fsync=off"
        data, log = str(self.data_dir), str(self.log_file)
        self._run("pg_ctl", action, "-D", data, "-l", log, *PG_CTL_OPTIONS, "-o", options)

    def _run(self, program: str, *args: str) -> None:
        command = [str(self.bin_dir / program), *args]
        if self._owner is not None:
            command = ["runuser", "-u", self._owner.pw_name, "--", *command]
        # cwd: the unprivileged user may not be allowed into ours.
        done = subprocess.run(command, cwd=self.root, capture_output=True, text=True, check=False)
        if done.returncode != 0:
            raise ServerUnavailable(
                f"{program} {args[0]} failed ({done.returncode}): "
                f"{done.stderr.strip() or done.stdout.strip()}{self._log_tail()}"
            )

    def _log_tail(self) -> str:
        if not self.log_file.exists():
            return ""
        lines = self.log_file.read_text(errors="replace").splitlines()[-10:]
        return "\nserver log:\n" + "\n".join(lines)


def _unprivileged_owner() -> pwd.struct_passwd | None:
    """The ``postgres`` system user when we run as root, else None (run as ourselves)."""
    if os.geteuid() != 0:
        return None
    try:
        return pwd.getpwnam(PG_USER)
    except KeyError:
        raise ServerUnavailable(
            "running as root, but there is no `postgres` system user to run PostgreSQL as; "
            "install Debian's `postgresql` package (`make test` does)."
        ) from None


def start_postgres() -> PostgresServer:
    """A started cluster; retries once on a new port in case another process took it."""
    for attempt in range(2):
        server = PostgresServer()
        try:
            return server.start()
        except ServerUnavailable:
            with contextlib.suppress(ServerUnavailable):
                server.stop()
            if attempt == 1:
                raise
    raise AssertionError("unreachable")


class S3Server:
    """moto's standalone S3-compatible server on 127.0.0.1:<port>, in a thread."""

    def __init__(self) -> None:
        from moto.server import ThreadedMotoServer

        self.port = free_port()
        self.endpoint_url = f"http://127.0.0.1:{self.port}"
        self._server = ThreadedMotoServer(ip_address="127.0.0.1", port=self.port, verbose=False)

    def start(self) -> S3Server:
        self._server.start()
        return self

    def stop(self) -> None:
        self._server.stop()


VIGIL = str(Path(sys.executable).with_name("vigil"))


@dataclass
class VigilServer:
    """`vigil serve` as a real process on 127.0.0.1, with the admin key it printed."""

    url: str
    admin_key: str
    process: subprocess.Popen[str]
    stdout: list[str] = field(default_factory=list)  # uvicorn's access log, as it comes

    def output(self) -> str:
        return "".join(self.stdout)

    @property
    def headers(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.admin_key}"}

    def stop(self) -> None:
        self.process.terminate()
        self.process.wait(timeout=60)


def start_vigil_serve(
    env: dict[str, str], *extra: str, ready_s: float = 180, admin_key: str | None = None
) -> VigilServer:
    """Start `vigil serve` with ``env`` and wait until `/readyz` answers 200. ``admin_key``:
    a restart on a data directory that has its admin key already (vigil prints none then)."""
    port = free_port()
    process = subprocess.Popen(
        [VIGIL, "serve", "--host", "127.0.0.1", "--port", str(port), *extra],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        text=True,
    )
    assert process.stdout is not None
    key = admin_key or process.stdout.readline().strip()
    server = VigilServer(f"http://127.0.0.1:{port}", key, process)
    # uvicorn's access log goes to stdout: keep reading it, or a full pipe stalls the server.
    reader = threading.Thread(target=_collect, args=(process.stdout, server.stdout), daemon=True)
    reader.start()
    try:
        wait_until_ready(server.url, process, ready_s)
    except BaseException:
        server.stop()
        raise
    return server


def _collect(stream: IO[str], into: list[str]) -> None:
    for line in stream:
        into.append(line)


def wait_until_ready(url: str, process: subprocess.Popen[str], timeout_s: float = 120) -> None:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise ServerUnavailable(f"vigil serve exited early with status {process.returncode}")
        try:
            if httpx.get(f"{url}/readyz", timeout=2).status_code == 200:
                return
        except httpx.TransportError:
            pass
        time.sleep(0.3)
    raise ServerUnavailable(f"vigil serve did not become ready in {timeout_s:.0f} s")


@contextlib.contextmanager
def loopback_http(handler: Callable[..., BaseHTTPRequestHandler]) -> Iterator[str]:
    """A threaded HTTP server on 127.0.0.1 for the test's ``handler``; yields its base URL."""
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()
