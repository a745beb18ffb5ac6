"""The Monday rush (issue 16): 8 clients, one request in five a check-in POST on varying key
results, interleaved in slices with the read-only mix of the same pages; each pair's ratio
(rush requests/s ÷ read-only requests/s) is reported, since the machine's load changes
between runs but hardly within one pair. Also the gunicorn workers' memory after the rush.

Standard library only (run by bench/run.py, which owns the server and the log-in).
"""

from __future__ import annotations

import statistics
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path

from bench.client import Session

POST_EVERY = 5  # one request in five is a check-in POST


@dataclass
class Slice:
    kind: str  # "read-only" or "rush"
    seconds: float
    requests: int = 0
    errors: int = 0
    posts: int = 0
    lat: dict[str, list[float]] = field(default_factory=dict)  # page key -> latencies

    @property
    def rps(self) -> float:
        return self.requests / self.seconds if self.seconds else 0.0

    def p50(self, key: str) -> float | None:
        values = self.lat.get(key)
        return statistics.median(values) if values else None


@dataclass
class Rush:
    pairs: list[tuple[Slice, Slice]] = field(default_factory=list)
    rss_mb: list[float] = field(default_factory=list)  # per gunicorn worker, after the rush
    forms: int = 0  # distinct check-in forms (key results) the POSTs cycle through
    recorded: int | None = None  # check-ins found in the database afterwards
    sent_posts: int = 0

    @property
    def ratios(self) -> list[float]:
        return [r.rps / ro.rps for ro, r in self.pairs if ro.rps]


def _run_slice(port: int, cookies: dict, gets: list, forms: list[tuple[str, dict]], kind: str,
               clients: int, seconds: float, offset: list[int]) -> Slice:
    """`clients` threads, each on its own connection, sending requests until `seconds` have
    passed; in a rush every POST_EVERY-th request of a client is a check-in POST on the next
    key result of `forms` (shared counter: every POST goes to another key result)."""
    out = Slice(kind=kind, seconds=seconds)
    lock = threading.Lock()
    barrier = threading.Barrier(clients + 1)

    def worker(ci: int) -> None:
        s = Session(port, cookies)
        barrier.wait()
        deadline = time.monotonic() + seconds
        i = 0
        while time.monotonic() < deadline:
            if kind == "rush" and forms and i % POST_EVERY == POST_EVERY - 1:
                with lock:
                    action, fields = forms[offset[0] % len(forms)]
                    offset[0] += 1
                status, _, elapsed, _ = s.request(
                    "POST", action, fields,
                    {"HX-Request": "true", "X-CSRFToken": s.cookies.get("csrftoken", "")})
                key = "post"
            else:
                page = gets[(ci + i) % len(gets)]
                status, _, elapsed, _ = s.request("GET", page.path)
                key = page.key
            i += 1
            with lock:
                out.requests += 1
                out.errors += status >= 400
                out.posts += key == "post"
                out.lat.setdefault(key, []).append(elapsed)

    threads = [threading.Thread(target=worker, args=(c,)) for c in range(clients)]
    for t in threads:
        t.start()
    barrier.wait()
    t0 = time.perf_counter()
    for t in threads:
        t.join()
    out.seconds = time.perf_counter() - t0  # the last requests finish after the deadline
    return out


def row_posts(session: Session, team_path: str, n: int) -> list[tuple[str, dict]]:
    """The team page's per-row check-in POSTs (issue 19's page is one form whose rows post
    to their own URL with the row's prefixed fields): (URL, fields) for up to `n` metric
    rows, each with a new value and "on track"."""
    import re

    from bench.client import parse_forms

    _status, body, _, _ = session.request("GET", team_path)
    html = body.decode()
    urls = {int(pk): url for url, pk in
            re.findall(r'formaction="(/o/[^"]+/check-ins/kr/(\d+)/new/)"', html)}
    out = []
    for form in parse_forms(html):
        if form["method"] != "post":
            continue
        fields = form["fields"]
        for pk, url in urls.items():
            prefix = f"kr{pk}-"
            own = {k: v for k, v in fields.items() if k.startswith(prefix)
                   and not k.endswith("no_change")}
            if f"{prefix}value" not in own:
                continue
            own["csrfmiddlewaretoken"] = fields.get("csrfmiddlewaretoken", "")
            own[f"{prefix}value"] = str(40 + len(out))
            if f"{prefix}status" in form["selects"] or f"{prefix}status" in own:
                own[f"{prefix}status"] = "on_track"
            out.append((url, own))
            if len(out) >= n:
                return out
    return out


