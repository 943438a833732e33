"""study, question bank, exams, notifications

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-22 02:42:31.827410
"""
from alembic import op
import sqlalchemy as sa


revision = '0002'
down_revision = '0001'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('exams',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('week', sa.String(length=8), nullable=False),
    sa.Column('scope', sa.String(length=16), nullable=False),
    sa.Column('title', sa.String(length=120), nullable=False),
    sa.Column('opens_at', sa.DateTime(), nullable=False),
    sa.Column('closes_at', sa.DateTime(), nullable=False),
    sa.Column('duration_minutes', sa.Integer(), nullable=False),
    sa.Column('pass_mark', sa.Integer(), nullable=False),
    sa.Column('reveal_policy', sa.String(length=16), nullable=True),
    sa.Column('multiple_partial', sa.Boolean(), nullable=False),
    sa.Column('blueprint', sa.JSON(), nullable=False),
    sa.Column('status', sa.String(length=10), nullable=False),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.CheckConstraint("status IN ('generating', 'ready')", name=op.f('ck_exams_status')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_exams')),
    sa.UniqueConstraint('week', 'scope', name='uq_exams_week_scope')
    )
    op.create_table('job_runs',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('job_name', sa.String(length=40), nullable=False),
    sa.Column('period_key', sa.String(length=32), nullable=False),
    sa.Column('started_at', sa.DateTime(), nullable=False),
    sa.Column('detail', sa.String(length=255), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_job_runs')),
    sa.UniqueConstraint('job_name', 'period_key', name='uq_job_runs_job_period')
    )
    op.create_table('questions',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('bank_id', sa.String(length=64), nullable=False),
    sa.Column('module', sa.String(length=20), nullable=False),
    sa.Column('qtype', sa.String(length=10), nullable=False),
    sa.Column('difficulty', sa.Integer(), nullable=False),
    sa.Column('tags', sa.JSON(), nullable=False),
    sa.Column('source', sa.String(length=200), nullable=False),
    sa.Column('is_retired', sa.Boolean(), nullable=False),
    sa.Column('current_version_id', sa.Integer(), nullable=True),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.Column('updated_at', sa.DateTime(), nullable=False),
    sa.CheckConstraint("module IN ('theory', 'political', 'party_history', 'warning', 'role_model')", name=op.f('ck_questions_module')),
    sa.CheckConstraint("qtype IN ('single', 'multiple', 'truefalse', 'fill')", name=op.f('ck_questions_qtype')),
    sa.CheckConstraint('difficulty BETWEEN 1 AND 3', name=op.f('ck_questions_difficulty')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_questions')),
    sa.UniqueConstraint('bank_id', name=op.f('uq_questions_bank_id'))
    )
    with op.batch_alter_table('questions', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_questions_module'), ['module'], unique=False)

    op.create_table('question_versions',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('question_id', sa.Integer(), nullable=False),
    sa.Column('version', sa.Integer(), nullable=False),
    sa.Column('stem', sa.Text(), nullable=False),
    sa.Column('options', sa.JSON(), nullable=False),
    sa.Column('answer', sa.JSON(), nullable=False),
    sa.Column('explanation', sa.Text(), nullable=False),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.ForeignKeyConstraint(['question_id'], ['questions.id'], name=op.f('fk_question_versions_question_id_questions'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_question_versions')),
    sa.UniqueConstraint('question_id', 'version', name='uq_question_versions_question_version')
    )
    with op.batch_alter_table('question_versions', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_question_versions_question_id'), ['question_id'], unique=False)

    op.create_table('attempts',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('exam_id', sa.Integer(), nullable=False),
    sa.Column('user_id', sa.Integer(), nullable=False),
    sa.Column('attempt_no', sa.Integer(), nullable=False),
    sa.Column('seed', sa.BigInteger(), nullable=False),
    sa.Column('status', sa.String(length=12), nullable=False),
    sa.Column('started_at', sa.DateTime(), nullable=False),
    sa.Column('deadline', sa.DateTime(), nullable=False),
    sa.Column('finished_at', sa.DateTime(), nullable=True),
    sa.Column('finish_reason', sa.String(length=10), nullable=True),
    sa.Column('seq', sa.Integer(), nullable=False),
    sa.Column('score', sa.Float(), nullable=True),
    sa.Column('passed', sa.Boolean(), nullable=True),
    sa.CheckConstraint("status IN ('in_progress', 'finished')", name=op.f('ck_attempts_status')),
    sa.ForeignKeyConstraint(['exam_id'], ['exams.id'], name=op.f('fk_attempts_exam_id_exams'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['user_id'], ['users.id'], name=op.f('fk_attempts_user_id_users'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_attempts')),
    sa.UniqueConstraint('exam_id', 'user_id', 'attempt_no', name='uq_attempts_exam_user_no')
    )
    with op.batch_alter_table('attempts', schema=None) as batch_op:
        batch_op.create_index('ix_attempts_status_deadline', ['status', 'deadline'], unique=False)
        batch_op.create_index('ix_attempts_user', ['user_id'], unique=False)

    op.create_table('exam_blueprints',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('rules', sa.JSON(), nullable=False),
    sa.Column('points', sa.JSON(), nullable=False),
    sa.Column('duration_minutes', sa.Integer(), nullable=False),
    sa.Column('opens_offset_minutes', sa.Integer(), nullable=False),
    sa.Column('closes_offset_minutes', sa.Integer(), nullable=False),
    sa.Column('pass_mark', sa.Integer(), nullable=False),
    sa.Column('reveal_policy', sa.String(length=16), nullable=True),
    sa.Column('multiple_partial', sa.Boolean(), nullable=False),
    sa.Column('avoid_recent_weeks', sa.Integer(), nullable=False),
    sa.Column('created_by_id', sa.Integer(), nullable=True),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.ForeignKeyConstraint(['created_by_id'], ['users.id'], name=op.f('fk_exam_blueprints_created_by_id_users'), ondelete='SET NULL'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_exam_blueprints'))
    )
    op.create_table('exam_grants',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('exam_id', sa.Integer(), nullable=False),
    sa.Column('user_id', sa.Integer(), nullable=False),
    sa.Column('kind', sa.String(length=12), nullable=False),
    sa.Column('minutes', sa.Integer(), nullable=False),
    sa.Column('reason', sa.String(length=200), nullable=False),
    sa.Column('granted_by_id', sa.Integer(), nullable=True),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.CheckConstraint("kind IN ('extra_time', 'makeup')", name=op.f('ck_exam_grants_kind')),
    sa.ForeignKeyConstraint(['exam_id'], ['exams.id'], name=op.f('fk_exam_grants_exam_id_exams'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['granted_by_id'], ['users.id'], name=op.f('fk_exam_grants_granted_by_id_users'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['user_id'], ['users.id'], name=op.f('fk_exam_grants_user_id_users'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_exam_grants'))
    )
    with op.batch_alter_table('exam_grants', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_exam_grants_exam_id'), ['exam_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_exam_grants_user_id'), ['user_id'], unique=False)

    op.create_table('exam_pool',
    sa.Column('exam_id', sa.Integer(), nullable=False),
    sa.Column('question_version_id', sa.Integer(), nullable=False),
    sa.Column('question_id', sa.Integer(), nullable=False),
    sa.Column('qtype', sa.String(length=10), nullable=False),
    sa.Column('module', sa.String(length=20), nullable=False),
    sa.Column('difficulty', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['exam_id'], ['exams.id'], name=op.f('fk_exam_pool_exam_id_exams'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['question_id'], ['questions.id'], name=op.f('fk_exam_pool_question_id_questions'), ondelete='RESTRICT'),
    sa.ForeignKeyConstraint(['question_version_id'], ['question_versions.id'], name=op.f('fk_exam_pool_question_version_id_question_versions'), ondelete='RESTRICT'),
    sa.PrimaryKeyConstraint('exam_id', 'question_version_id', name=op.f('pk_exam_pool'))
    )
    op.create_table('notifications',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('user_id', sa.Integer(), nullable=False),
    sa.Column('kind', sa.String(length=24), nullable=False),
    sa.Column('title', sa.String(length=120), nullable=False),
    sa.Column('body', sa.Text(), nullable=False),
    sa.Column('link', sa.String(length=200), nullable=True),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.Column('read_at', sa.DateTime(), nullable=True),
    sa.ForeignKeyConstraint(['user_id'], ['users.id'], name=op.f('fk_notifications_user_id_users'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_notifications'))
    )
    with op.batch_alter_table('notifications', schema=None) as batch_op:
        batch_op.create_index('ix_notifications_user_read', ['user_id', 'read_at'], unique=False)

    op.create_table('study_cursors',
    sa.Column('user_id', sa.Integer(), nullable=False),
    sa.Column('last_beat_at', sa.DateTime(), nullable=False),
    sa.ForeignKeyConstraint(['user_id'], ['users.id'], name=op.f('fk_study_cursors_user_id_users'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('user_id', name=op.f('pk_study_cursors'))
    )
    op.create_table('study_days',
    sa.Column('user_id', sa.Integer(), nullable=False),
    sa.Column('day', sa.Date(), nullable=False),
    sa.Column('seconds', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['user_id'], ['users.id'], name=op.f('fk_study_days_user_id_users'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('user_id', 'day', name=op.f('pk_study_days'))
    )
    with op.batch_alter_table('study_days', schema=None) as batch_op:
        batch_op.create_index('ix_study_days_day', ['day'], unique=False)

    op.create_table('study_flags',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('user_id', sa.Integer(), nullable=False),
    sa.Column('week', sa.String(length=8), nullable=False),
    sa.Column('reason', sa.String(length=20), nullable=False),
    sa.Column('detail', sa.String(length=255), nullable=False),
    sa.Column('status', sa.String(length=10), nullable=False),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.Column('reviewed_by_id', sa.Integer(), nullable=True),
    sa.Column('reviewed_at', sa.DateTime(), nullable=True),
    sa.CheckConstraint("reason IN ('night', 'uniform', 'no_interaction')", name=op.f('ck_study_flags_reason')),
    sa.CheckConstraint("status IN ('open', 'dismissed', 'voided')", name=op.f('ck_study_flags_status')),
    sa.ForeignKeyConstraint(['reviewed_by_id'], ['users.id'], name=op.f('fk_study_flags_reviewed_by_id_users'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['user_id'], ['users.id'], name=op.f('fk_study_flags_user_id_users'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_study_flags')),
    sa.UniqueConstraint('user_id', 'week', 'reason', name='uq_study_flags_user_week_reason')
    )
    with op.batch_alter_table('study_flags', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_study_flags_user_id'), ['user_id'], unique=False)

    op.create_table('study_items',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('slug', sa.String(length=64), nullable=False),
    sa.Column('module', sa.String(length=20), nullable=False),
    sa.Column('kind', sa.String(length=10), nullable=False),
    sa.Column('title', sa.String(length=120), nullable=False),
    sa.Column('summary', sa.String(length=200), nullable=False),
    sa.Column('body_html', sa.Text(), nullable=False),
    sa.Column('media_file', sa.String(length=80), nullable=True),
    sa.Column('media_type', sa.String(length=40), nullable=True),
    sa.Column('media_url', sa.String(length=255), nullable=True),
    sa.Column('credited_minutes', sa.Integer(), nullable=False),
    sa.Column('required', sa.Boolean(), nullable=False),
    sa.Column('stage', sa.String(length=10), nullable=False),
    sa.Column('target_unit_id', sa.Integer(), nullable=True),
    sa.Column('publish_at', sa.DateTime(), nullable=True),
    sa.Column('unpublish_at', sa.DateTime(), nullable=True),
    sa.Column('is_published', sa.Boolean(), nullable=False),
    sa.Column('sort_order', sa.Integer(), nullable=False),
    sa.Column('created_by_id', sa.Integer(), nullable=True),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.Column('updated_at', sa.DateTime(), nullable=False),
    sa.CheckConstraint("kind IN ('article', 'video', 'document')", name=op.f('ck_study_items_kind')),
    sa.CheckConstraint("module IN ('theory', 'political', 'party_history', 'warning', 'role_model')", name=op.f('ck_study_items_module')),
    sa.CheckConstraint("stage IN ('study', 'rectify', 'summary')", name=op.f('ck_study_items_stage')),
    sa.CheckConstraint('credited_minutes > 0 AND credited_minutes <= 600', name=op.f('ck_study_items_credited_minutes')),
    sa.ForeignKeyConstraint(['created_by_id'], ['users.id'], name=op.f('fk_study_items_created_by_id_users'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['target_unit_id'], ['units.id'], name=op.f('fk_study_items_target_unit_id_units'), ondelete='RESTRICT'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_study_items')),
    sa.UniqueConstraint('slug', name=op.f('uq_study_items_slug'))
    )
    with op.batch_alter_table('study_items', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_study_items_module'), ['module'], unique=False)

    op.create_table('study_policies',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('effective_from', sa.DateTime(), nullable=False),
    sa.Column('heartbeat_seconds', sa.Integer(), nullable=False),
    sa.Column('slack_seconds', sa.Integer(), nullable=False),
    sa.Column('min_gap_seconds', sa.Integer(), nullable=False),
    sa.Column('idle_seconds', sa.Integer(), nullable=False),
    sa.Column('item_cap_multiple', sa.Float(), nullable=False),
    sa.Column('daily_cap_seconds', sa.Integer(), nullable=False),
    sa.Column('daily_target_seconds', sa.Integer(), nullable=False),
    sa.Column('weekly_target_seconds', sa.Integer(), nullable=False),
    sa.Column('created_by_id', sa.Integer(), nullable=True),
    sa.ForeignKeyConstraint(['created_by_id'], ['users.id'], name=op.f('fk_study_policies_created_by_id_users'), ondelete='SET NULL'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_study_policies'))
    )
    op.create_table('attempt_questions',
    sa.Column('attempt_id', sa.Integer(), nullable=False),
    sa.Column('position', sa.Integer(), nullable=False),
    sa.Column('question_version_id', sa.Integer(), nullable=False),
    sa.Column('points', sa.Float(), nullable=False),
    sa.Column('option_map', sa.JSON(), nullable=False),
    sa.Column('answer', sa.JSON(), nullable=True),
    sa.Column('answer_seq', sa.Integer(), nullable=False),
    sa.Column('answered_at', sa.DateTime(), nullable=True),
    sa.Column('is_correct', sa.Boolean(), nullable=True),
    sa.Column('points_awarded', sa.Float(), nullable=True),
    sa.ForeignKeyConstraint(['attempt_id'], ['attempts.id'], name=op.f('fk_attempt_questions_attempt_id_attempts'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['question_version_id'], ['question_versions.id'], name=op.f('fk_attempt_questions_question_version_id_question_versions'), ondelete='RESTRICT'),
    sa.PrimaryKeyConstraint('attempt_id', 'position', name=op.f('pk_attempt_questions'))
    )
    op.create_table('study_beats',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('user_id', sa.Integer(), nullable=False),
    sa.Column('item_id', sa.Integer(), nullable=False),
    sa.Column('received_at', sa.DateTime(), nullable=False),
    sa.Column('day', sa.Date(), nullable=False),
    sa.Column('credited_seconds', sa.Integer(), nullable=False),
    sa.Column('policy_id', sa.Integer(), nullable=False),
    sa.Column('inputs', sa.SmallInteger(), nullable=False),
    sa.Column('scroll_pct', sa.SmallInteger(), nullable=True),
    sa.Column('media_seconds', sa.Integer(), nullable=True),
    sa.ForeignKeyConstraint(['item_id'], ['study_items.id'], name=op.f('fk_study_beats_item_id_study_items'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['policy_id'], ['study_policies.id'], name=op.f('fk_study_beats_policy_id_study_policies'), ondelete='RESTRICT'),
    sa.ForeignKeyConstraint(['user_id'], ['users.id'], name=op.f('fk_study_beats_user_id_users'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_study_beats'))
    )
    with op.batch_alter_table('study_beats', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_study_beats_item_id'), ['item_id'], unique=False)
        batch_op.create_index('ix_study_beats_user_day', ['user_id', 'day'], unique=False)

    op.create_table('study_progress',
    sa.Column('user_id', sa.Integer(), nullable=False),
    sa.Column('item_id', sa.Integer(), nullable=False),
    sa.Column('seconds', sa.Integer(), nullable=False),
    sa.Column('done', sa.Boolean(), nullable=False),
    sa.Column('position', sa.Integer(), nullable=False),
    sa.Column('updated_at', sa.DateTime(), nullable=False),
    sa.Column('completed_at', sa.DateTime(), nullable=True),
    sa.ForeignKeyConstraint(['item_id'], ['study_items.id'], name=op.f('fk_study_progress_item_id_study_items'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['user_id'], ['users.id'], name=op.f('fk_study_progress_user_id_users'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('user_id', 'item_id', name=op.f('pk_study_progress'))
    )


def downgrade() -> None:
    op.drop_table('study_progress')
    with op.batch_alter_table('study_beats', schema=None) as batch_op:
        batch_op.drop_index('ix_study_beats_user_day')
        batch_op.drop_index(batch_op.f('ix_study_beats_item_id'))

    op.drop_table('study_beats')
    op.drop_table('attempt_questions')
    op.drop_table('study_policies')
    with op.batch_alter_table('study_items', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_study_items_module'))

    op.drop_table('study_items')
    with op.batch_alter_table('study_flags', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_study_flags_user_id'))

    op.drop_table('study_flags')
    with op.batch_alter_table('study_days', schema=None) as batch_op:
        batch_op.drop_index('ix_study_days_day')

    op.drop_table('study_days')
    op.drop_table('study_cursors')
    with op.batch_alter_table('notifications', schema=None) as batch_op:
        batch_op.drop_index('ix_notifications_user_read')

    op.drop_table('notifications')
    op.drop_table('exam_pool')
    with op.batch_alter_table('exam_grants', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_exam_grants_user_id'))
        batch_op.drop_index(batch_op.f('ix_exam_grants_exam_id'))

    op.drop_table('exam_grants')
    op.drop_table('exam_blueprints')
    with op.batch_alter_table('attempts', schema=None) as batch_op:
        batch_op.drop_index('ix_attempts_user')
        batch_op.drop_index('ix_attempts_status_deadline')

    op.drop_table('attempts')
    with op.batch_alter_table('question_versions', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_question_versions_question_id'))

    op.drop_table('question_versions')
    with op.batch_alter_table('questions', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_questions_module'))

    op.drop_table('questions')
    op.drop_table('job_runs')
    op.drop_table('exams')
