"""covering index for weekly study sums

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-22 04:15:34.943290
"""
from alembic import op
import sqlalchemy as sa


revision = '0005'
down_revision = '0004'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('study_days', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_study_days_day'))
        batch_op.create_index('ix_study_days_day_user_seconds', ['day', 'user_id', 'seconds'], unique=False)



def downgrade() -> None:
    with op.batch_alter_table('study_days', schema=None) as batch_op:
        batch_op.drop_index('ix_study_days_day_user_seconds')
        batch_op.create_index(batch_op.f('ix_study_days_day'), ['day'], unique=False)

