"""members choose the interface's language (and their emails' and notifications')

Revision ID: e2f8a1c6d4b7
Revises: e2b7c9d4a1f6
Create Date: 2026-12-09 09:00:00.000000

Existing members have no setting (NULL): their pages follow their browser as before, and
their emails stay in English until they choose.
"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = 'e2f8a1c6d4b7'
down_revision = 'e2b7c9d4a1f6'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('members', schema=None) as batch_op:
        batch_op.add_column(sa.Column('language', sa.String(length=8), nullable=True))


def downgrade():
    with op.batch_alter_table('members', schema=None) as batch_op:
        batch_op.drop_column('language')
