"""resource language: the language each resource is written in, for search to analyse it by

Revision ID: e2b7c9d4a1f6
Revises: c5d2a7e9f104
Create Date: 2026-12-20 10:00:00.000000

Resources shared before this keep NULL ("never detected"): detecting a language reads every
file's text, too slow for a schema upgrade that every node runs at start-up, so
``exchange doctor --repair`` detects them afterwards and re-indexes each.
"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = 'e2b7c9d4a1f6'
down_revision = 'c5d2a7e9f104'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('resources') as batch_op:
        batch_op.add_column(sa.Column('language', sa.String(length=8), nullable=True))


def downgrade():
    with op.batch_alter_table('resources') as batch_op:
        batch_op.drop_column('language')
