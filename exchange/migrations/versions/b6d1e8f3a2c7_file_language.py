"""file language: the language each file's own text is written in, for search to analyse it by

Revision ID: b6d1e8f3a2c7
Revises: a3f9c5e1d7b2
Create Date: 2026-12-07 08:00:00.000000

Files read before this keep NULL ("never detected"): detecting reads every file's text, too
slow for a schema upgrade that every node runs at start-up, so ``exchange doctor --repair``
detects them afterwards and re-indexes their resources (as for resources' languages).
"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = 'b6d1e8f3a2c7'
down_revision = 'a3f9c5e1d7b2'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('files') as batch_op:
        batch_op.add_column(sa.Column('language', sa.String(length=8), nullable=True))


def downgrade():
    with op.batch_alter_table('files') as batch_op:
        batch_op.drop_column('language')
