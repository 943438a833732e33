"""What operators can count: every request by endpoint, its latency, and the express lane's
outcomes, in Prometheus' text format at ``/metrics`` (prometheus-client).

Under gunicorn each worker is a process of its own, so the counters use prometheus-client's
multiprocess mode: gunicorn.conf.py gives every master a fresh directory in
``PROMETHEUS_MULTIPROC_DIR`` before its workers fork, each worker writes its values to its own
small memory-mapped files there, and ``/metrics`` (answered by whichever worker) adds up the files
of all of them. A worker that ends has its counts added into an archive file by the master
(``retire_worker``), so counters never go backwards while the master lives. Without that
variable (the test client, ``flask run``) the values live in the process and ``/metrics`` shows
that process.

Requests are measured in the WSGI layer (``RequestMetrics``, outermost), so the ones the express
lane answers without Flask are counted too. The cost is a few microseconds a request: the
labelled children are looked up once and kept, and each count is one write to a memory map.
"""
from __future__ import annotations

import fcntl
import ipaddress
import os
import time
from collections.abc import Iterable
from contextlib import contextmanager

from prometheus_client import CONTENT_TYPE_LATEST, REGISTRY, CollectorRegistry, Counter, Histogram, generate_latest
from prometheus_client import multiprocess
from prometheus_client.mmap_dict import MmapedDict, mmap_key

#: Set in the WSGI environ by the express lane when it answers: the endpoint it served.
ENDPOINT_KEY = "platform.endpoint"
#: Requests that matched no route (404s, scanners): one label value, not one per path.
UNMATCHED = "unmatched"
_METHODS = frozenset({"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"})

EXPRESS = Counter("platform_express_requests", "Heartbeats and autosaves the express lane served, declined (handed to "
                  "the full stack, by reason) or met an unexpected error on (by exception type).",
                  ["outcome", "reason"])
HTTP_REQUESTS = Counter("platform_http_requests", "Requests answered, by endpoint, method and status.",
                        ["endpoint", "method", "status"])
#: Until the application returned its response (a streamed body, a video say, is not included).
HTTP_DURATION = Histogram("platform_http_request_duration_seconds", "Time to answer a request, by endpoint.",
                          ["endpoint"], buckets=(0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5,
                                                 5.0, 10.0))

_express_children: dict = {}
_request_children: dict = {}
_duration_children: dict = {}


def count_express(outcome: str, reason: str = "") -> None:
    """One request the express lane served (reason ""), declined (its reason) or failed on."""
    child = _express_children.get((outcome, reason))
    if child is None:
        child = _express_children[(outcome, reason)] = EXPRESS.labels(outcome, reason)
    child.inc()


def _record(endpoint: str, method: str, status: str, seconds: float) -> None:
    key = (endpoint, method, status)
    child = _request_children.get(key)
    if child is None:
        child = _request_children[key] = HTTP_REQUESTS.labels(endpoint, method, status)
    child.inc()
    timer = _duration_children.get(endpoint)
    if timer is None:
        timer = _duration_children[endpoint] = HTTP_DURATION.labels(endpoint)
    timer.observe(seconds)


class RequestMetrics:
    """WSGI middleware: counts and times every request. The endpoint is the one the express lane
    served (``ENDPOINT_KEY``) or the one Flask's URL map matched, read when the response starts
    (Flask's request is still in the environ then; it is cleared when its context ends), else
    ``unmatched``."""

    def __init__(self, wsgi_app):
        self.wsgi_app = wsgi_app

    def __call__(self, environ, start_response) -> Iterable[bytes]:
        seen = ["500", UNMATCHED]

        def capture(line: str, headers, exc_info=None):
            endpoint = environ.get(ENDPOINT_KEY)
            if endpoint is None:
                endpoint = getattr(environ.get("werkzeug.request"), "endpoint", None)
            seen[0], seen[1] = line[:3], endpoint or UNMATCHED
            return start_response(line, headers, exc_info)

        started = time.perf_counter()
        try:
            return self.wsgi_app(environ, capture)
        finally:
            method = environ.get("REQUEST_METHOD", "")
            _record(seen[1], method if method in _METHODS else "other", seen[0], time.perf_counter() - started)


