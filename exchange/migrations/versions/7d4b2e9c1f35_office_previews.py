"""office previews: a file's first-page picture may be pending, or absent with a reason

Revision ID: 7d4b2e9c1f35
Revises: 3c9e1f4a7b20
Create Date: 2026-12-07 01:00:00.000000

Files shared before this change are neither pending nor explained: their pages look as
they did (a text excerpt where there is no picture).
"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '7d4b2e9c1f35'
down_revision = '3c9e1f4a7b20'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('files', schema=None) as batch_op:
        batch_op.add_column(
            sa.Column('preview_pending', sa.Boolean(), nullable=False, server_default=sa.false())
        )
        batch_op.add_column(
            sa.Column('preview_note', sa.String(length=300), nullable=False, server_default='')
        )


def downgrade():
    with op.batch_alter_table('files', schema=None) as batch_op:
        batch_op.drop_column('preview_note')
        batch_op.drop_column('preview_pending')
