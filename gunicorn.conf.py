"""gunicorn settings shared by `make run`, `make bench` and deployments."""
import os

bind = f"{os.environ.get('HOST', '127.0.0.1')}:{os.environ.get('PORT', '8000')}"
workers = int(os.environ.get("WEB_CONCURRENCY", "3"))
worker_class = "sync"
timeout = 30
graceful_timeout = 20
# Recycle workers now and then so no worker grows without bound (RSS stays near 80 MB at city
# scale, benchmarks/RESULTS.md). Not too often: a new worker spends about a second of CPU
# importing the app, and at the exam peak (several hundred writes a second) recycling every
# 5,000 requests restarted a worker every 20 seconds, which alone put autosave p99 above a
# second in `make bench` (issue #7). GUNICORN_MAX_REQUESTS=0 turns recycling off.
max_requests = int(os.environ.get("GUNICORN_MAX_REQUESTS", "100000"))
max_requests_jitter = max_requests // 10
accesslog = "-" if os.environ.get("ACCESS_LOG") else None
errorlog = "-"
# The app is imported in each worker, never in the arbiter: nothing in create_app starts
# threads or schedulers, but preloading would share SQLite connections across forks.
preload_app = False
# gunicorn 27 opens a control socket at ~/.gunicorn/gunicorn.ctl by default: one path for every
# gunicorn of the user, so the bench's platform, its bare endpoint and the browser tests' server
# would fight over it. Nothing here uses `gunicornc`; signals (HUP, TERM) stay the way to manage it.
control_socket_disable = True


# --- /metrics across workers (app/metrics.py) ----------------------------------------------
# prometheus-client's multiprocess mode: each worker writes its counters to small files in
# PROMETHEUS_MULTIPROC_DIR and /metrics adds up the files of every worker. Each master makes a
# fresh directory before its first worker forks (so no two servers on one machine, nor two runs,
# share counts) and removes it when it exits; directories left by a master that died are swept.
_METRICS_PREFIX = "platform-metrics-"


def _sweep_metrics_dirs(parent: str) -> None:
    import shutil

    for name in os.listdir(parent):
        if not name.startswith(_METRICS_PREFIX):
            continue
        try:
            os.kill(int(name[len(_METRICS_PREFIX):].split("-")[0]), 0)
        except ProcessLookupError:
            shutil.rmtree(os.path.join(parent, name), ignore_errors=True)
        except (ValueError, PermissionError):
            pass


def on_starting(server):
    import tempfile

    parent = tempfile.gettempdir()
    _sweep_metrics_dirs(parent)
    os.environ["PROMETHEUS_MULTIPROC_DIR"] = tempfile.mkdtemp(prefix=f"{_METRICS_PREFIX}{os.getpid()}-", dir=parent)


def child_exit(server, worker):
    # A replaced worker's counts move into the directory's archive files (totals never go
    # backwards, and no file is left per replaced worker). Bookkeeping never stops the master.
    try:
        from app.metrics import retire_worker

        retire_worker(worker.pid)
    except Exception:  # noqa: BLE001
        server.log.exception("metrics: could not retire worker %s", worker.pid)


def on_exit(server):
    import shutil

    path = os.environ.get("PROMETHEUS_MULTIPROC_DIR", "")
    if os.path.basename(path).startswith(f"{_METRICS_PREFIX}{os.getpid()}-"):
        shutil.rmtree(path, ignore_errors=True)
