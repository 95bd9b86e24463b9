"""Where a load run's CPU went: each tier of the stack (a process and all it descends to),
Locust (the caller's children) and the whole machine, read from /proc. Used by bench/load.py.
"""

from __future__ import annotations

import os
import threading
import time
from datetime import UTC, datetime
from pathlib import Path
from urllib.parse import urlsplit

TICK = os.sysconf("SC_CLK_TCK")
# The stack's services, found by command name and the port in their URL, for CpuMeter.
SERVICES = {
    "postgres": ("PostgreSQL", "PORTAL_DATABASE_URL"),
    "redis-server": ("Redis", "PORTAL_REDIS_URL"),
    "moto_server": ("moto S3", "PORTAL_S3_ENDPOINT_URL"),
}


def processes() -> dict[int, tuple[int, str, float]]:
    """pid -> (parent, command name, CPU seconds of it and its reaped children), for all."""
    found = {}
    for entry in Path("/proc").iterdir():
        try:
            stat = (entry / "stat").read_text() if entry.name.isdigit() else ""
        except OSError:  # ended between the listing and the read
            continue
        if stat:  # "pid (name) state ppid ... utime stime cutime cstime" (fields 14-17)
            name, fields = stat[stat.find("(") + 1 : stat.rfind(")")], stat[stat.rfind(")") + 2 :]
            parent, ticks = int(fields.split()[1]), sum(int(f) for f in fields.split()[11:15])
            found[int(entry.name)] = (parent, name, ticks / TICK)
    return found


def tree_times(roots: dict[int, str]) -> dict[int, tuple[str, int, float]]:
    """pid -> (tier, parent, CPU seconds) for each root in `roots` and all it descends to."""
    table = processes()
    tier_of: dict[int, str | None] = dict(roots)

    def tier(pid: int) -> str | None:
        chain = []
        while pid not in tier_of and pid in table:
            chain.append(pid)
            pid = table[pid][0]
        found = tier_of.get(pid)
        tier_of.update(dict.fromkeys(chain, found))
        return found

    return {
        pid: (found, parent, cpu)
        for pid, (parent, _name, cpu) in table.items()
        if (found := tier(pid)) is not None
    }


def machine_times() -> tuple[float, float]:
    """Busy and idle CPU seconds of the whole machine since boot, over all its cores."""
    user, nice, system, idle, iowait, irq, softirq, steal = (
        int(f) for f in Path("/proc/stat").read_text().split()[1:9]
    )
    return (user + nice + system + irq + softirq + steal) / TICK, (idle + iowait) / TICK


class CpuMeter:
    """CPU seconds used during one run by each tier of the stack (a process and all it
    descends to), by Locust (this process's children) and by the whole machine, from /proc.

    The trees are read every second, so a process killed mid-run keeps what it had used
    at the last read (up to a second is lost); one that ends and is reaped by a parent in
    its tier moves into that parent's children's time, and is not counted twice.
    """

    def __init__(self, roots: dict[int, str]) -> None:
        self.roots = roots
        self.used = dict.fromkeys([*roots.values(), "locust"], 0.0)
        self.killed = dict.fromkeys(roots.values(), 0)
        self._stop = threading.Event()
        self._reader = threading.Thread(target=self._read_every_second, daemon=True)

    def __enter__(self) -> CpuMeter:
        self.started, self._wall = datetime.now(UTC), time.perf_counter()
        self._machine, self._own = machine_times(), os.times()
        self._last = tree_times(self.roots)
        self._reader.start()
        return self

    def __exit__(self, *_exc: object) -> None:
        self._stop.set()
        self._reader.join()
        self._read()
        own, (busy, idle) = os.times(), machine_times()
        self.ended, self.seconds = datetime.now(UTC), time.perf_counter() - self._wall
        self.used["locust"] = sum(own[:4]) - sum(self._own[:4])  # its tree, and this reader
        self.busy, self.idle = busy - self._machine[0], idle - self._machine[1]

    def _read_every_second(self) -> None:
        while not self._stop.wait(1):
            self._read()

    def _read(self) -> None:
        now = tree_times(self.roots)
        for pid, (tier, _parent, cpu) in now.items():
            self.used[tier] += cpu - self._last.get(pid, (tier, 0, 0.0))[2]
        for pid in self._last.keys() - now.keys():
            tier, parent, cpu = self._last[pid]
            if parent in now:  # reaped there: its whole time is now in the parent's
                self.used[tier] -= cpu
            else:
                self.killed[tier] += 1
        self._last = now


def stack_roots() -> dict[int, str]:
    """The stack's processes whose trees make its tiers: every web process (serve and its
    gunicorn workers), every bundle worker, and the servers of PostgreSQL, Redis and moto."""
    roots = {int(pid): "web" for pid in os.environ.get("STACK_WEB_PIDS", "").split()}
    roots |= {int(pid): "workers" for pid in os.environ.get("STACK_WORKER_PIDS", "").split()}
    ports = {name: str(urlsplit(os.environ.get(variable, "")).port)
             for name, (_, variable) in SERVICES.items()}  # fmt: skip
    for pid, (_parent, name, _cpu) in processes().items():
        if name not in ports:
            continue
        try:
            words = Path(f"/proc/{pid}/cmdline").read_text().replace("\0", " ").split()
        except OSError:
            continue
        if any(word == ports[name] or word.endswith(":" + ports[name]) for word in words):
            roots[pid] = SERVICES[name][0]
    return roots
