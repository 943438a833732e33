"""Extension objects, created unbound and bound in ``create_app`` with ``init_app``."""
from flask_babel import Babel
from flask_caching import Cache
from flask_compress import Compress
from flask_login import LoginManager
from flask_wtf.csrf import CSRFProtect

from .db import db

login_manager = LoginManager()
csrf = CSRFProtect()
babel = Babel()
compress = Compress()
#: Rendered report fragments (reports/dashboard.html's ``{% cache %}`` block); configured in
#: ``register_extensions`` from REPORTS_CACHE_SECONDS.
cache = Cache()

__all__ = ["babel", "cache", "compress", "csrf", "db", "login_manager"]
