"""谈心谈话 records (issue 17 point 4)

talks: a talk with an officer (day, kind, topics) recorded by a leader, supervisor or inspector;
the note is a Fernet token under FORMS_KEYS.

Revision ID: 0014
Revises: 0013
Create Date: 2026-12-03 01:00:00
"""
from alembic import op
import sqlalchemy as sa


revision = '0014'
down_revision = '0013'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('talks',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('officer_id', sa.Integer(), nullable=False),
    sa.Column('recorder_id', sa.Integer(), nullable=False),
    sa.Column('talked_on', sa.Date(), nullable=False),
    sa.Column('kind', sa.String(length=10), nullable=False),
    sa.Column('topics', sa.String(length=120), nullable=False),
    sa.Column('note_token', sa.Text(), nullable=False),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.CheckConstraint("kind IN ('heart', 'reminder', 'admonish', 'home')", name=op.f('ck_talks_kind')),
    sa.ForeignKeyConstraint(['officer_id'], ['users.id'], name=op.f('fk_talks_officer_id_users'), ondelete='RESTRICT'),
    sa.ForeignKeyConstraint(['recorder_id'], ['users.id'], name=op.f('fk_talks_recorder_id_users'), ondelete='RESTRICT'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_talks'))
    )
    with op.batch_alter_table('talks', schema=None) as batch_op:
        batch_op.create_index('ix_talks_officer_talked_on', ['officer_id', 'talked_on'], unique=False)
        batch_op.create_index(batch_op.f('ix_talks_recorder_id'), ['recorder_id'], unique=False)


def downgrade() -> None:
    with op.batch_alter_table('talks', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_talks_recorder_id'))
        batch_op.drop_index('ix_talks_officer_talked_on')
    op.drop_table('talks')
