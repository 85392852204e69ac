"""credit on the page: where a resource's credit goes, and where each file's copy has it

Revision ID: 3c9e1f4a7b20
Revises: 9c1d7e2a4b60
Create Date: 2026-12-06 21:40:00.000000

Resources shared before this change have credited copies with the credit in their
properties only, so they are marked "properties" (what their files really carry); an
edit that picks "on the page" re-credits their files.
"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '3c9e1f4a7b20'
down_revision = '9c1d7e2a4b60'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('resources', schema=None) as batch_op:
        batch_op.add_column(
            sa.Column('credit_placement', sa.String(length=20), nullable=False,
                      server_default='properties')
        )
    with op.batch_alter_table('files', schema=None) as batch_op:
        batch_op.add_column(
            sa.Column('credit_on_page', sa.Boolean(), nullable=False, server_default=sa.false())
        )
        batch_op.add_column(
            sa.Column('page_credit_note', sa.String(length=300), nullable=False,
                      server_default='')
        )


def downgrade():
    with op.batch_alter_table('files', schema=None) as batch_op:
        batch_op.drop_column('page_credit_note')
        batch_op.drop_column('credit_on_page')
    with op.batch_alter_table('resources', schema=None) as batch_op:
        batch_op.drop_column('credit_placement')
