"""Reads for the audit-log browser: filters, pages, exports, and redaction (QUALITY A31).

What an audit row may hold: the actor (id, and the username as typed for failed logins), the
dotted action, the target (type and id), ``before``/``after`` snapshots of changed fields, a
short ``detail`` code, the client address and the request id. ``audit.record`` already replaces
known secret fields with ``***`` when it writes. Reading adds a second, wider net, because a row
written by older code or a careless caller must not leak through the browser or an export:

* any key, at any depth, whose name looks like a secret (password, token, secret, cookie,
  session, TOTP, ID card) is shown as ``***``;
* any 15- or 18-digit mainland ID-card number inside any text (a username typed into the login
  form, a detail, a snapshot value) is masked.

Dates in filters are Asia/Shanghai calendar days, inclusive.
"""
from __future__ import annotations

import json
import re
from dataclasses import asdict, dataclass, fields
from datetime import date, datetime
from typing import Any, Iterator

from sqlalchemy import Select, func, or_, select
from sqlalchemy.orm import Session

from ..audit_labels import references
from ..models import Announcement, AuditLog, CampaignStage, StudyItem, Task, Unit, User
from ..timeutils import day_bounds_utc, parse_date_arg, to_local
from ..ids import parse_id_arg

OUTCOMES = ("failure", "success")
MASK = "***"
_SECRET_KEY = re.compile(r"pass|pwd|secret|token|cookie|session|totp|otp|id_?card|id_?no|identity|身份证",
                         re.IGNORECASE)
# 18 digits (the last may be X) with a plausible birth date, or the old 15-digit form; not part
# of a longer run of digits or letters.
_ID_CARD = re.compile(
    r"(?<![0-9A-Za-z])(?:[1-9]\d{5}(?:18|19|20)\d{2}(?:0[1-9]|1[0-2])(?:0[1-9]|[12]\d|3[01])\d{3}[\dXx]"
    r"|[1-9]\d{7}(?:0[1-9]|1[0-2])(?:0[1-9]|[12]\d|3[01])\d{3})(?![0-9A-Za-z])")


def redact_text(value: str | None) -> str | None:
    if value is None:
        return None
    return _ID_CARD.sub(lambda m: m.group()[:2] + "*" * (len(m.group()) - 2), str(value))


def redact(value: Any) -> Any:
    """A JSON value with secret-looking keys masked and ID-card numbers hidden, at any depth."""
    if isinstance(value, dict):
        return {str(k): (MASK if _SECRET_KEY.search(str(k)) else redact(v)) for k, v in value.items()}
    if isinstance(value, list):
        return [redact(v) for v in value]
    if isinstance(value, str):
        return redact_text(value)
    return value


def is_failure(action: str) -> bool:
    return action == "access.denied" or action.endswith("_failed")


@dataclass
class AuditFilter:
    """The browser's query string; every field optional. ``date_from``/``date_to`` are local days."""
    category: str = ""
    action: str = ""
    actor: str = ""
    target_type: str = ""
    target_id: str = ""
    date_from: date | None = None
    date_to: date | None = None
    outcome: str = ""
    ip: str = ""

    @classmethod
    def parse(cls, args) -> tuple["AuditFilter", list[str]]:
        """From request args; returns the filter and error codes (``date``, ``date_order``,
        ``outcome``). Text fields are trimmed and capped; nothing here reaches SQL unbound."""
        errors: list[str] = []
        f = cls(**{k: (args.get(k) or "").strip()[:64] for k in
                   ("category", "action", "actor", "target_type", "target_id", "ip")})
        for key in ("date_from", "date_to"):
            raw = (args.get(key) or "").strip()
            if raw:
                try:  # A36: YYYY-MM-DD of 2000–2099 only (0001-01-01 overflowed the UTC bounds into a 500)
                    setattr(f, key, parse_date_arg(raw))
                except ValueError:
                    errors.append("date")
        if f.date_from and f.date_to and f.date_from > f.date_to:
            errors.append("date_order")
        f.outcome = (args.get("outcome") or "").strip()
        if f.outcome and f.outcome not in OUTCOMES:
            errors.append("outcome")
            f.outcome = ""
        return f, errors

    def to_args(self) -> dict:
        """Non-empty fields as query arguments (for the pager and the export links)."""
        out = {}
        for field in fields(self):
            value = getattr(self, field.name)
            if value:
                out[field.name] = value.isoformat() if isinstance(value, date) else value
        return out

    @property
    def is_empty(self) -> bool:
        return not self.to_args()


def filtered(f: AuditFilter) -> Select:
    """Rows matching the filter, newest first, each with the actor's current name."""
    stmt = select(AuditLog, User.name).outerjoin(User, User.id == AuditLog.actor_id)
    if f.category:
        stmt = stmt.where(AuditLog.action.startswith(f.category + ".", autoescape=True))
    if f.action:
        stmt = stmt.where(AuditLog.action == f.action)
    if f.actor:
        stmt = stmt.where(or_(AuditLog.actor_name.icontains(f.actor, autoescape=True),
                              User.name.icontains(f.actor, autoescape=True)))
    if f.target_type:
        stmt = stmt.where(AuditLog.target_type == f.target_type)
    if f.target_id:
        stmt = stmt.where(AuditLog.target_id == f.target_id)
    if f.ip:
        stmt = stmt.where(AuditLog.ip.startswith(f.ip, autoescape=True))
    if f.date_from:
        stmt = stmt.where(AuditLog.at >= day_bounds_utc(f.date_from)[0])
    if f.date_to:
        stmt = stmt.where(AuditLog.at < day_bounds_utc(f.date_to)[1])
    failure = or_(AuditLog.action == "access.denied", AuditLog.action.endswith("_failed"))
    if f.outcome == "failure":
        stmt = stmt.where(failure)
    elif f.outcome == "success":
        stmt = stmt.where(~failure)
    return stmt.order_by(AuditLog.id.desc())


