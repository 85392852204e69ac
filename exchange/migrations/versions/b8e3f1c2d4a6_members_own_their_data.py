"""members own their data: deleted accounts, data exports, where an audited action was done

Revision ID: b8e3f1c2d4a6
Revises: 7d2b5e8c1f93
Create Date: 2026-12-07 02:00:00.000000

A deleted account keeps its row (emptied of everything that named the member) so ledger
counts and anonymised words keep something to point at; ``data_exports`` tracks each
member's "export my data" zip; the audit log says whether an action came from the site or
the command line (every earlier one came from the site).
"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = 'b8e3f1c2d4a6'
down_revision = '7d2b5e8c1f93'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('members', schema=None) as batch_op:
        batch_op.add_column(sa.Column('deleted_at', sa.DateTime(timezone=True), nullable=True))
    with op.batch_alter_table('moderation_actions', schema=None) as batch_op:
        batch_op.add_column(
            sa.Column('via', sa.String(length=20), nullable=False, server_default='site')
        )
    op.create_table(
        'data_exports',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('member_id', sa.Integer(), nullable=False),
        sa.Column('running_for', sa.Integer(), nullable=True),
        sa.Column('status', sa.String(length=20), nullable=False),
        sa.Column('storage_key', sa.String(length=200), nullable=True),
        sa.Column('size', sa.BigInteger(), nullable=True),
        sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
        sa.Column('finished_at', sa.DateTime(timezone=True), nullable=True),
        sa.Column('expires_at', sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(['member_id'], ['members.id'], ondelete='CASCADE'),
        sa.PrimaryKeyConstraint('id'),
        sa.UniqueConstraint('running_for'),
        sa.UniqueConstraint('storage_key'),
    )
    with op.batch_alter_table('data_exports', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_data_exports_member_id'), ['member_id'], unique=False)


def downgrade():
    with op.batch_alter_table('data_exports', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_data_exports_member_id'))
    op.drop_table('data_exports')
    with op.batch_alter_table('moderation_actions', schema=None) as batch_op:
        batch_op.drop_column('via')
    with op.batch_alter_table('members', schema=None) as batch_op:
        batch_op.drop_column('deleted_at')
