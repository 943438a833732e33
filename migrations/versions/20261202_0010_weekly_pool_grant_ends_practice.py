"""weekly pool size, grant ends, daily practice (issue #14)

exam_blueprints.pool_multiple: the week's pool is this many times what a paper draws.
exam_grants.ends_at: every make-up and extra time ends (default 48 h after the close, at most
7 days); existing grants end 48 h after their exam's close, or later for a longer make-up.
practice_sets / practice_items / practice_cards: 每日一练 with FSRS scheduling.

Revision ID: 0010
Revises: 0009
Create Date: 2026-12-02 19:20:00
"""
from alembic import op
import sqlalchemy as sa


revision = '0010'
down_revision = '0009'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('exam_blueprints', schema=None) as batch_op:
        batch_op.add_column(sa.Column('pool_multiple', sa.Integer(), server_default='3', nullable=False))

    with op.batch_alter_table('exam_grants', schema=None) as batch_op:
        batch_op.add_column(sa.Column('ends_at', sa.DateTime(), nullable=True))
    grants = sa.table('exam_grants', sa.column('id', sa.Integer), sa.column('exam_id', sa.Integer),
                      sa.column('kind', sa.String), sa.column('minutes', sa.Integer),
                      sa.column('ends_at', sa.DateTime))
    exams = sa.table('exams', sa.column('id', sa.Integer), sa.column('closes_at', sa.DateTime))
    conn = op.get_bind()
    rows = conn.execute(sa.select(grants.c.id, grants.c.kind, grants.c.minutes, exams.c.closes_at)
                        .join(exams, exams.c.id == grants.c.exam_id)).all()
    from datetime import timedelta
    for gid, kind, minutes, closes_at in rows:
        extra = min(max(minutes or 0, 2880) if kind == 'makeup' else 2880, 7 * 1440)
        conn.execute(grants.update().where(grants.c.id == gid).values(ends_at=closes_at + timedelta(minutes=extra)))
    with op.batch_alter_table('exam_grants', schema=None) as batch_op:
        batch_op.alter_column('ends_at', existing_type=sa.DateTime(), nullable=False)

    op.create_table('practice_sets',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('user_id', sa.Integer(), nullable=False),
    sa.Column('day', sa.Date(), nullable=False),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.Column('completed_at', sa.DateTime(), nullable=True),
    sa.ForeignKeyConstraint(['user_id'], ['users.id'], name=op.f('fk_practice_sets_user_id_users'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_practice_sets')),
    sa.UniqueConstraint('user_id', 'day', name='uq_practice_sets_user_day')
    )
    op.create_table('practice_items',
    sa.Column('set_id', sa.Integer(), nullable=False),
    sa.Column('position', sa.Integer(), nullable=False),
    sa.Column('question_id', sa.Integer(), nullable=False),
    sa.Column('question_version_id', sa.Integer(), nullable=False),
    sa.Column('answer', sa.JSON(), nullable=True),
    sa.Column('is_correct', sa.Boolean(), nullable=True),
    sa.Column('answered_at', sa.DateTime(), nullable=True),
    sa.ForeignKeyConstraint(['question_id'], ['questions.id'], name=op.f('fk_practice_items_question_id_questions'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['question_version_id'], ['question_versions.id'], name=op.f('fk_practice_items_question_version_id_question_versions'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['set_id'], ['practice_sets.id'], name=op.f('fk_practice_items_set_id_practice_sets'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('set_id', 'position', name=op.f('pk_practice_items')),
    sa.UniqueConstraint('set_id', 'question_version_id', name='uq_practice_items_set_version')
    )
    op.create_table('practice_cards',
    sa.Column('user_id', sa.Integer(), nullable=False),
    sa.Column('question_id', sa.Integer(), nullable=False),
    sa.Column('due', sa.DateTime(), nullable=False),
    sa.Column('stability', sa.Float(), nullable=False),
    sa.Column('reviews', sa.Integer(), nullable=False),
    sa.Column('lapses', sa.Integer(), nullable=False),
    sa.Column('last_review', sa.DateTime(), nullable=False),
    sa.Column('card', sa.JSON(), nullable=False),
    sa.ForeignKeyConstraint(['question_id'], ['questions.id'], name=op.f('fk_practice_cards_question_id_questions'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['user_id'], ['users.id'], name=op.f('fk_practice_cards_user_id_users'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('user_id', 'question_id', name=op.f('pk_practice_cards'))
    )
    with op.batch_alter_table('practice_cards', schema=None) as batch_op:
        batch_op.create_index('ix_practice_cards_user_due', ['user_id', 'due'], unique=False)


def downgrade() -> None:
    with op.batch_alter_table('practice_cards', schema=None) as batch_op:
        batch_op.drop_index('ix_practice_cards_user_due')
    op.drop_table('practice_cards')
    op.drop_table('practice_items')
    op.drop_table('practice_sets')
    with op.batch_alter_table('exam_grants', schema=None) as batch_op:
        batch_op.drop_column('ends_at')
    with op.batch_alter_table('exam_blueprints', schema=None) as batch_op:
        batch_op.drop_column('pool_multiple')
