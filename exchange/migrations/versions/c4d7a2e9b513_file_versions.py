"""file versions: a replaced file keeps its earlier versions; the ledger says which it took

Revision ID: c4d7a2e9b513
Revises: b8e3f1a6c2d9
Create Date: 2026-12-15 10:00:00.000000

Every file shared so far is its own version 1, and every download so far took version 1.
"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = 'c4d7a2e9b513'
down_revision = 'b8e3f1a6c2d9'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        'file_versions',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('file_id', sa.Integer(), nullable=False),
        sa.Column('number', sa.Integer(), nullable=False),
        sa.Column('storage_key', sa.String(length=200), nullable=False),
        sa.Column('original_name', sa.String(length=255), nullable=False),
        sa.Column('content_type', sa.String(length=120), nullable=False),
        sa.Column('format', sa.String(length=16), nullable=False),
        sa.Column('size', sa.BigInteger(), nullable=False),
        sa.Column('sha256', sa.String(length=64), nullable=False),
        sa.Column('credited_key', sa.String(length=200), nullable=True),
        sa.Column('credited_size', sa.BigInteger(), nullable=True),
        sa.Column('credit_on_page', sa.Boolean(), nullable=False),
        sa.Column('page_credit_note', sa.String(length=300), nullable=False),
        sa.Column('original_author', sa.String(length=200), nullable=False),
        sa.Column('zipped_with_credit', sa.Boolean(), nullable=False),
        sa.Column('change_note', sa.String(length=300), nullable=False),
        sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
        sa.Column('replaced_at', sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ['file_id'], ['files.id'],
            name=op.f('fk_file_versions_file_id_files'), ondelete='CASCADE',
        ),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_file_versions')),
        sa.UniqueConstraint('credited_key', name=op.f('uq_file_versions_credited_key')),
        sa.UniqueConstraint('file_id', 'number', name=op.f('uq_file_versions_file_id')),
        sa.UniqueConstraint('storage_key', name=op.f('uq_file_versions_storage_key')),
    )
    with op.batch_alter_table('files', schema=None) as batch_op:
        batch_op.add_column(sa.Column('version', sa.Integer(), nullable=False, server_default='1'))
        batch_op.add_column(
            sa.Column('version_note', sa.String(length=300), nullable=False, server_default='')
        )
        batch_op.add_column(sa.Column('version_at', sa.DateTime(timezone=True), nullable=True))
    with op.batch_alter_table('downloads', schema=None) as batch_op:
        batch_op.add_column(
            sa.Column('file_version', sa.Integer(), nullable=False, server_default='1')
        )


def downgrade():
    with op.batch_alter_table('downloads', schema=None) as batch_op:
        batch_op.drop_column('file_version')
    with op.batch_alter_table('files', schema=None) as batch_op:
        batch_op.drop_column('version_at')
        batch_op.drop_column('version_note')
        batch_op.drop_column('version')
    op.drop_table('file_versions')
