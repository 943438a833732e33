"""Application factory: configuration, extensions, blueprints, CLI and error handlers.

The factory builds and does nothing else (ARCHITECTURE rule 1): no migration, seeding,
scheduler start or database access happens because an app was created or imported.
"""
from __future__ import annotations

from flask import Flask

from config import config_class


def create_app(test_config: dict | None = None) -> Flask:
    app = Flask(__name__, instance_relative_config=True)
    cfg = config_class((test_config or {}).get("APP_ENV"))
    app.config.from_object(cfg)
    if test_config:
        app.config.update(test_config)
    cfg.validate(app.config)
    if app.config.get("CLOCK_AT") and not app.config.get("CLOCK"):
        from .clock import running_from

        app.config["CLOCK"] = running_from(app.config["CLOCK_AT"])

    register_extensions(app)
    from .web import install_converters

    install_converters(app)
    register_blueprints(app)
    register_web_hooks(app)
    register_cli(app)
    return app


def register_extensions(app: Flask) -> None:
    from .extensions import babel, cache, compress, csrf, db, login_manager
    from .i18n import select_locale, select_timezone

    db.init_app(app)
    csrf.init_app(app)
    login_manager.init_app(app)
    babel.init_app(app, locale_selector=select_locale, timezone_selector=select_timezone)
    compress.init_app(app)
    # Fragments live no longer than the figures they show, and not at all when reports are live
    # (REPORTS_CACHE_SECONDS = 0: tests, diagnosis). A CACHE_TYPE in the config wins (a shared
    # cache for several hosts, say); the default keeps them in each web process's memory.
    seconds = app.config.get("REPORTS_CACHE_SECONDS", 0)
    app.config.setdefault("CACHE_TYPE", "SimpleCache" if seconds > 0 else "NullCache")
    app.config.setdefault("CACHE_DEFAULT_TIMEOUT", max(seconds, 1))
    app.config.setdefault("CACHE_THRESHOLD", 2000)
    app.config.setdefault("CACHE_NO_NULL_WARNING", True)
    cache.init_app(app)


def register_blueprints(app: Flask) -> None:
    from .admin.audit_routes import bp as audit_bp
    from .admin.routes import bp as admin_bp
    from .api import bp as api_bp
    from .auth.routes import bp as auth_bp
    from .exams.bank_routes import bp as bank_bp
    from .exams.manage_routes import bp as exam_admin_bp
    from .exams.routes import bp as exams_bp
    from .forms_ import desk as _forms_desk  # noqa: F401 (adds the staff pages to the blueprint)
    from .forms_.routes import bp as forms_bp
    from .ledger.orders import bp as orders_bp
    from .ledger.routes import bp as ledger_bp
    from .main.routes import bp as main_bp
    from .notices.routes import bp as notices_bp
    from .reports.campaign_routes import bp as campaign_report_bp
    from .reports.officer import bp as officers_bp
    from .reports.routes import bp as reports_bp
    from .study.admin import bp as content_bp
    from .study.routes import bp as study_bp
    from .talks.routes import bp as talks_bp
    from .tasks.routes import bp as tasks_bp

    app.register_blueprint(auth_bp)
    app.register_blueprint(main_bp)
    app.register_blueprint(study_bp, url_prefix="/study")
    app.register_blueprint(content_bp, url_prefix="/admin/content")
    app.register_blueprint(exams_bp, url_prefix="/exams")
    app.register_blueprint(exam_admin_bp, url_prefix="/admin/exams")
    app.register_blueprint(bank_bp, url_prefix="/admin/questions")
    app.register_blueprint(reports_bp, url_prefix="/reports")
    app.register_blueprint(officers_bp, url_prefix="/reports/officers")
    app.register_blueprint(campaign_report_bp, url_prefix="/reports")
    app.register_blueprint(notices_bp, url_prefix="/notices")
    app.register_blueprint(tasks_bp, url_prefix="/tasks")
    app.register_blueprint(forms_bp, url_prefix="/forms")
    app.register_blueprint(ledger_bp, url_prefix="/ledger")
    app.register_blueprint(talks_bp, url_prefix="/talks")
    app.register_blueprint(orders_bp, url_prefix="/ledger/orders")
    app.register_blueprint(audit_bp, url_prefix="/admin/audit")
    app.register_blueprint(admin_bp, url_prefix="/admin")
    app.register_blueprint(api_bp, url_prefix="/api/v1")


def register_web_hooks(app: Flask) -> None:
    from . import errors, security, web
    from .auth.access import enforce_access
    from .notices import routes as notices

    web.init_app(app)
    notices.init_app(app)
    # After CSRFProtect's own check (registered with the extensions): one gate for every view.
    app.before_request(enforce_access)
    security.init_app(app)
    errors.init_app(app)


def register_cli(app: Flask) -> None:
    from . import cli

    cli.init_app(app)
