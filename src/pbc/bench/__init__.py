"""`make bench`: speed and memory of pbc's jobs, each beside a plain DuckDB SQL and a pandas version of the same job.

Each variant runs in a fresh child process, so its peak memory is its own and one variant's caches cannot help the
next. Peak memory is the larger of the process's high-water mark and the sampled peak of the resident memory of the
process and any workers it starts (every 0.2 s), so a job that uses worker processes is charged for them too.

Every job reports rows per second and peak memory for pbc, and the ratios of pbc's time to the DuckDB SQL and pandas
times, measured in the same run on the same machine. Results go to stdout and to `bench-results/bench-<time>.json`.

The jobs (`JOBS`): `reference_practices` (read and count the ODS practice file), `ingest_london_year` (ingest one
year of London synthetic extracts) and `costing_london_year` (attribute, price and sum that year's APC, OP and A&E
lines). The report's `web` section (`--job web_pages`) gives the median and 95th percentile latency of the
cluster and practice pages with 20 concurrent signed-in users on loopback (`pbc.bench.web_latency`).
`python -m pbc.bench --job NAME` runs only the named job(s); without it every job runs.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import multiprocessing
import os
import platform
import resource
import sys
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from queue import Empty
from typing import Any

from pbc.bench import costing_job, ingest_job, reference_job, web_latency

WEB_PAGES = "web_pages"  # page latency under load: measured apart, there is no DuckDB or pandas version of a page


@dataclass(frozen=True)
class Job:
    """A benchmark job: three implementations of the same work and a check that they agree."""

    name: str
    description: str
    prepare: Callable[[Path], dict[str, Any]]
    variants: dict[str, Callable[[dict[str, Any]], str]]
    repeats: int = 3
    heavy: bool = False  # minutes of work: run by `make bench`, not by the test suite


JOBS: list[Job] = [
    Job(
        name="reference_practices",
        description="read and check the ODS practice file, then count organisations by status and setting",
        prepare=reference_job.prepare,
        variants={
            "pbc": reference_job.run_pbc,
            "duckdb_sql": reference_job.run_duckdb,
            "pandas": reference_job.run_pandas,
        },
    ),
    Job(
        name="ingest_london_year",
        description="ingest one year of London synthetic activity end to end (check, pseudonymise, store)",
        prepare=ingest_job.prepare,
        variants={"pbc": ingest_job.run_pbc, "duckdb_sql": ingest_job.run_duckdb, "pandas": ingest_job.run_pandas},
        repeats=1,
        heavy=True,
    ),
    Job(
        name="costing_london_year",
        description="attribute, price (PbR) and sum one year of London synthetic APC, OP and A&E lines",
        prepare=costing_job.prepare,
        variants={
            "pbc": costing_job.run_pbc,
            "duckdb_sql": costing_job.run_duckdb,
            "pandas": costing_job.run_pandas,
        },
        repeats=2,
        heavy=True,
    ),
]


def _rss_kib(pid: int) -> int:
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    except OSError:
        pass
    return 0


def _descendants(pid: int) -> list[int]:
    """Every process below pid (worker processes of a job), from /proc."""
    parents: dict[int, list[int]] = {}
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
            parents.setdefault(int(fields[1]), []).append(int(stat.parent.name))
        except (OSError, IndexError, ValueError):
            continue
    found, stack = [], [pid]
    while stack:
        for child in parents.get(stack.pop(), []):
            found.append(child)
            stack.append(child)
    return found


class _TreeMemory(threading.Thread):
    """Samples the resident memory of this process and its descendants, keeping the peak of the sum."""

    def __init__(self) -> None:
        super().__init__(daemon=True)
        self.peak_kib = 0
        self.stopping = threading.Event()

    def run(self) -> None:
        me = os.getpid()
        while not self.stopping.wait(0.2):
            total = _rss_kib(me) + sum(_rss_kib(p) for p in _descendants(me))
            self.peak_kib = max(self.peak_kib, total)


def _child(variant: Callable[[dict[str, Any]], str], inputs: dict[str, Any], queue: Any) -> None:
    sampler = _TreeMemory()
    sampler.start()
    started = time.perf_counter()
    try:
        answer = variant(inputs)
    except BaseException as error:  # the parent must hear of it, or it would wait for ever
        queue.put({"error": f"{type(error).__name__}: {error}"})
        raise
    elapsed = time.perf_counter() - started
    sampler.stopping.set()
    sampler.join()
    peak = max(_peak_kib(), sampler.peak_kib)  # the process's own high-water mark, or its tree's sampled peak
    queue.put({"seconds": elapsed, "peak_mib": round(peak / 1024, 1), "answer": answer})


def _peak_kib() -> int:
    """This process's own peak resident memory.

    `getrusage` is not used: Linux carries a parent's maximum RSS into a forked and exec'd child, so a bench that
    generated data in the parent would charge it to every variant. VmHWM belongs to the process's own address space.
    """
    try:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1])
    except OSError:
        pass
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss


def _measure(variant: Callable[[dict[str, Any]], str], inputs: dict[str, Any]) -> dict[str, Any]:
    context = multiprocessing.get_context("spawn")
    queue = context.Queue()
    process = context.Process(target=_child, args=(variant, inputs, queue))
    process.start()
    while True:
        try:
            result = queue.get(timeout=5)
            break
        except Empty:
            if not process.is_alive():
                raise RuntimeError(f"bench variant {variant.__name__} died (exit code {process.exitcode})") from None
    process.join()
    if "error" in result:
        raise RuntimeError(f"bench variant {variant.__name__} failed: {result['error']}")
    return result


def run_job(job: Job, workdir: Path) -> dict[str, Any]:
    """Run each variant `repeats` times and keep its best time (the least disturbed by the machine)."""
    inputs = job.prepare(workdir)
    rows = int(inputs["rows"])
    measured: dict[str, dict[str, Any]] = {}
    for name, variant in job.variants.items():
        runs = [_measure(variant, inputs) for _ in range(job.repeats)]
        best = min(runs, key=lambda r: r["seconds"])
        measured[name] = {
            "seconds": round(best["seconds"], 4),
            "rows_per_second": round(rows / best["seconds"]),
            "peak_mib": max(r["peak_mib"] for r in runs),
            "answer": best["answer"],
        }
    answers = {m["answer"] for m in measured.values()}
    if len(answers) != 1:
        raise RuntimeError(
            f"bench {job.name}: the variants disagree: { {k: v['answer'] for k, v in measured.items()} }"
        )
    pbc_time = measured["pbc"]["seconds"]
    return {
        "job": job.name,
        "description": job.description,
        "rows": rows,
        "variants": measured,
        "ratio_to_duckdb_sql": round(pbc_time / measured["duckdb_sql"]["seconds"], 2),
        "ratio_to_pandas": round(pbc_time / measured["pandas"]["seconds"], 2),
    }


def main(argv: list[str] | None = None) -> int:
    """Run every job (or those named with --job) and write the JSON report."""
    names = [job.name for job in JOBS] + [WEB_PAGES]
    parser = argparse.ArgumentParser(prog="python -m pbc.bench", description="Measure pbc's jobs.")
    parser.add_argument(
        "--job", action="append", choices=names, metavar="NAME", help=f"run only this job (one of: {', '.join(names)})"
    )
    chosen = parser.parse_args(argv).job
    jobs = [job for job in JOBS if not chosen or job.name in chosen]
    out_dir = Path(os.environ.get("PBC_BENCH_DIR", "bench-results"))
    workdir = out_dir / "work"
    workdir.mkdir(parents=True, exist_ok=True)
    report = {
        "pbc_bench": 1,
        "started": dt.datetime.now(dt.UTC).isoformat(),
        "machine": {"python": sys.version.split()[0], "platform": platform.platform(), "cores": os.cpu_count()},
        "note": "ratio_to_* is pbc's time divided by the other's: below 1 means pbc is faster",
        "jobs": [run_job(job, workdir) for job in jobs],
    }
    if not chosen or WEB_PAGES in chosen:
        report["web"] = web_latency.measure(workdir)
    text = json.dumps(report, indent=2)
    path = out_dir / f"bench-{dt.datetime.now(dt.UTC):%Y%m%dT%H%M%SZ}.json"
    path.write_text(text + "\n")
    print(text)
    print(f"written to {path}", file=sys.stderr)
    return 0
