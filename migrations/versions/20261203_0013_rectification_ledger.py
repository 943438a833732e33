"""rectification ledger (整改台账) and supervision orders (督办令), issue 17 point 3

ledger_items: problems found per unit (source, one of the six 顽瘴痼疾 or other, measures, the
person responsible, a deadline, the unit's evidence text, status open/submitted/closed/returned,
the day of the last overdue reminder); ledger_evidence: photos and PDFs of an item;
supervision_orders / supervision_targets: the office's orders and each unit's response or
escalation.

Revision ID: 0013
Revises: 0012
Create Date: 2026-12-03 00:00:00
"""
from alembic import op
import sqlalchemy as sa


revision = '0013'
down_revision = '0012'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('ledger_items',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('unit_id', sa.Integer(), nullable=False),
    sa.Column('source', sa.String(length=12), nullable=False),
    sa.Column('category', sa.String(length=16), nullable=False),
    sa.Column('description', sa.Text(), nullable=False),
    sa.Column('measures', sa.Text(), nullable=False),
    sa.Column('responsible_id', sa.Integer(), nullable=False),
    sa.Column('deadline', sa.Date(), nullable=False),
    sa.Column('status', sa.String(length=10), nullable=False),
    sa.Column('evidence_text', sa.Text(), nullable=False),
    sa.Column('return_reason', sa.String(length=500), nullable=False),
    sa.Column('created_by_id', sa.Integer(), nullable=True),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.Column('submitted_by_id', sa.Integer(), nullable=True),
    sa.Column('submitted_at', sa.DateTime(), nullable=True),
    sa.Column('reviewed_by_id', sa.Integer(), nullable=True),
    sa.Column('reviewed_at', sa.DateTime(), nullable=True),
    sa.Column('closed_at', sa.DateTime(), nullable=True),
    sa.Column('last_reminded_on', sa.Date(), nullable=True),
    sa.Column('updated_at', sa.DateTime(), nullable=False),
    sa.CheckConstraint("category IN ('interference', 'business', 'lending', 'cases', 'sentence', 'lawyer', 'other')", name=op.f('ck_ledger_items_category')),
    sa.CheckConstraint("source IN ('self', 'org', 'inspection', 'public')", name=op.f('ck_ledger_items_source')),
    sa.CheckConstraint("status IN ('open', 'submitted', 'closed', 'returned')", name=op.f('ck_ledger_items_status')),
    sa.ForeignKeyConstraint(['created_by_id'], ['users.id'], name=op.f('fk_ledger_items_created_by_id_users'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['responsible_id'], ['users.id'], name=op.f('fk_ledger_items_responsible_id_users'), ondelete='RESTRICT'),
    sa.ForeignKeyConstraint(['reviewed_by_id'], ['users.id'], name=op.f('fk_ledger_items_reviewed_by_id_users'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['submitted_by_id'], ['users.id'], name=op.f('fk_ledger_items_submitted_by_id_users'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['unit_id'], ['units.id'], name=op.f('fk_ledger_items_unit_id_units'), ondelete='RESTRICT'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_ledger_items'))
    )
    with op.batch_alter_table('ledger_items', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_ledger_items_responsible_id'), ['responsible_id'], unique=False)
        batch_op.create_index('ix_ledger_items_status_deadline', ['status', 'deadline'], unique=False)
        batch_op.create_index('ix_ledger_items_unit_status', ['unit_id', 'status'], unique=False)

    op.create_table('supervision_orders',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('title', sa.String(length=120), nullable=False),
    sa.Column('body', sa.Text(), nullable=False),
    sa.Column('deadline', sa.Date(), nullable=False),
    sa.Column('created_by_id', sa.Integer(), nullable=True),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.ForeignKeyConstraint(['created_by_id'], ['users.id'], name=op.f('fk_supervision_orders_created_by_id_users'), ondelete='SET NULL'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_supervision_orders'))
    )
    op.create_table('ledger_evidence',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('item_id', sa.Integer(), nullable=False),
    sa.Column('kind', sa.String(length=8), nullable=False),
    sa.Column('file_name', sa.String(length=48), nullable=False),
    sa.Column('size', sa.Integer(), nullable=False),
    sa.Column('uploaded_by_id', sa.Integer(), nullable=True),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.CheckConstraint("kind IN ('photo', 'pdf')", name=op.f('ck_ledger_evidence_kind')),
    sa.ForeignKeyConstraint(['item_id'], ['ledger_items.id'], name=op.f('fk_ledger_evidence_item_id_ledger_items'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['uploaded_by_id'], ['users.id'], name=op.f('fk_ledger_evidence_uploaded_by_id_users'), ondelete='SET NULL'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_ledger_evidence'))
    )
    with op.batch_alter_table('ledger_evidence', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_ledger_evidence_item_id'), ['item_id'], unique=False)

    op.create_table('supervision_targets',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('order_id', sa.Integer(), nullable=False),
    sa.Column('unit_id', sa.Integer(), nullable=False),
    sa.Column('response_text', sa.Text(), nullable=False),
    sa.Column('attachment', sa.String(length=48), nullable=True),
    sa.Column('attachment_kind', sa.String(length=8), nullable=True),
    sa.Column('responded_at', sa.DateTime(), nullable=True),
    sa.Column('responded_by_id', sa.Integer(), nullable=True),
    sa.Column('escalated_at', sa.DateTime(), nullable=True),
    sa.CheckConstraint("attachment_kind IS NULL OR attachment_kind IN ('photo', 'pdf')", name=op.f('ck_supervision_targets_attachment_kind')),
    sa.ForeignKeyConstraint(['order_id'], ['supervision_orders.id'], name=op.f('fk_supervision_targets_order_id_supervision_orders'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['responded_by_id'], ['users.id'], name=op.f('fk_supervision_targets_responded_by_id_users'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['unit_id'], ['units.id'], name=op.f('fk_supervision_targets_unit_id_units'), ondelete='RESTRICT'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_supervision_targets')),
    sa.UniqueConstraint('order_id', 'unit_id', name='uq_supervision_targets_order_unit')
    )
    with op.batch_alter_table('supervision_targets', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_supervision_targets_unit_id'), ['unit_id'], unique=False)



def downgrade() -> None:
    with op.batch_alter_table('supervision_targets', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_supervision_targets_unit_id'))

    op.drop_table('supervision_targets')
    with op.batch_alter_table('ledger_evidence', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_ledger_evidence_item_id'))

    op.drop_table('ledger_evidence')
    op.drop_table('supervision_orders')
    with op.batch_alter_table('ledger_items', schema=None) as batch_op:
        batch_op.drop_index('ix_ledger_items_unit_status')
        batch_op.drop_index('ix_ledger_items_status_deadline')
        batch_op.drop_index(batch_op.f('ix_ledger_items_responsible_id'))

    op.drop_table('ledger_items')
