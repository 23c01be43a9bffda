"""Percentiles, throughput ratios and verdicts of the bench; plain Python, no Django."""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, field


def percentile(values: Sequence[float], q: float) -> float:
    """The ``q``-th percentile (0–100) with linear interpolation between the closest ranks
    (numpy's default); NaN for no values."""
    if not values:
        return math.nan
    ordered = sorted(values)
    rank = (len(ordered) - 1) * q / 100
    low, high = math.floor(rank), math.ceil(rank)
    return ordered[low] + (ordered[high] - ordered[low]) * (rank - low)


@dataclass
class Load:
    """What one page did under load: completed requests in ``seconds``, each one's latency."""

    name: str
    role: str
    seconds: float
    users: int = 0  # concurrent clients, closed loop
    latencies: list[float] = field(default_factory=list)  # seconds, successful requests
    errors: int = 0
    error_samples: list[str] = field(default_factory=list)

    @property
    def requests(self) -> int:
        return len(self.latencies) + self.errors

    @property
    def rate(self) -> float:
        """Successful requests per second."""
        return len(self.latencies) / self.seconds if self.seconds else 0.0

    @property
    def p50_ms(self) -> float:
        return percentile(self.latencies, 50) * 1000

    @property
    def p95_ms(self) -> float:
        return percentile(self.latencies, 95) * 1000


@dataclass(frozen=True)
class Target:
    """At least ``min_ratio`` of the authenticated baseline's throughput, p95 under ``max_p95_ms``."""

    min_ratio: float | None = None
    max_p95_ms: float | None = None

    def describe(self) -> str:
        parts = []
        if self.min_ratio is not None:
            parts.append(f"≥ {_fraction(self.min_ratio)} auth")
        if self.max_p95_ms is not None:
            parts.append(f"p95 < {self.max_p95_ms:.0f} ms")
        return ", ".join(parts) or "-"

    def verdict(self, load: Load, baseline_rate: float) -> str:
        """Either "met", or what was missed and by how much."""
        if load.errors and not load.latencies:
            return f"missed: every request failed ({load.errors})"
        misses = []
        ratio = load.rate / baseline_rate if baseline_rate else math.nan
        if self.min_ratio is not None and not ratio >= self.min_ratio:
            misses.append(f"throughput {ratio:.2f} of auth, {self.min_ratio / ratio:.1f}× short")
        if self.max_p95_ms is not None and not load.p95_ms < self.max_p95_ms:
            misses.append(f"p95 {load.p95_ms - self.max_p95_ms:.0f} ms over")
        if load.errors:
            misses.append(f"{load.errors} errors")
        return "missed: " + "; ".join(misses) if misses else "met"

    def why(self, load: Load, baseline_rate: float, alone_ms: float, cores: int) -> str:
        """Why a missed target was missed, from what one request of the page costs alone ("" when met).

        A page that takes ``alone_ms`` of one core can be served at most ``cores × 1000 /
        alone_ms`` times a second, whatever the server does (about: the time alone is measured
        through Django's test client, which adds a little of its own). Below the rate the target asks
        (``min_ratio`` of the session-user baseline's), the page is slow by its own work; above
        it, the miss is the load (gunicorn, PostgreSQL and the load client on the same cores).
        A closed loop of ``users`` clients waits about ``users / rate`` per request, so a p95
        over its limit at a low rate follows from the throughput.
        """
        if self.verdict(load, baseline_rate) == "met" or not baseline_rate or not load.rate:
            return ""
        reasons = []
        if self.min_ratio is not None and math.isfinite(alone_ms) and alone_ms > 0:
            asked, ceiling = self.min_ratio * baseline_rate, cores * 1000 / alone_ms
            if ceiling < asked:
                reasons.append(
                    f"its own work: {alone_ms:.0f} ms alone, so {cores} cores serve about "
                    f"{ceiling:.0f} req/s of it at most; the target asks {asked:.0f}"
                )
            else:
                reasons.append(
                    f"the load, not its own work: {alone_ms:.0f} ms alone would allow {ceiling:.0f} "
                    f"req/s on {cores} cores, the target asks {asked:.0f}"
                )
        if self.max_p95_ms is not None and not load.p95_ms < self.max_p95_ms and load.users:
            reasons.append(
                f"p95 the queue: {load.users} users at {load.rate:.0f} req/s wait about "
                f"{load.users / load.rate * 1000:.0f} ms per request"
            )
        return "; ".join(reasons)


def _fraction(ratio: float) -> str:
    for denominator in (2, 3, 4, 5):
        if math.isclose(ratio, 1 / denominator):
            return f"1/{denominator}"
    return f"{ratio:.2f}"


def _num(value: float, digits: int = 0) -> str:
    return "-" if math.isnan(value) else f"{value:.{digits}f}"


def load_table(
    loads: Sequence[Load],
    targets: dict[str, Target],
    anon_rate: float,
    auth_rate: float,
    alone_ms: dict[str, float] | None = None,
    cores: int = 2,
) -> str:
    """The pages as a markdown table: throughput, latencies, ratios, target, verdict and, for a
    missed target, why (``Target.why``, from each page's time alone)."""
    alone_ms = alone_ms or {}
    lines = [
        "| page | as | req/s | p50 ms | p95 ms | errors | × anon | × auth | target | verdict | why |",
        "|---|---|--:|--:|--:|--:|--:|--:|---|---|---|",
    ]
    for load in loads:
        target = targets.get(load.name)
        cells = [
            load.name,
            load.role,
            _num(load.rate, 1),
            _num(load.p50_ms),
            _num(load.p95_ms),
            str(load.errors),
            _num(load.rate / anon_rate, 2) if anon_rate else "-",
            _num(load.rate / auth_rate, 2) if auth_rate else "-",
            target.describe() if target else "-",
            target.verdict(load, auth_rate) if target else "-",
            (target.why(load, auth_rate, alone_ms.get(load.name, math.nan), cores) or "-") if target else "-",
        ]
        lines.append("| " + " | ".join(cells) + " |")
    return "\n".join(lines)


def within(seconds: float | None, limit: float) -> str:
    """Verdict for "done within ``limit`` seconds" (None: not done)."""
    if seconds is None:
        return "missed: not done"
    if seconds <= limit:
        return "met"
    return f"missed by {seconds - limit:.1f} s ({seconds / limit:.1f}× the target)"
