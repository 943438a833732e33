"""匿名测评 (survey) forms: forms.confidentiality may be ``survey`` (issue 17 point 5)

A survey's answers are read by nobody but their owner; results appear only as aggregates
(app/forms_/survey.py). Only the CHECK constraint changes.

On SQLite the CHECK is widened in place by SQLite's documented procedure for changing a CHECK
constraint (writable_schema, then schema_version + 1), as 0012 does for users.role: a batch
rebuild of ``forms`` would drop the table while foreign keys are ON, and ON DELETE CASCADE would
take every form version and submission with it.

Revision ID: 0015
Revises: 0014
Create Date: 2026-12-03 05:00:00
"""
from alembic import op
import sqlalchemy as sa


revision = '0015'
down_revision = '0014'
branch_labels = None
depends_on = None

OLD_LEVELS = "confidentiality IN ('open', 'confidential')"
NEW_LEVELS = "confidentiality IN ('open', 'confidential', 'survey')"


def _swap_check(old: str, new: str) -> None:
    conn = op.get_bind()
    if conn.dialect.name == "sqlite":
        sql = conn.exec_driver_sql("SELECT sql FROM sqlite_master WHERE type='table' AND name='forms'").scalar()
        if old not in sql:
            raise RuntimeError("forms.confidentiality CHECK is not the expected one; refusing to edit the schema")
        version = conn.exec_driver_sql("PRAGMA schema_version").scalar()
        conn.exec_driver_sql("PRAGMA writable_schema=ON")
        conn.execute(sa.text("UPDATE sqlite_master SET sql = :sql WHERE type='table' AND name='forms'"),
                     {"sql": sql.replace(old, new)})
        conn.exec_driver_sql(f"PRAGMA schema_version={int(version) + 1}")
        conn.exec_driver_sql("PRAGMA writable_schema=OFF")
    else:
        op.drop_constraint(op.f("ck_forms_confidentiality"), "forms", type_="check")
        op.create_check_constraint(op.f("ck_forms_confidentiality"), "forms", new)


def upgrade() -> None:
    _swap_check(OLD_LEVELS, NEW_LEVELS)


def downgrade() -> None:
    # A survey's answers were given on the promise that nobody reads them one by one: turning them
    # into confidential forms would hand them to 纪检督察, deleting them would lose them silently.
    # The operator decides; until then nothing changes.
    if op.get_bind().exec_driver_sql("SELECT count(*) FROM forms WHERE confidentiality = 'survey'").scalar():
        raise RuntimeError("survey forms (匿名测评) exist: delete them or change their level before downgrading")
    _swap_check(NEW_LEVELS, OLD_LEVELS)
