"""reminders at most once a day, resolved when done (issue #16)

notifications.remind_day: the Asia/Shanghai day a reminder was sent (NULL for other notices);
a unique index on (user_id, kind, remind_day) lets a reminder of one kind reach a person at
most once a day whoever sends it. notifications.subject: what a notice asks about (ISO week,
``task:<id>``); notifications.resolved_at: when the person did it.

Existing rows keep NULLs: earlier duplicates stay as they were and never block the key.

Revision ID: 0011
Revises: 0010
Create Date: 2026-12-03 00:00:00
"""
from alembic import op
import sqlalchemy as sa


revision = '0011'
down_revision = '0010'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('notifications', schema=None) as batch_op:
        batch_op.add_column(sa.Column('remind_day', sa.Date(), nullable=True))
        batch_op.add_column(sa.Column('subject', sa.String(length=40), nullable=True))
        batch_op.add_column(sa.Column('resolved_at', sa.DateTime(), nullable=True))
    op.create_index('uq_notifications_user_kind_remind_day', 'notifications', ['user_id', 'kind', 'remind_day'],
                    unique=True)


def downgrade() -> None:
    op.drop_index('uq_notifications_user_kind_remind_day', table_name='notifications')
    with op.batch_alter_table('notifications', schema=None) as batch_op:
        batch_op.drop_column('resolved_at')
        batch_op.drop_column('subject')
        batch_op.drop_column('remind_day')