def multiprocess_dir() -> str | None:
    """The workers' shared directory when running under gunicorn.conf.py, else None."""
    path = os.environ.get("PROMETHEUS_MULTIPROC_DIR")
    return path if path and os.path.isdir(path) else None


@contextmanager
def _files_locked(path: str, mode: int):
    """Readers (``/metrics``) share this lock; ``retire_worker`` takes it alone while it moves a
    worker's counts into the archive, so no reader sees them twice or not at all."""
    fd = os.open(os.path.join(path, "files.lock"), os.O_RDWR | os.O_CREAT, 0o600)
    try:
        fcntl.flock(fd, mode)
        yield
    finally:
        os.close(fd)  # closing drops the lock


def exposition() -> tuple[bytes, str]:
    """``(body, content type)`` of ``/metrics``: all workers' counters added up, or this
    process's alone outside gunicorn."""
    path = multiprocess_dir()
    if path is None:
        return generate_latest(REGISTRY), CONTENT_TYPE_LATEST
    registry = CollectorRegistry()
    multiprocess.MultiProcessCollector(registry, path=path)
    with _files_locked(path, fcntl.LOCK_SH):
        return generate_latest(registry), CONTENT_TYPE_LATEST


def retire_worker(pid: int, path: str | None = None) -> None:
    """gunicorn's ``child_exit``: a worker that ended leaves its counts, not its files.

    Its counter and histogram files are added into one ``<kind>_archive.db`` per kind (the sum
    prometheus-client itself computes, written back unaccumulated) and removed; live gauges go
    (``mark_process_dead``). Workers are replaced all day (``max_requests``); without this every
    one would leave two files behind that each /metrics request reads until gunicorn restarts."""
    path = path or multiprocess_dir()
    if path is None:
        return
    multiprocess.mark_process_dead(pid, path)
    with _files_locked(path, fcntl.LOCK_EX):
        for kind in ("counter", "histogram"):
            finished = os.path.join(path, f"{kind}_{pid}.db")
            if not os.path.exists(finished):
                continue
            archive = os.path.join(path, f"{kind}_archive.db")
            merged = multiprocess.MultiProcessCollector.merge(
                [finished, *([archive] if os.path.exists(archive) else [])], accumulate=False)
            scratch = os.path.join(path, f"{kind}_archive.new")  # not *.db: never read half-written
            if os.path.exists(scratch):
                os.unlink(scratch)
            out = MmapedDict(scratch)
            try:
                for metric in merged:
                    for sample in metric.samples:
                        key = mmap_key(metric.name, sample.name, list(sample.labels), list(sample.labels.values()),
                                       metric.documentation)
                        out.write_value(key, sample.value, 0.0)
            finally:
                out.close()
            os.replace(scratch, archive)
            os.unlink(finished)


def address_allowed(address: str | None, networks: Iterable[str]) -> bool:
    """May ``address`` (the client as the app sees it, after ProxyFix) read ``/metrics``: a
    loopback address, or one inside ``networks`` (METRICS_NETWORKS, CIDRs)."""
    try:
        ip = ipaddress.ip_address((address or "").split("%")[0])
    except ValueError:
        return False
    if ip.version == 6 and ip.ipv4_mapped:
        ip = ip.ipv4_mapped
    if ip.is_loopback:
        return True
    return any(ip in ipaddress.ip_network(net, strict=False) for net in networks)


def init_app(app) -> None:
    """Outermost around the WSGI stack (outside ProxyFix and the express lane)."""
    app.wsgi_app = RequestMetrics(app.wsgi_app)
