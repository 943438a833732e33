"""The reopen reason of a form submission is sealed like its answers (attack report F5)

form_submissions.reopen_reason_token: the reviewer's reason as a Fernet token under FORMS_KEYS.
New reopens leave the plain ``reopen_reason`` empty; the reasons written before this revision
stay readable there until ``flask forms rotate-key`` seals them (this migration has no keys).
The notices sent for those reopens carried the reason in their body: it is replaced by the
wording new notices use, which sends the person to the form to read why.

Revision ID: 0016
Revises: 0015
Create Date: 2026-12-03 06:00:00
"""
from alembic import op
import sqlalchemy as sa


revision = '0016'
down_revision = '0015'
branch_labels = None
depends_on = None

#: Keep equal to app/forms_/services.py REOPENED_BODY (a migration does not import the app).
REOPENED_BODY = "表单已退回修改，请打开表单查看原因。"


def upgrade() -> None:
    # A plain ADD COLUMN (no batch rebuild): on SQLite a rebuild of form_submissions would drop
    # the table while foreign keys are ON, and ON DELETE CASCADE would take its files with it.
    op.add_column('form_submissions', sa.Column('reopen_reason_token', sa.Text(), server_default='', nullable=False))
    op.get_bind().execute(sa.text("UPDATE notifications SET body = :body WHERE kind = 'form_reopened'"),
                          {"body": REOPENED_BODY})


def downgrade() -> None:
    # Without the keys a sealed reason cannot be put back into the plain column, and dropping it
    # would lose it silently. The operator decides; until then nothing changes.
    if op.get_bind().exec_driver_sql(
            "SELECT count(*) FROM form_submissions WHERE reopen_reason_token != ''").scalar():
        raise RuntimeError("sealed reopen reasons exist: downgrading would lose them")
    op.drop_column('form_submissions', 'reopen_reason_token')
