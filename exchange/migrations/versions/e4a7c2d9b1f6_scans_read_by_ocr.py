"""scans read by OCR: where a file's text came from, and the text layer of a scan's copy

Revision ID: e4a7c2d9b1f6
Revises: c4a7d2e9f1b3
Create Date: 2026-12-09 10:00:00.000000

Files shared before this change were never read by Tesseract: their text is their own
(text_source "") and their credited copies carry no text layer. Resources keep the
default, a text layer for scans, which applies to files shared or re-credited from now on.
"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = 'e4a7c2d9b1f6'
down_revision = 'c4a7d2e9f1b3'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('resources', schema=None) as batch_op:
        batch_op.add_column(
            sa.Column('text_layer', sa.Boolean(), nullable=False, server_default=sa.true())
        )
    with op.batch_alter_table('files', schema=None) as batch_op:
        batch_op.add_column(
            sa.Column('text_source', sa.String(length=10), nullable=False, server_default='')
        )
        batch_op.add_column(
            sa.Column('text_layer', sa.Boolean(), nullable=False, server_default=sa.false())
        )


def downgrade():
    with op.batch_alter_table('files', schema=None) as batch_op:
        batch_op.drop_column('text_layer')
        batch_op.drop_column('text_source')
    with op.batch_alter_table('resources', schema=None) as batch_op:
        batch_op.drop_column('text_layer')
