"""campaign tasks: campaigns, stages, tasks (规定动作/自选动作) and submissions (issue #6)

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-22 03:58:14.261291
"""
from alembic import op
import sqlalchemy as sa


revision = '0004'
down_revision = '0003'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('campaigns',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('name', sa.String(length=120), nullable=False),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_campaigns'))
    )
    op.create_table('campaign_stages',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('campaign_id', sa.Integer(), nullable=False),
    sa.Column('code', sa.String(length=10), nullable=False),
    sa.Column('name', sa.String(length=64), nullable=False),
    sa.Column('starts_on', sa.Date(), nullable=False),
    sa.Column('ends_on', sa.Date(), nullable=False),
    sa.Column('description', sa.Text(), nullable=False),
    sa.CheckConstraint("code IN ('study', 'rectify', 'summary')", name=op.f('ck_campaign_stages_code')),
    sa.CheckConstraint('ends_on >= starts_on', name=op.f('ck_campaign_stages_dates')),
    sa.ForeignKeyConstraint(['campaign_id'], ['campaigns.id'], name=op.f('fk_campaign_stages_campaign_id_campaigns'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_campaign_stages')),
    sa.UniqueConstraint('campaign_id', 'code', name='uq_campaign_stages_campaign_code')
    )
    op.create_table('tasks',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('stage_id', sa.Integer(), nullable=False),
    sa.Column('kind', sa.String(length=12), nullable=False),
    sa.Column('required', sa.Boolean(), nullable=False),
    sa.Column('title', sa.String(length=120), nullable=False),
    sa.Column('description', sa.Text(), nullable=False),
    sa.Column('target_unit_id', sa.Integer(), nullable=True),
    sa.Column('due_at', sa.DateTime(), nullable=False),
    sa.Column('item_id', sa.Integer(), nullable=True),
    sa.Column('min_chars', sa.Integer(), nullable=False),
    sa.Column('created_by_id', sa.Integer(), nullable=True),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.CheckConstraint("kind IN ('read', 'reflection', 'event', 'proof')", name=op.f('ck_tasks_kind')),
    sa.CheckConstraint('min_chars >= 0 AND min_chars <= 5000', name=op.f('ck_tasks_min_chars')),
    sa.ForeignKeyConstraint(['created_by_id'], ['users.id'], name=op.f('fk_tasks_created_by_id_users'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['item_id'], ['study_items.id'], name=op.f('fk_tasks_item_id_study_items'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['stage_id'], ['campaign_stages.id'], name=op.f('fk_tasks_stage_id_campaign_stages'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['target_unit_id'], ['units.id'], name=op.f('fk_tasks_target_unit_id_units'), ondelete='RESTRICT'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_tasks'))
    )
    with op.batch_alter_table('tasks', schema=None) as batch_op:
        batch_op.create_index('ix_tasks_stage_due', ['stage_id', 'due_at'], unique=False)
        batch_op.create_index(batch_op.f('ix_tasks_target_unit_id'), ['target_unit_id'], unique=False)

    op.create_table('task_submissions',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('task_id', sa.Integer(), nullable=False),
    sa.Column('user_id', sa.Integer(), nullable=False),
    sa.Column('status', sa.String(length=10), nullable=False),
    sa.Column('text', sa.Text(), nullable=False),
    sa.Column('photos', sa.JSON(), nullable=False),
    sa.Column('review_comment', sa.String(length=500), nullable=False),
    sa.Column('reviewed_by_id', sa.Integer(), nullable=True),
    sa.Column('submitted_at', sa.DateTime(), nullable=True),
    sa.Column('reviewed_at', sa.DateTime(), nullable=True),
    sa.Column('updated_at', sa.DateTime(), nullable=False),
    sa.CheckConstraint("status IN ('draft', 'submitted', 'accepted', 'returned')", name=op.f('ck_task_submissions_status')),
    sa.ForeignKeyConstraint(['reviewed_by_id'], ['users.id'], name=op.f('fk_task_submissions_reviewed_by_id_users'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['task_id'], ['tasks.id'], name=op.f('fk_task_submissions_task_id_tasks'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['user_id'], ['users.id'], name=op.f('fk_task_submissions_user_id_users'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_task_submissions')),
    sa.UniqueConstraint('task_id', 'user_id', name='uq_task_submissions_task_user')
    )
    with op.batch_alter_table('task_submissions', schema=None) as batch_op:
        batch_op.create_index('ix_task_submissions_user_status', ['user_id', 'status'], unique=False)



def downgrade() -> None:
    with op.batch_alter_table('task_submissions', schema=None) as batch_op:
        batch_op.drop_index('ix_task_submissions_user_status')

    op.drop_table('task_submissions')
    with op.batch_alter_table('tasks', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_tasks_target_unit_id'))
        batch_op.drop_index('ix_tasks_stage_due')

    op.drop_table('tasks')
    op.drop_table('campaign_stages')
    op.drop_table('campaigns')
