"""Entry point for gunicorn (`gunicorn wsgi:app`) and the CLI (`flask --app wsgi ...`)."""
import os
import sys

from app import create_app
from app.preflight import production_preflight

app = create_app()

# gunicorn imports this module in each worker: refuse to serve an unsafe production database.
# The flask CLI is exempt so that an operator can still run `users disable-demo` or `db upgrade`;
# `flask scheduler` runs the same check itself.
if os.environ.get("APP_ENV") == "production" and os.path.basename(sys.argv[0] if sys.argv else "") != "flask":
    production_preflight(app)
