"""Where the machine's CPU went during a run: the server, PostgreSQL, the load tools, the rest.

On a 2-core machine the server shares the cores with PostgreSQL, the Locust
driver and the stream holder, so requests/s alone does not say what the
server costs. Each group's CPU seconds are read before and after the mix
(``/proc`` through psutil); dividing by the requests answered gives the CPU
milliseconds one request of the mix costs each of them.
"""

from __future__ import annotations

import resource
from collections.abc import Callable, Iterable
from dataclasses import dataclass

import psutil  # type: ignore[import-untyped]


def _cpu_s(proc: psutil.Process) -> float:
    try:
        t = proc.cpu_times()
    except psutil.Error:
        return 0.0
    return float(t.user + t.system)


def postgres_processes() -> list[psutil.Process]:
    """PostgreSQL's server processes on this machine (the postmaster and every backend)."""
    found = []
    for proc in psutil.process_iter(["name"]):
        if proc.info["name"] in ("postgres", "postmaster"):
            found.append(proc)
    return found


def reaped_children_cpu_s() -> float:
    """CPU seconds of this process's children that have exited and been waited for."""
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


@dataclass
class CpuSnapshot:
    machine_busy_s: float
    reaped_s: float
    per_group: dict[str, dict[int, float]]  # group -> pid -> CPU seconds so far


class CpuAccount:
    """CPU seconds by group between ``start()`` and ``stop()``.

    Groups are named callables returning processes, read at both ends. A
    process that exits in between (a PostgreSQL backend of a closed
    connection) loses its CPU from its group; it is then counted in "other",
    which is the machine's busy time less every group. ``reaped`` names a
    group for this process's children that ran and were waited for in
    between (the Locust driver, run to its end by ``subprocess.run``).
    """

    def __init__(
        self,
        groups: dict[str, Callable[[], Iterable[psutil.Process]]],
        *,
        reaped: str | None = None,
    ) -> None:
        self.groups = groups
        self.reaped = reaped
        self._start: CpuSnapshot | None = None

    def _snapshot(self) -> CpuSnapshot:
        t = psutil.cpu_times()
        busy = t.user + t.nice + t.system + getattr(t, "irq", 0.0) + getattr(t, "softirq", 0.0)
        per_group = {
            name: {proc.pid: _cpu_s(proc) for proc in get()} for name, get in self.groups.items()
        }
        return CpuSnapshot(
            machine_busy_s=float(busy), reaped_s=reaped_children_cpu_s(), per_group=per_group
        )

    def start(self) -> None:
        self._start = self._snapshot()

    def stop(self) -> dict[str, float]:
        """CPU seconds per group, plus "other" and "machine" (all busy CPU)."""
        if self._start is None:
            raise RuntimeError("stop() before start()")
        end = self._snapshot()
        used: dict[str, float] = {}
        for name, pids in end.per_group.items():
            before = self._start.per_group.get(name, {})
            # A process born during the run counts from zero.
            used[name] = sum(max(0.0, s - before.get(pid, 0.0)) for pid, s in pids.items())
        if self.reaped is not None:
            used[self.reaped] = end.reaped_s - self._start.reaped_s
        machine = end.machine_busy_s - self._start.machine_busy_s
        used["other"] = max(0.0, machine - sum(used.values()))
        used["machine"] = machine
        return used


def render_cpu(used: dict[str, float], *, requests: int, seconds: float) -> list[str]:
    """Lines: each group's share of the busy CPU, cores used, and CPU ms per request answered.

    ``seconds`` is the driver's whole wall time (start-up and ramp included, as the CPU
    is), so the figures per request are a little high for short runs.
    """
    machine = used.get("machine", 0.0)
    lines = [
        f"CPU while the driver ran ({seconds:,.0f} s, {psutil.cpu_count()} cores): "
        f"{machine / seconds if seconds else 0:.2f} cores busy on average"
    ]
    for name, s in used.items():
        if name == "machine":
            continue
        share = 100 * s / machine if machine else 0.0
        per_request = 1000 * s / requests if requests else 0.0
        lines.append(
            f"  {name:10} {s:8,.1f} CPU s  {share:5.1f} %  {per_request:6.2f} CPU ms per request"
        )
    return lines
