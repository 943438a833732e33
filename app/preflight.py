"""Checks a production process runs before it serves (QUALITY A6).

Kept out of ``create_app`` on purpose: the factory never touches the database. ``wsgi.py``
and ``flask scheduler`` call ``production_preflight`` when ``APP_ENV=production``.
"""
from __future__ import annotations

from flask import Flask
from sqlalchemy import func, select

from .db import db
from .models import User


class UnsafeDeployment(RuntimeError):
    pass


def production_preflight(app: Flask) -> None:
    if app.config.get("APP_ENV") != "production":
        return
    with app.app_context():
        demo = db.session.scalar(select(func.count(User.id)).where(User.is_demo.is_(True), User.is_active.is_(True)))
        db.session.rollback()
    if demo:
        raise UnsafeDeployment(
            f"{demo} demo account(s) are active; production refuses to start. Disable them "
            "(flask --app wsgi users disable-demo) or use a database without demo data.")