def worker_rss_mb(master_pid: int) -> list[float]:
    """VmRSS of each child of the gunicorn master (Linux /proc)."""
    out = []
    for status in Path("/proc").glob("[0-9]*/status"):
        try:
            text = status.read_text()
        except OSError:
            continue
        fields = dict(line.split(":", 1) for line in text.splitlines() if ":" in line)
        if fields.get("PPid", "").strip() == str(master_pid) and "VmRSS" in fields:
            out.append(int(fields["VmRSS"].split()[0]) / 1024)
    return sorted(out)


def monday_rush(port: int, cookies: dict, gets: list, forms: list[tuple[str, dict]], *,
                clients: int = 8, slice_s: float = 20.0, pairs: int = 3,
                master_pid: int | None = None, log=print) -> Rush:
    """`pairs` × (a read-only slice, then a rush slice) of `slice_s` seconds each."""
    rush = Rush(forms=len(forms))
    offset = [0]
    for n in range(pairs):
        ro = _run_slice(port, cookies, gets, forms, "read-only", clients, slice_s, offset)
        ru = _run_slice(port, cookies, gets, forms, "rush", clients, slice_s, offset)
        rush.pairs.append((ro, ru))
        rush.sent_posts += ru.posts
        log(f"monday rush pair {n + 1}: read-only {ro.rps:.1f} req/s, rush {ru.rps:.1f} req/s "
            f"({ru.posts} check-ins), ratio {ru.rps / ro.rps if ro.rps else 0:.2f}; "
            f"errors {ro.errors}/{ru.errors}")
    if master_pid:
        rush.rss_mb = worker_rss_mb(master_pid)
    return rush


def report(rush: Rush, keys: list[tuple[str, str]]) -> list[str]:
    """The rush's section of RESULTS.md (markdown lines)."""
    if not rush.pairs:
        return []
    lines = ["", "## The Monday rush (8 clients, one request in five a check-in POST)", "",
             f"Interleaved {rush.pairs[0][0].seconds:.0f}-second slices: the read-only mix of "
             "the GET pages, then the same mix with every fifth request of each client a "
             f"check-in POST (cycling over {rush.forms} key results).", "",
             "| pair | read-only req/s | rush req/s | ratio | check-ins | errors |",
             "| ---: | ---: | ---: | ---: | ---: | ---: |"]
    for i, (ro, ru) in enumerate(rush.pairs, 1):
        ratio = ru.rps / ro.rps if ro.rps else 0.0
        lines.append(f"| {i} | {ro.rps:.1f} | {ru.rps:.1f} | {ratio:.2f} | {ru.posts} | "
                     f"{ro.errors + ru.errors} |")
    if rush.ratios:
        lines += ["", f"Median ratio **{statistics.median(rush.ratios):.2f}** "
                  "(target ≥ 0.8)."]
    lines += ["", "p50 per page (ms), read-only slices vs rush slices (all pairs pooled):", "",
              "| page | read-only p50 | rush p50 |", "| --- | ---: | ---: |"]
    for key, label in [*keys, ("post", "Check-in POST")]:
        ro = [v for p, _ in rush.pairs for v in p.lat.get(key, [])]
        ru = [v for _, p in rush.pairs for v in p.lat.get(key, [])]
        if not ro and not ru:
            continue
        fmt = (lambda xs: f"{statistics.median(xs) * 1000:.0f}" if xs else "–")  # noqa: E731
        lines.append(f"| {label} | {fmt(ro)} | {fmt(ru)} |")
    if rush.recorded is not None:
        lines += ["", f"Check-ins recorded: {rush.recorded} for {rush.sent_posts} POSTs."]
    if rush.rss_mb:
        lines += ["", "gunicorn workers' RSS after the rush (MB): "
                  + ", ".join(f"{v:.0f}" for v in rush.rss_mb) + " (target < 200 at xlarge)."]
    return lines
