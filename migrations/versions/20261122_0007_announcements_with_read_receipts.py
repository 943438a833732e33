"""announcements with read receipts (issue #6)

Announcements, and notifications.announcement_id: one notification per recipient, unique per
announcement and person.

Revision ID: 0007
Revises: 0006
Create Date: 2026-11-22 05:35:16.711538
"""
from alembic import op
import sqlalchemy as sa


revision = '0007'
down_revision = '0006'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('announcements',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('sender_id', sa.Integer(), nullable=True),
    sa.Column('title', sa.String(length=120), nullable=False),
    sa.Column('body', sa.Text(), nullable=False),
    sa.Column('body_format', sa.String(length=8), nullable=False),
    sa.Column('target_unit_id', sa.Integer(), nullable=False),
    sa.Column('audience', sa.String(length=10), nullable=False),
    sa.Column('recipient_count', sa.Integer(), nullable=False),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.CheckConstraint("audience IN ('officers', 'all')", name=op.f('ck_announcements_audience')),
    sa.CheckConstraint("body_format IN ('text', 'html')", name=op.f('ck_announcements_body_format')),
    sa.ForeignKeyConstraint(['sender_id'], ['users.id'], name=op.f('fk_announcements_sender_id_users'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['target_unit_id'], ['units.id'], name=op.f('fk_announcements_target_unit_id_units'), ondelete='RESTRICT'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_announcements'))
    )
    with op.batch_alter_table('announcements', schema=None) as batch_op:
        batch_op.create_index('ix_announcements_sender_created', ['sender_id', 'created_at'], unique=False)
        batch_op.create_index(batch_op.f('ix_announcements_target_unit_id'), ['target_unit_id'], unique=False)

    with op.batch_alter_table('notifications', schema=None) as batch_op:
        batch_op.add_column(sa.Column('announcement_id', sa.Integer(), nullable=True))
        batch_op.create_unique_constraint('uq_notifications_announcement_user', ['announcement_id', 'user_id'])
        batch_op.create_foreign_key(batch_op.f('fk_notifications_announcement_id_announcements'), 'announcements', ['announcement_id'], ['id'], ondelete='CASCADE')



def downgrade() -> None:
    with op.batch_alter_table('notifications', schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f('fk_notifications_announcement_id_announcements'), type_='foreignkey')
        batch_op.drop_constraint('uq_notifications_announcement_user', type_='unique')
        batch_op.drop_column('announcement_id')

    with op.batch_alter_table('announcements', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_announcements_target_unit_id'))
        batch_op.drop_index('ix_announcements_sender_created')

    op.drop_table('announcements')
