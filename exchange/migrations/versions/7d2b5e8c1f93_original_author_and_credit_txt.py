"""original author kept as "adapted from"; credit.txt beside files that can't carry credit

Revision ID: 7d2b5e8c1f93
Revises: 7d4b2e9c1f35
Create Date: 2026-12-07 01:00:00.000000

Files shared before this change were credited without looking at their own author: they
are marked as naming none (an edit that changes the credit reads it). No resource asked
for a credit.txt before, so the option starts off and no file is a zip.
"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '7d2b5e8c1f93'
down_revision = '7d4b2e9c1f35'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('resources', schema=None) as batch_op:
        batch_op.add_column(
            sa.Column('credit_txt', sa.Boolean(), nullable=False, server_default=sa.false())
        )
    with op.batch_alter_table('files', schema=None) as batch_op:
        batch_op.add_column(
            sa.Column('original_author', sa.String(length=200), nullable=False,
                      server_default='')
        )
        batch_op.add_column(
            sa.Column('zipped_with_credit', sa.Boolean(), nullable=False,
                      server_default=sa.false())
        )


def downgrade():
    with op.batch_alter_table('files', schema=None) as batch_op:
        batch_op.drop_column('zipped_with_credit')
        batch_op.drop_column('original_author')
    with op.batch_alter_table('resources', schema=None) as batch_op:
        batch_op.drop_column('credit_txt')
