"""What the service benchmarks share: a throwaway database, a real `matcher serve`, process figures.

Everything binds to 127.0.0.1. PostgreSQL is the same throwaway cluster the tests start
(``tests.pgserver``), so the figures are taken against the database the suite checks.
"""

from __future__ import annotations

import contextlib
import os
import platform
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import date, timedelta
from pathlib import Path

_TICKS = os.sysconf("SC_CLK_TCK")
_PAGE = os.sysconf("SC_PAGE_SIZE")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def machine_facts() -> dict:
    """CPU, Python and the load average: the machine is shared, so every figure carries its load."""
    model = "unknown"
    with contextlib.suppress(OSError), open("/proc/cpuinfo", encoding="utf-8") as f:
        for line in f:
            if line.startswith("model name"):
                model = line.split(":", 1)[1].strip()
                break
    return {
        "cpu_count": os.cpu_count(),
        "cpu_model": model,
        "python": platform.python_version(),
        "platform": platform.platform(),
        "loadavg": [round(x, 2) for x in os.getloadavg()],
    }


@contextlib.contextmanager
def database(kind: str) -> Iterator[str]:
    """A fresh, empty database URL of ``kind`` ('sqlite' or 'postgresql'), removed afterwards."""
    if kind == "sqlite":
        tmp = Path(tempfile.mkdtemp(prefix="matcher-bench-"))
        try:
            yield f"sqlite:///{tmp / 'bench.db'}"
        finally:
            shutil.rmtree(tmp, ignore_errors=True)
        return
    from tests.pgserver import PostgresServer

    server = PostgresServer()
    server.start()
    _PG_DATA[server.url()] = server.data
    try:
        yield server.url()
    finally:
        _PG_DATA.pop(server.url(), None)
        server.stop()


#: The data directory of the throwaway PostgreSQL server behind each URL ``database`` handed out.
_PG_DATA: dict[str, Path] = {}


def postgres_cpu_seconds(url: str, *, clients_only: bool = False) -> float | None:
    """CPU seconds the PostgreSQL server behind ``url`` (one ``database`` started) has used so
    far, or None for another database. Take it before and after a phase: the difference is the
    server's share of the work, which the client process's own CPU figures do not show.
    ``clients_only``: only the backends serving client connections now (no background workers,
    no ended backends)."""
    data = _PG_DATA.get(url)
    return None if data is None else postmaster_cpu_seconds(data, clients_only=clients_only)


def postmaster_cpu_seconds(data_dir: Path, *, clients_only: bool = False) -> float:
    """utime + stime of the postmaster and its children now (backends, background workers) plus
    those of children that ended (the postmaster reaped them: its cutime + cstime); with
    ``clients_only`` just the live client backends (process title ``postgres: user db host(port) ...``)."""
    pid = int((data_dir / "postmaster.pid").read_text().split()[0])
    if clients_only:
        return cpu_seconds([child for child in process_tree(pid) if _is_client_backend(child)])
    reaped = 0
    with contextlib.suppress(OSError, IndexError, ValueError), open(f"/proc/{pid}/stat", encoding="ascii") as f:
        fields = f.read().rsplit(")", 1)[1].split()
        reaped = int(fields[13]) + int(fields[14])  # cutime, cstime
    return cpu_seconds(process_tree(pid)) + reaped / _TICKS


def _is_client_backend(pid: int) -> bool:
    try:
        with open(f"/proc/{pid}/cmdline", "rb") as f:
            title = f.read().decode(errors="replace")
    except OSError:
        return False
    return title.startswith("postgres: ") and "(" in title


def next_monday() -> date:
    today = date.today()
    return today + timedelta(days=7 - today.weekday())


def load_demo_with_plan(url: str) -> dict:
    """`matcher demo` on ``url``: the demo district and its optimised week, published as the demo
    publishes it, so the current plan (what ``/v1/assignments`` lists by default) has rows."""
    from app.cli.optimize import optimize_demo_week
    from app.demo.load import load_demo
    from app.services.notifications.demo import publish_with_example_links

    summary = load_demo(url, 7, next_monday(), reset_postgresql=True)
    run = optimize_demo_week(url, summary.district, summary.week, echo=False)["run"]
    published = publish_with_example_links(url, summary.district, int(run["id"]))["published"]
    sent = drain_outbox(url)
    analyze(url)
    return {"district": summary.district, "week": summary.week, "published": published, "sent": sent}


def analyze(url: str, table: str | None = None) -> None:
    """PostgreSQL: gather planner statistics (of ``table``, or all), as autovacuum does for a
    database in service. Right after a bulk load the tables have none (or describe the table
    before it), and the planner misjudges: guessing one row per table it sorted every current-plan
    assignment for each page of 100 (4.5 ms execution, 0.9 ms with statistics); with a change log
    analyzed before a 100,000-row fill it sorted every later event per feed page (~40 ms vs ~1 ms)."""
    if not url.startswith("postgresql"):
        return
    from sqlalchemy import create_engine, text

    engine = create_engine(url, isolation_level="AUTOCOMMIT")
    try:
        with engine.connect() as conn:
            conn.execute(text(f"ANALYZE {table}" if table else "ANALYZE"))
    finally:
        engine.dispose()


