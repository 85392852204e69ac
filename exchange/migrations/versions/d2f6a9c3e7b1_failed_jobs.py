"""failed jobs: the dead-letter list of jobs that failed every try

Revision ID: d2f6a9c3e7b1
Revises: e4a7c2d9b1f6
Create Date: 2026-12-20 10:00:00.000000
"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = 'd2f6a9c3e7b1'
down_revision = 'e4a7c2d9b1f6'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        'failed_jobs',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('name', sa.String(length=80), nullable=False),
        sa.Column('args', sa.Text(), nullable=False),
        sa.Column('error', sa.String(length=500), nullable=False),
        sa.Column('tries', sa.Integer(), nullable=False),
        sa.Column('failed_at', sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_failed_jobs')),
    )
    op.create_index(op.f('ix_failed_jobs_failed_at'), 'failed_jobs', ['failed_at'])


def downgrade():
    op.drop_index(op.f('ix_failed_jobs_failed_at'), table_name='failed_jobs')
    op.drop_table('failed_jobs')
