"""Shared benchmark plumbing: timing loops, percentiles, ratios, markdown output, the
machine header, and the MET / NOT MET report every section adds its targets to.

Per-call figures come from ``time.perf_counter_ns`` around each call, so they include
the timer's own cost (``time_timer`` measures it); batch figures time a whole loop and
divide, which removes the timer but includes the ``for`` loop (``time_empty_loop``).
"""

from __future__ import annotations

import gc
import math
import os
import sys
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any, Literal

import oms
from oms import _core

SEED = 20240611


@contextmanager
def gc_paused() -> Iterator[None]:
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()


@dataclass(frozen=True)
class Dist:
    p50: int
    p99: int
    p999: int
    n: int

    @staticmethod
    def of(samples: Sequence[int]) -> Dist:
        ordered = sorted(samples)
        return Dist(
            percentile(ordered, 0.50), percentile(ordered, 0.99), percentile(ordered, 0.999), len(ordered)
        )


def percentile(ordered: Sequence[int], q: float) -> int:
    """Nearest-rank percentile of already sorted samples."""
    return ordered[max(0, math.ceil(q * len(ordered)) - 1)]


def ratio(numerator: float, denominator: float) -> float:
    return numerator / denominator if denominator > 0 else math.inf


def fmt_ns(value: float) -> str:
    return f"{value:,.0f}" if value >= 100 else f"{value:.1f}"


def fmt_x(value: float) -> str:
    return f"{value:.1f}x" if value < 100 else f"{value:,.0f}x"


def decimal_str(units: int, places: int) -> str:
    """``units`` x 10^-places as a plain decimal string (no exponent)."""
    return format(Decimal(units).scaleb(-places), "f")


def table(headers: Sequence[str], rows: Sequence[Sequence[str]]) -> str:
    align = [":---"] + ["---:"] * (len(headers) - 1)
    lines = ["| " + " | ".join(headers) + " |", "| " + " | ".join(align) + " |"]
    lines += ["| " + " | ".join(row) + " |" for row in rows]
    return "\n".join(lines)


def emit(text: str = "") -> None:
    print(text, flush=True)


@dataclass
class Target:
    label: str
    value: float
    op: Literal["<=", ">="]
    threshold: float

    @property
    def met(self) -> bool:
        return self.value <= self.threshold if self.op == "<=" else self.value >= self.threshold


@dataclass
class Report:
    targets: list[Target] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)

    def summary(self) -> None:
        """The closing section: every target with its verdict, then the notes."""
        emit("## Summary")
        emit()
        for target in self.targets:
            verdict = "MET" if target.met else "NOT MET"
            emit(
                f"- {target.label}: {fmt_x(target.value)} "
                f"(target {target.op} {target.threshold:g}x) - {verdict}"
            )
        for note in self.notes:
            emit(f"- {note}")
        emit()


def time_each(fn: Callable[[Any], object], args: Sequence[Any], out: list[int]) -> None:
    """Append the duration of ``fn(arg)`` for each arg (timer cost included)."""
    clock = time.perf_counter_ns
    append = out.append
    for arg in args:
        start = clock()
        fn(arg)
        end = clock()
        append(end - start)


def time_timer(n: int, out: list[int]) -> None:
    """Two back-to-back perf_counter_ns calls: the floor of every per-call sample."""
    clock = time.perf_counter_ns
    append = out.append
    for _ in range(n):
        start = clock()
        end = clock()
        append(end - start)


def time_loop(fn: Callable[[Any], object], args: Sequence[Any]) -> float:
    """ns per call of ``for arg in args: fn(arg)``, timed as a whole."""
    clock = time.perf_counter_ns
    start = clock()
    for arg in args:
        fn(arg)
    return (clock() - start) / len(args)


def time_empty_loop(args: Sequence[Any]) -> float:
    clock = time.perf_counter_ns
    start = clock()
    for _arg in args:
        pass
    return (clock() - start) / len(args)


def cpu_model() -> str:
    try:
        with open("/proc/cpuinfo", encoding="utf-8") as cpuinfo:
            for line in cpuinfo:
                if line.startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return "unknown"


def header(quick: bool) -> None:
    """Title and the machine the figures come from."""
    load = ", ".join(f"{x:.2f}" for x in os.getloadavg())
    emit(f"# oms Python benchmarks{' (--quick)' if quick else ''}")
    emit()
    emit(f"- date: {datetime.now(UTC).strftime('%Y-%m-%d %H:%M:%S UTC')}")
    emit(f"- python: {sys.version.split()[0]} ({sys.implementation.name}, {sys.executable})")
    emit(f"- nproc: {len(os.sched_getaffinity(0))} (os.cpu_count() = {os.cpu_count()})")
    emit(f"- CPU: {cpu_model()}")
    emit(f"- oms: {oms.__version__} ({Path(_core.__file__ or '?').name})")
    emit(f"- load average at start: {load}")
    emit()