def drain_outbox(url: str) -> int:
    """Send the members' notifications publishing queued (log channel) before the server starts,
    so the figures measure the API in its steady state, not the first minutes after a publish
    while the server's notifier works through hundreds of messages beside the requests."""
    from app.services.notifications.dispatcher import Dispatcher

    dispatcher, sent = Dispatcher(url), 0
    while (result := dispatcher.run_once(scan=False)).sent or result.failed_attempts:
        sent += result.sent
    return sent


def create_key(url: str, role: str, area: str | None = None) -> str:
    from sqlalchemy import select

    from app.db import session_scope
    from app.models import District
    from app.services.api_keys import create_api_key
    from app.settings import get_settings

    with session_scope(url) as session:
        district_id = session.scalar(select(District.id).where(District.code == get_settings().district_code))
        assert district_id is not None, "demo district missing"
        return create_api_key(session, district_id=district_id, role=role, name=f"bench-{role}", area_code=area)


def process_tree(pid: int) -> list[int]:
    """``pid`` and its descendants (uvicorn --workers N forks its workers under the parent)."""
    children: dict[int, list[int]] = {}
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/stat", encoding="ascii") as f:
                ppid = int(f.read().rsplit(")", 1)[1].split()[1])
        except (OSError, IndexError, ValueError):
            continue
        children.setdefault(ppid, []).append(int(entry))
    found, todo = [], [pid]
    while todo:
        p = todo.pop()
        found.append(p)
        todo.extend(children.get(p, []))
    return found


def cpu_seconds(pids: list[int]) -> float:
    total = 0
    for pid in pids:
        try:
            with open(f"/proc/{pid}/stat", encoding="ascii") as f:
                fields = f.read().rsplit(")", 1)[1].split()
            total += int(fields[11]) + int(fields[12])  # utime, stime
        except (OSError, IndexError, ValueError):
            continue
    return total / _TICKS


def rss_mb(pids: list[int]) -> float:
    total = 0
    for pid in pids:
        try:
            with open(f"/proc/{pid}/statm", encoding="ascii") as f:
                total += int(f.read().split()[1]) * _PAGE
        except (OSError, IndexError, ValueError):
            continue
    return round(total / 2**20, 1)


@dataclass
class Server:
    """A running `matcher serve` process and where to reach it."""

    proc: subprocess.Popen
    base_url: str
    log_path: Path
    started_cpu: float = 0.0
    extra: dict = field(default_factory=dict)

    def pids(self) -> list[int]:
        return process_tree(self.proc.pid)

    def figures(self) -> dict:
        pids = self.pids()
        return {"processes": len(pids), "cpu_s": round(cpu_seconds(pids), 2), "rss_mb": rss_mb(pids)}


def _matcher_command() -> list[str]:
    script = Path(sys.executable).parent / "matcher"
    if script.exists():
        return [str(script)]
    return [sys.executable, "-c", "from app.cli import main; main()"]


@contextlib.contextmanager
def serve(url: str, *, workers: int = 1, env: dict[str, str] | None = None) -> Iterator[Server]:
    """Start `matcher serve` on a free loopback port and wait until /healthz answers."""
    import httpx

    port = free_port()
    log = Path(tempfile.mkstemp(prefix="matcher-bench-serve-", suffix=".log")[1])
    full_env = {**os.environ, "MATCHER_DATABASE_URL": url, **(env or {})}
    cmd = [*_matcher_command(), "serve", "--host", "127.0.0.1", "--port", str(port), "--workers", str(workers)]
    with open(log, "wb") as out:
        proc = subprocess.Popen(cmd, env=full_env, stdout=out, stderr=subprocess.STDOUT, start_new_session=True)
    server = Server(proc=proc, base_url=f"http://127.0.0.1:{port}", log_path=log)
    try:
        deadline = time.monotonic() + 60
        while True:
            if proc.poll() is not None:
                raise RuntimeError(f"matcher serve exited: {log.read_text(errors='replace')[-2000:]}")
            with contextlib.suppress(httpx.HTTPError):
                if httpx.get(server.base_url + "/healthz", timeout=1).status_code < 500:
                    break
            if time.monotonic() > deadline:
                raise RuntimeError("matcher serve did not answer within 60 s")
            time.sleep(0.2)
        yield server
    finally:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(proc.pid, signal.SIGTERM)
        try:
            proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait(timeout=10)
        server.extra["server_errors"] = _error_lines(log)
        log.unlink(missing_ok=True)


def _error_lines(log: Path, keep: int = 3) -> dict:
    """How many ERROR records the server logged, and the first few (a 500 has a reason); uvicorn's
    own plain-text errors (an exception outside the app's handlers) count too, and so does a
    worker the supervisor found dead or hung and replaced (its open connections were cut)."""
    lines = [
        line
        for line in log.read_text(errors="replace").splitlines()
        if '"level": "ERROR"' in line
        or line.startswith(("Traceback", "ERROR:", "Exception in ASGI"))
        or ("Child process [" in line and line.rstrip().endswith("died"))
    ]
    return {"count": len(lines), "first": [line[:600] for line in lines[:keep]]}
