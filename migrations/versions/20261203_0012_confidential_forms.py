"""confidential forms and the 纪检督察 role (issue 17)

users.role may be ``inspector`` (纪检督察). forms / form_versions (immutable, published
definitions) / form_submissions (answers as Fernet tokens) / form_files (encrypted attachments).

On SQLite the role CHECK is widened in place, by SQLite's documented procedure for loosening a
CHECK constraint (writable_schema, then schema_version + 1): a batch rebuild of ``users`` would
drop the table under foreign keys that are ON, deleting every session and submission with it.

Revision ID: 0012
Revises: 0011
Create Date: 2026-12-03 00:00:00
"""
from alembic import op
import sqlalchemy as sa


revision = '0012'
down_revision = '0011'
branch_labels = None
depends_on = None

OLD_ROLES = "role IN ('officer', 'supervisor', 'leader', 'admin')"
NEW_ROLES = "role IN ('officer', 'supervisor', 'leader', 'admin', 'inspector')"


def _swap_role_check(old: str, new: str) -> None:
    conn = op.get_bind()
    if conn.dialect.name == "sqlite":
        sql = conn.exec_driver_sql("SELECT sql FROM sqlite_master WHERE type='table' AND name='users'").scalar()
        if old not in sql:
            raise RuntimeError("users.role CHECK is not the expected one; refusing to edit the schema")
        version = conn.exec_driver_sql("PRAGMA schema_version").scalar()
        conn.exec_driver_sql("PRAGMA writable_schema=ON")
        conn.execute(sa.text("UPDATE sqlite_master SET sql = :sql WHERE type='table' AND name='users'"),
                     {"sql": sql.replace(old, new)})
        conn.exec_driver_sql(f"PRAGMA schema_version={int(version) + 1}")
        conn.exec_driver_sql("PRAGMA writable_schema=OFF")
    else:
        op.drop_constraint(op.f("ck_users_role"), "users", type_="check")
        op.create_check_constraint(op.f("ck_users_role"), "users", new)


def _widen_role_check() -> None:
    _swap_role_check(OLD_ROLES, NEW_ROLES)


def _narrow_role_check() -> None:
    op.execute("UPDATE users SET role = 'supervisor' WHERE role = 'inspector'")
    _swap_role_check(NEW_ROLES, OLD_ROLES)


def upgrade() -> None:
    _widen_role_check()
    op.create_table('forms',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('title', sa.String(length=120), nullable=False),
    sa.Column('description', sa.Text(), nullable=False),
    sa.Column('stage_id', sa.Integer(), nullable=True),
    sa.Column('confidentiality', sa.String(length=12), nullable=False),
    sa.Column('target_unit_id', sa.Integer(), nullable=True),
    sa.Column('target_roles', sa.JSON(), nullable=False),
    sa.Column('due_at', sa.DateTime(), nullable=False),
    sa.Column('draft_definition', sa.JSON(), nullable=False),
    sa.Column('created_by_id', sa.Integer(), nullable=True),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.CheckConstraint("confidentiality IN ('open', 'confidential')", name=op.f('ck_forms_confidentiality')),
    sa.ForeignKeyConstraint(['created_by_id'], ['users.id'], name=op.f('fk_forms_created_by_id_users'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['stage_id'], ['campaign_stages.id'], name=op.f('fk_forms_stage_id_campaign_stages'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['target_unit_id'], ['units.id'], name=op.f('fk_forms_target_unit_id_units'), ondelete='RESTRICT'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_forms'))
    )
    op.create_table('form_versions',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('form_id', sa.Integer(), nullable=False),
    sa.Column('number', sa.Integer(), nullable=False),
    sa.Column('definition', sa.JSON(), nullable=False),
    sa.Column('published_at', sa.DateTime(), nullable=False),
    sa.Column('published_by_id', sa.Integer(), nullable=True),
    sa.ForeignKeyConstraint(['form_id'], ['forms.id'], name=op.f('fk_form_versions_form_id_forms'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['published_by_id'], ['users.id'], name=op.f('fk_form_versions_published_by_id_users'), ondelete='SET NULL'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_form_versions')),
    sa.UniqueConstraint('form_id', 'number', name='uq_form_versions_form_number')
    )
    op.create_table('form_submissions',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('form_id', sa.Integer(), nullable=False),
    sa.Column('version_id', sa.Integer(), nullable=False),
    sa.Column('user_id', sa.Integer(), nullable=False),
    sa.Column('status', sa.String(length=10), nullable=False),
    sa.Column('answers_token', sa.Text(), nullable=False),
    sa.Column('submitted_at', sa.DateTime(), nullable=True),
    sa.Column('reopened_at', sa.DateTime(), nullable=True),
    sa.Column('reopened_by_id', sa.Integer(), nullable=True),
    sa.Column('reopen_reason', sa.String(length=500), nullable=False),
    sa.Column('updated_at', sa.DateTime(), nullable=False),
    sa.CheckConstraint("status IN ('draft', 'submitted')", name=op.f('ck_form_submissions_status')),
    sa.ForeignKeyConstraint(['form_id'], ['forms.id'], name=op.f('fk_form_submissions_form_id_forms'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['reopened_by_id'], ['users.id'], name=op.f('fk_form_submissions_reopened_by_id_users'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['user_id'], ['users.id'], name=op.f('fk_form_submissions_user_id_users'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['version_id'], ['form_versions.id'], name=op.f('fk_form_submissions_version_id_form_versions'), ondelete='RESTRICT'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_form_submissions')),
    sa.UniqueConstraint('form_id', 'user_id', name='uq_form_submissions_form_user')
    )
    with op.batch_alter_table('form_submissions', schema=None) as batch_op:
        batch_op.create_index('ix_form_submissions_user_status', ['user_id', 'status'], unique=False)

    op.create_table('form_files',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('submission_id', sa.Integer(), nullable=False),
    sa.Column('field_key', sa.String(length=32), nullable=False),
    sa.Column('kind', sa.String(length=8), nullable=False),
    sa.Column('size', sa.Integer(), nullable=False),
    sa.Column('name_token', sa.Text(), nullable=False),
    sa.Column('data_token', sa.LargeBinary(), nullable=False),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.CheckConstraint("kind IN ('jpeg', 'png', 'pdf')", name=op.f('ck_form_files_kind')),
    sa.ForeignKeyConstraint(['submission_id'], ['form_submissions.id'], name=op.f('fk_form_files_submission_id_form_submissions'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_form_files'))
    )
    with op.batch_alter_table('form_files', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_form_files_submission_id'), ['submission_id'], unique=False)



def downgrade() -> None:
    with op.batch_alter_table('form_files', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_form_files_submission_id'))

    op.drop_table('form_files')
    with op.batch_alter_table('form_submissions', schema=None) as batch_op:
        batch_op.drop_index('ix_form_submissions_user_status')

    op.drop_table('form_submissions')
    op.drop_table('form_versions')
    op.drop_table('forms')
    _narrow_role_check()
