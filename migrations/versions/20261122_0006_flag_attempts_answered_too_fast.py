"""flag attempts answered too fast

Revision ID: 0006
Revises: 0005
Create Date: 2026-11-22 04:38:07.862503
"""
from alembic import op
import sqlalchemy as sa


revision = '0006'
down_revision = '0005'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('attempts', schema=None) as batch_op:
        batch_op.add_column(sa.Column('burst_started_at', sa.DateTime(), nullable=True))
        batch_op.add_column(sa.Column('burst_saves', sa.Integer(), server_default='0', nullable=False))
        batch_op.add_column(sa.Column('flagged', sa.String(length=16), nullable=True))



def downgrade() -> None:
    with op.batch_alter_table('attempts', schema=None) as batch_op:
        batch_op.drop_column('flagged')
        batch_op.drop_column('burst_saves')
        batch_op.drop_column('burst_started_at')

