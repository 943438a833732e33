"""weekly report snapshots (issue #5); withdrawn tasks (issue #6)

Per-unit sums of each closed week, taken once by the Monday job (app/reports/snapshots.py),
and tasks.withdrawn_at / withdrawn_by_id: a withdrawn task is hidden from officers and from
the unit figures while its submissions stay on record.

Revision ID: 0008
Revises: 0007
Create Date: 2026-11-22 06:03:03.127119
"""
from alembic import op
import sqlalchemy as sa


revision = '0008'
down_revision = '0007'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('report_snapshots',
    sa.Column('week', sa.String(length=8), nullable=False),
    sa.Column('target_seconds', sa.Integer(), nullable=False),
    sa.Column('taken_at', sa.DateTime(), nullable=False),
    sa.PrimaryKeyConstraint('week', name=op.f('pk_report_snapshots'))
    )
    op.create_table('report_snapshot_units',
    sa.Column('week', sa.String(length=8), nullable=False),
    sa.Column('unit_id', sa.Integer(), nullable=False),
    sa.Column('officers', sa.Integer(), nullable=False),
    sa.Column('target_met', sa.Integer(), nullable=False),
    sa.Column('study_seconds', sa.BigInteger(), nullable=False),
    sa.Column('participants', sa.Integer(), nullable=False),
    sa.Column('pending', sa.Integer(), nullable=False),
    sa.Column('score_sum', sa.Float(), nullable=False),
    sa.Column('passed', sa.Integer(), nullable=False),
    sa.Column('tasks_due', sa.Integer(), nullable=False),
    sa.Column('tasks_done', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['unit_id'], ['units.id'], name=op.f('fk_report_snapshot_units_unit_id_units'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['week'], ['report_snapshots.week'], name=op.f('fk_report_snapshot_units_week_report_snapshots'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('week', 'unit_id', name=op.f('pk_report_snapshot_units'))
    )
    with op.batch_alter_table('tasks', schema=None) as batch_op:
        batch_op.add_column(sa.Column('withdrawn_at', sa.DateTime(), nullable=True))
        batch_op.add_column(sa.Column('withdrawn_by_id', sa.Integer(), nullable=True))
        batch_op.create_foreign_key(batch_op.f('fk_tasks_withdrawn_by_id_users'), 'users', ['withdrawn_by_id'], ['id'],
                                    ondelete='SET NULL')


def downgrade() -> None:
    with op.batch_alter_table('tasks', schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f('fk_tasks_withdrawn_by_id_users'), type_='foreignkey')
        batch_op.drop_column('withdrawn_by_id')
        batch_op.drop_column('withdrawn_at')
    op.drop_table('report_snapshot_units')
    op.drop_table('report_snapshots')
