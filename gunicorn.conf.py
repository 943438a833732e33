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
