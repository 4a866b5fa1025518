"""Wall time and peak memory of a child process and everything it starts (dbt runs as a
subprocess of the pipeline, so the whole tree is sampled, not one process)."""

from __future__ import annotations

import os
import resource
import subprocess
import threading
import time
from dataclasses import dataclass

import psutil

SAMPLE_SECONDS = 0.1


@dataclass(frozen=True)
class Measured:
    started: float  # epoch seconds, comparable with Dagster's event timestamps
    wall_s: float
    peak_rss_mb: float
    cpu_s: float  # user + system time of the whole tree: less sensitive than wall time to a busy machine
    returncode: int
    load_before: tuple[float, float, float]
    load_after: tuple[float, float, float]
    # (epoch seconds, RSS of the tree in MB) every SAMPLE_SECONDS: what each stage peaked at
    samples: tuple[tuple[float, float], ...] = ()

    def peak_rss_between(self, start: float, end: float) -> float | None:
        """The highest RSS (MB) from `start` to `end` (epoch seconds): the samples taken then and
        the last one before (a step shorter than the sampling period still gets a figure)."""
        before = [rss for at, rss in self.samples if at < start][-1:]
        inside = [rss for at, rss in self.samples if start <= at <= end]
        return max(before + inside) if before or inside else None


def tree_rss(process: psutil.Process) -> int:
    """Resident bytes of a process and all its descendants right now."""
    total = 0
    try:
        family = [process, *process.children(recursive=True)]
    except psutil.NoSuchProcess:
        return 0
    for member in family:
        try:
            total += member.memory_info().rss
        except psutil.NoSuchProcess:
            pass  # ended between listing and reading
    return total


def run_measured(command: list[str], env: dict[str, str] | None = None, log_path=None) -> Measured:
    """Run `command` to completion while sampling the RSS of its process tree."""
    load_before = os.getloadavg()
    # Children's usage covers every descendant waited for (dbt under the pipeline included).
    usage_before = resource.getrusage(resource.RUSAGE_CHILDREN)
    log = open(log_path, "w") if log_path else None  # noqa: SIM115 - closed below
    started, clock = time.time(), time.perf_counter()
    child = subprocess.Popen(command, env=env, stdout=log, stderr=subprocess.STDOUT if log else None)
    process = psutil.Process(child.pid)  # exists until waited for, even once it has ended
    samples: list[tuple[float, float]] = []
    done = threading.Event()

    def sample() -> None:
        while not done.is_set():
            samples.append((time.time(), round(tree_rss(process) / 2**20, 1)))
            done.wait(SAMPLE_SECONDS)

    sampler = threading.Thread(target=sample, daemon=True)
    sampler.start()
    returncode = child.wait()
    wall = time.perf_counter() - clock
    done.set()
    sampler.join()
    if log:
        log.close()
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = usage.ru_utime + usage.ru_stime - usage_before.ru_utime - usage_before.ru_stime
    peak = max((rss for _, rss in samples), default=0.0)
    return Measured(
        started, round(wall, 3), peak, round(cpu, 3), returncode, load_before, os.getloadavg(), tuple(samples)
    )