def count(session: Session, f: AuditFilter) -> int:
    return session.scalar(select(func.count()).select_from(filtered(f).order_by(None).subquery())) or 0


def page(session: Session, f: AuditFilter, page_no: int, per_page: int) -> tuple[list["AuditRow"], int]:
    total = count(session, f)
    rows = session.execute(filtered(f).limit(per_page).offset((page_no - 1) * per_page)).all()
    return [AuditRow.of(log, name) for log, name in rows], total


def distinct_values(session: Session) -> dict[str, list[str]]:
    """The actions and target types that occur (indexed column for actions; a few dozen values)."""
    actions = [a for a in session.scalars(select(AuditLog.action).distinct().order_by(AuditLog.action)) if a]
    types = [t for t in session.scalars(select(AuditLog.target_type).distinct().order_by(AuditLog.target_type)) if t]
    return {"actions": actions, "target_types": types,
            "categories": sorted({a.split(".", 1)[0] for a in actions})}


#: Target types whose rows get a name under the object (target type → the kind ``names`` keys by).
NAMED_TARGETS = {"user": "user", "unit": "unit", "task": "task", "studyitem": "item", "campaignstage": "stage",
                 "announcement": "announcement"}


def target_names(session: Session, rows: list["AuditRow"]) -> dict[tuple[str, str], str]:
    """Readable names for the page's targets (people, units, tasks, study items, stages,
    announcements) and for the units, people and tasks their changes refer to
    (``audit_labels.references``): one small query per kind. Keyed by (kind, id) and, for
    targets, by (target type, id)."""
    wanted: dict[str, set[int]] = {kind: set(ids) for kind, ids in references(rows).items()}
    for row in rows:
        kind = NAMED_TARGETS.get(row.target_type or "")
        if kind and (pk := _id_or_none(row.target_id)) is not None:
            wanted.setdefault(kind, set()).add(pk)
    names: dict[tuple[str, str], str] = {}
    for kind, model, label in (("user", User, User.name), ("unit", Unit, Unit.name), ("task", Task, Task.title),
                               ("stage", CampaignStage, CampaignStage.name), ("item", StudyItem, StudyItem.title),
                               ("announcement", Announcement, Announcement.title)):
        ids = wanted.get(kind)
        if ids:
            for pk, name in session.execute(select(model.id, label).where(model.id.in_(ids))):
                names[(kind, str(pk))] = name
    for target_type, kind in NAMED_TARGETS.items():
        if target_type != kind:
            names.update({(target_type, pk): name for (k, pk), name in list(names.items()) if k == kind})
    return names


def all_unit_names(session: Session) -> dict[tuple[str, str], str]:
    """Every unit's name (a few hundred rows), for exports that may refer to any of them."""
    return {("unit", str(pk)): name for pk, name in session.execute(select(Unit.id, Unit.name))}


def _id_or_none(raw: str | None) -> int | None:
    """A stored target id as a row id, by the rule for ids from outside (``"²".isdigit()`` is true
    but int("²") raises); None for anything else."""
    try:
        return parse_id_arg(raw)
    except ValueError:
        return None


@dataclass
class AuditRow:
    """One audit row as the browser and the exports show it: already redacted."""
    id: int
    at: datetime
    actor_name: str | None
    actor_display: str | None
    action: str
    detail: str | None
    target_type: str | None
    target_id: str | None
    before: Any
    after: Any
    ip: str | None
    request_id: str | None

    @classmethod
    def of(cls, log: AuditLog, actor_name: str | None) -> "AuditRow":
        return cls(id=log.id, at=log.at, actor_name=redact_text(log.actor_name), actor_display=actor_name,
                   action=log.action, detail=redact_text(log.detail), target_type=log.target_type,
                   target_id=redact_text(log.target_id), before=redact(log.before), after=redact(log.after),
                   ip=log.ip, request_id=log.request_id)

    @property
    def failed(self) -> bool:
        return is_failure(self.action)

    def changes(self) -> list[tuple[str, str | None, str | None]]:
        """(field, before, after) for fields that differ; unchanged fields are left out."""
        before = self.before if isinstance(self.before, dict) else ({} if self.before is None else {"": self.before})
        after = self.after if isinstance(self.after, dict) else ({} if self.after is None else {"": self.after})
        out = []
        for key in list(dict.fromkeys([*before, *after])):
            old, new = before.get(key), after.get(key)
            if key in before and key in after and old == new:
                continue
            out.append((key, None if key not in before else _short(old), None if key not in after else _short(new)))
        return out

    def as_export(self) -> dict:
        data = asdict(self)
        data["at"] = to_local(self.at).strftime("%Y-%m-%d %H:%M:%S")
        data["before"] = _json(self.before)
        data["after"] = _json(self.after)
        return data


def _json(value: Any) -> str:
    return "" if value is None else json.dumps(value, ensure_ascii=False, sort_keys=True, default=str)


def _short(value: Any, limit: int = 120) -> str:
    text = value if isinstance(value, str) else _json(value)
    return text if len(text) <= limit else text[:limit - 1] + "…"


def export_rows(session: Session, f: AuditFilter, limit: int) -> Iterator[AuditRow]:
    """The filtered rows, newest first, in batches (the caller has checked the count)."""
    result = session.execute(filtered(f).limit(limit).execution_options(yield_per=1000))
    for log, name in result:
        yield AuditRow.of(log, name)
