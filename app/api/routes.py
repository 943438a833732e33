from __future__ import annotations

from functools import lru_cache
from pathlib import Path

import yaml
from flask import jsonify
from flask_login import current_user

from ..auth.access import own_account, public
from ..models.modules import REGISTRY
from . import bp

SPEC_DIR = Path(__file__).with_name("openapi")


#: API paths an admin reaches before the second factor (their views are declared ``before_mfa``).
BEFORE_MFA_PATHS = frozenset({"/me"})
HTTP_METHODS = frozenset({"get", "put", "post", "patch", "delete"})


@lru_cache(maxsize=1)
def load_spec() -> dict:
    """base.yaml plus one fragment per feature (paths and component schemas merged), so each
    feature documents its own endpoints beside the others without editing a shared file. The
    ``ModuleCode`` enum comes from the module registry, not from the YAML."""
    spec = yaml.safe_load((SPEC_DIR / "base.yaml").read_text(encoding="utf-8"))
    for fragment in sorted(SPEC_DIR.glob("*.yaml")):
        if fragment.name == "base.yaml":
            continue
        part = yaml.safe_load(fragment.read_text(encoding="utf-8")) or {}
        spec["paths"].update(part.get("paths", {}))
        for section, items in (part.get("components") or {}).items():
            spec["components"].setdefault(section, {}).update(items)
    # One rule, documented once: an admin without the second factor gets 403 ``mfa_required`` on
    # every operation but those reachable before it (app/auth/decisions.py ``before_mfa``).
    for path, operations in spec["paths"].items():
        if path in BEFORE_MFA_PATHS:
            continue
        for method, operation in operations.items():
            if method in HTTP_METHODS:
                operation.setdefault("responses", {}).setdefault("403", {"$ref": "#/components/responses/MfaRequired"})
    module = spec["components"]["schemas"]["ModuleCode"]
    module["enum"] = [m.code for m in REGISTRY]
    module["description"] += " " + "; ".join(f"{m.code}: {m.name_en} ({m.name})" for m in REGISTRY) + "."
    return spec


def user_json(user) -> dict:
    unit = user.unit
    return {
        "id": user.id,
        "username": user.username,
        "name": user.name,
        "role": user.role,
        "badge_no": user.badge_no,
        "must_change_password": user.must_change_password,
        "unit": {"id": unit.id, "name": unit.name, "path": unit.path},
    }


@bp.get("/me")
@own_account
def me():
    return jsonify(user_json(current_user))


@bp.get("/openapi.json")
@public
def openapi():
    return jsonify(load_spec())
