"""The benchmark says at once when the disk is too small for its size, instead of failing an hour
in when DuckDB's spill or the published copy fills it. What it already holds there counts."""

from __future__ import annotations

import os
from collections import namedtuple

from leadscore.demo.config import SIZES
from leadscore.tools.bench import __main__ as bench_main
from leadscore.tools.bench import landing
from leadscore.tools.bench.landing import DISK_NEEDED_GB, BenchData, disk_shortfall, footprint_bytes

MB = 10**6
Usage = namedtuple("Usage", "total used free")


def a_reused_source_and_its_run(root):
    """One 1 MB landing file in the source, hard-linked into the run's landing as the bench does."""
    source = root / "source" / "landing" / "weblogs" / "access-2026-06-29.log"
    source.parent.mkdir(parents=True)
    source.write_bytes(os.urandom(MB))
    linked = root / "run" / "landing" / "weblogs" / "access-2026-06-29.log"
    linked.parent.mkdir(parents=True)
    os.link(source, linked)


def test_a_file_linked_into_the_run_counts_once(tmp_path):
    a_reused_source_and_its_run(tmp_path)
    assert MB <= footprint_bytes(tmp_path) < MB + 100_000


def test_a_medium_benchmark_needs_20_gb_counting_what_it_already_holds(tmp_path):
    data = BenchData("medium", 42, tmp_path)
    a_reused_source_and_its_run(tmp_path)

    assert disk_shortfall(data, free_bytes=20 * 10**9) is None
    # Short of 20 GB by half of what its own files hold: still enough.
    assert disk_shortfall(data, free_bytes=20 * 10**9 - MB // 2) is None

    shortfall = disk_shortfall(data, free_bytes=19 * 10**9)
    assert shortfall is not None
    assert "about 20 GB" in shortfall and str(tmp_path) in shortfall and "19.0 GB" in shortfall


def test_the_benchmark_stops_before_generating_anything_when_the_disk_is_too_small(tmp_path, monkeypatch, capsys):
    monkeypatch.setattr(landing.shutil, "disk_usage", lambda path: Usage(100 * 10**9, 95 * 10**9, 5 * 10**9))
    generated = []
    monkeypatch.setattr(bench_main, "ensure_source", lambda data: generated.append(data))

    assert bench_main.main(["--size", "large", "--root", str(tmp_path)]) == 2

    assert generated == []
    message = capsys.readouterr().err
    assert "Not enough disk" in message and "about 70 GB" in message and "5.0 GB" in message


def test_every_size_the_benchmark_accepts_has_a_disk_need():
    # A size added to the demo without one would fail the benchmark's first line with a KeyError.
    assert set(DISK_NEEDED_GB) == set(SIZES)
