"""The machine's limit for this stack: a bare Flask app with one route returning a short string.

Served by `make bench` under the same gunicorn settings as the platform
(`gunicorn --config gunicorn.conf.py --workers 3 benchmarks.bare:app`).
"""
from flask import Flask

app = Flask(__name__)


@app.get("/")
def index():
    return "ok"
