"""A throwaway PostgreSQL server for the test session (initdb + pg_ctl in a temp dir).

Binds to 127.0.0.1 on a free port and a unix socket inside the temp dir only.
initdb refuses to run as root, so as root the cluster is owned by the
``postgres`` system user (or ``nobody``) and commands run through ``runuser``.
"""

from __future__ import annotations

import contextlib
import glob
import itertools
import os
import pwd
import queue
import shutil
import socket
import subprocess
import tempfile
import threading
import time
from pathlib import Path

from sqlalchemy import Engine, text

from tests.live import free_port


def find_pg_bin() -> Path | None:
    for name in ("pg_ctl",):
        found = shutil.which(name)
        if found:
            return Path(found).resolve().parent
    candidates = sorted(glob.glob("/usr/lib/postgresql/*/bin/pg_ctl"))
    return Path(candidates[-1]).parent if candidates else None


class PostgresServer:
    def __init__(self) -> None:
        found = find_pg_bin()
        if found is None:
            raise RuntimeError("PostgreSQL server binaries (initdb, pg_ctl) not found")
        self.bin: Path = found
        self.tmp = Path(tempfile.mkdtemp(prefix="matcher-pg-"))
        self.data = self.tmp / "data"
        self.port = free_port()
        self.user: pwd.struct_passwd | None = None
        if os.geteuid() == 0:
            for candidate in ("postgres", "nobody"):
                try:
                    self.user = pwd.getpwnam(candidate)
                    break
                except KeyError:
                    continue
            if self.user is None:
                raise RuntimeError("running as root needs a 'postgres' or 'nobody' user for PostgreSQL")
            os.chown(self.tmp, self.user.pw_uid, self.user.pw_gid)
        os.chmod(self.tmp, 0o755)

    def _run(self, *args: str) -> None:
        cmd = [str(self.bin / args[0]), *args[1:]]
        if self.user is not None:
            cmd = ["runuser", "-u", self.user.pw_name, "--", *cmd]
        subprocess.run(cmd, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, cwd=self.tmp)

    def start(self) -> None:
        self._run("initdb", "-D", str(self.data), "-U", "postgres", "-A", "trust", "-E", "UTF8", "--locale=C")
        self._pg_ctl("start")

    def restart(self) -> None:
        """Stop the server (fast: every backend is terminated, its clients see the connection
        closed) and start it again on the same port and data."""
        self._run("pg_ctl", "-D", str(self.data), "-m", "fast", "-w", "-t", "60", "stop")
        self._pg_ctl("start")

    def _pg_ctl(self, action: str) -> None:
        opts = (
            f"-c listen_addresses=127.0.0.1 -c port={self.port} -c unix_socket_directories={self.tmp} "
            "-c fsync=off -c synchronous_commit=off -c full_page_writes=off -c max_connections=200"
        )
        self._run("pg_ctl", "-D", str(self.data), "-o", opts, "-l", str(self.tmp / "log"), "-w", "-t", "60", action)
        deadline = time.time() + 30
        while time.time() < deadline:
            try:
                with socket.create_connection(("127.0.0.1", self.port), timeout=1):
                    return
            except OSError:
                time.sleep(0.2)
        raise RuntimeError("PostgreSQL did not start")

    def url(self, dbname: str = "postgres") -> str:
        return f"postgresql+psycopg://postgres@127.0.0.1:{self.port}/{dbname}"

    def stop(self) -> None:
        with contextlib.suppress(Exception):  # best effort at teardown
            self._run("pg_ctl", "-D", str(self.data), "-m", "immediate", "-w", "stop")
        shutil.rmtree(self.tmp, ignore_errors=True)


class DatabaseCopies:
    """Copies of template databases, made ahead of need and dropped by one background thread.

    Why: ``CREATE DATABASE ... TEMPLATE`` and ``DROP DATABASE`` took 70-250 ms per test (more on a
    busy machine), time every PostgreSQL test waited for; made ahead, it overlaps the test before.
    ``take`` hands out a copy no one has used; ``give_back`` drops it later.
    """

    AHEAD = 1  # spare copies kept ready per template

    def __init__(self, admin: Engine, prefix: str) -> None:
        self._admin = admin
        self._names = (f"{prefix}_{n}" for n in itertools.count())
        self._ready: dict[str, queue.Queue[str | BaseException]] = {}
        self._work: queue.Queue[tuple[str, str] | None] = queue.Queue()
        self._lock = threading.Lock()
        self._thread = threading.Thread(target=self._serve, name="database-copies", daemon=True)
        self._thread.start()

    def take(self, template: str) -> str:
        """The name of a fresh copy of ``template`` (one more is started in its place)."""
        with self._lock:
            ready = self._ready.get(template)
            if ready is None:
                ready = self._ready[template] = queue.Queue()
                for _ in range(self.AHEAD):
                    self._work.put(("create", template))
            self._work.put(("create", template))
        name = ready.get(timeout=300)
        if isinstance(name, BaseException):
            raise name
        return name

    def give_back(self, name: str) -> None:
        """Drop ``name`` in the background (its connections are closed by FORCE)."""
        self._work.put(("drop", name))

    def close(self) -> None:
        """Drop every copy, used or not, and stop the thread."""
        self._work.put(None)
        self._thread.join(timeout=300)
        for ready in self._ready.values():
            while not ready.empty():
                name = ready.get()
                if isinstance(name, str):
                    self._drop(name)

    def _serve(self) -> None:
        while (item := self._work.get()) is not None:
            action, subject = item
            if action == "drop":
                self._drop(subject)
                continue
            try:
                name = next(self._names)
                with self._admin.connect() as conn:
                    conn.execute(text(f'CREATE DATABASE "{name}" TEMPLATE "{subject}"'))
                self._ready[subject].put(name)
            except Exception as exc:  # noqa: BLE001 - handed to the test waiting for this copy
                self._ready[subject].put(exc)

    def _drop(self, name: str) -> None:
        with self._admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
