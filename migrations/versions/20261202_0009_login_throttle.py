"""login throttles per (account, address), account and address (QUALITY A35)

login_throttles: failed sign-ins counted by the *typed* username and the client address, so an
attacker can neither lock officers out nor tell real accounts from unknown ones. The rules live
in app/auth/services.py. users.failed_logins, failure_window_start, failures_in_window and
locked_until are no longer read or written; they are kept (not dropped) so this revision can be
rolled back without losing data.

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-02 12:00:00
"""
from alembic import op
import sqlalchemy as sa


revision = '0009'
down_revision = '0008'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('login_throttles',
    sa.Column('kind', sa.String(length=8), nullable=False),
    sa.Column('key', sa.String(length=160), nullable=False),
    sa.Column('failures', sa.Integer(), nullable=False),
    sa.Column('window_start', sa.DateTime(), nullable=False),
    sa.Column('blocked_until', sa.DateTime(), nullable=True),
    sa.CheckConstraint("kind IN ('pair', 'account', 'address')", name=op.f('ck_login_throttles_kind')),
    sa.CheckConstraint('failures >= 0', name=op.f('ck_login_throttles_failures')),
    sa.PrimaryKeyConstraint('kind', 'key', name=op.f('pk_login_throttles'))
    )
    with op.batch_alter_table('login_throttles', schema=None) as batch_op:
        batch_op.create_index('ix_login_throttles_window_start', ['window_start'], unique=False)


def downgrade() -> None:
    with op.batch_alter_table('login_throttles', schema=None) as batch_op:
        batch_op.drop_index('ix_login_throttles_window_start')

    op.drop_table('login_throttles')
