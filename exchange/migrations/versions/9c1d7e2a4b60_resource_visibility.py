"""resource visibility: anyone on the web, or signed-in members only

Revision ID: 9c1d7e2a4b60
Revises: f5f72e6b7da8
Create Date: 2026-12-06 21:20:00.000000

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '9c1d7e2a4b60'
down_revision = 'f5f72e6b7da8'
branch_labels = None
depends_on = None


def upgrade():
    # Existing resources stay as they were: public. No reindex is needed: an index document
    # without the field counts as public, and a resource whose setting changes is logged
    # and re-indexed with it.
    with op.batch_alter_table('resources', schema=None) as batch_op:
        batch_op.add_column(
            sa.Column('visibility', sa.String(length=20), server_default='public', nullable=False)
        )


def downgrade():
    with op.batch_alter_table('resources', schema=None) as batch_op:
        batch_op.drop_column('visibility')
