"""files read by a job after the share: pending files, a resource's privacy hold and note

Revision ID: a3f9c5e1d7b2
Revises: e2f8a1c6d4b7
Create Date: 2026-12-10 10:00:00.000000

Files shared before this change were read in their share's request: none is pending, no
resource is held or carries a note, and the new "processing" status is a value of the
existing ``status`` column.
"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = 'a3f9c5e1d7b2'
down_revision = 'e2f8a1c6d4b7'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('resources', schema=None) as batch_op:
        batch_op.add_column(
            sa.Column('privacy_hold', sa.Boolean(), nullable=False, server_default=sa.false())
        )
        batch_op.add_column(
            sa.Column(
                'processing_note', sa.String(length=500), nullable=False, server_default=''
            )
        )
    with op.batch_alter_table('files', schema=None) as batch_op:
        batch_op.add_column(
            sa.Column('pending', sa.Boolean(), nullable=False, server_default=sa.false())
        )


def downgrade():
    with op.batch_alter_table('files', schema=None) as batch_op:
        batch_op.drop_column('pending')
    with op.batch_alter_table('resources', schema=None) as batch_op:
        batch_op.drop_column('processing_note')
        batch_op.drop_column('privacy_hold')
