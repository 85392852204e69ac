"""collections and workshop kits: the saved toolkit becomes each member's default collection

Revision ID: c4a7d2e9f1b3
Revises: c4d7a2e9b513
Create Date: 2026-12-15 10:00:00.000000

Every member with saved resources gets a private "My toolkit" collection holding them, in
the order they were saved; then ``toolkit_items`` goes. Downgrading puts each member's
default collection back into ``toolkit_items`` (other collections and kits are lost).
"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = 'c4a7d2e9f1b3'
down_revision = 'c4d7a2e9b513'
branch_labels = None
depends_on = None

DEFAULT_TITLE = 'My toolkit'

toolkit_items = sa.table(
    'toolkit_items',
    sa.column('member_id', sa.Integer),
    sa.column('resource_id', sa.Integer),
    sa.column('created_at', sa.DateTime(timezone=True)),
)
collections = sa.table(
    'collections',
    sa.column('id', sa.Integer),
    sa.column('owner_id', sa.Integer),
    sa.column('title', sa.String),
    sa.column('purpose', sa.Text),
    sa.column('default_of', sa.Integer),
    sa.column('is_kit', sa.Boolean),
    sa.column('public', sa.Boolean),
    sa.column('created_at', sa.DateTime(timezone=True)),
    sa.column('updated_at', sa.DateTime(timezone=True)),
)
collection_items = sa.table(
    'collection_items',
    sa.column('collection_id', sa.Integer),
    sa.column('resource_id', sa.Integer),
    sa.column('resource_title', sa.String),
    sa.column('position', sa.Integer),
    sa.column('note', sa.String),
    sa.column('created_at', sa.DateTime(timezone=True)),
)
resources = sa.table('resources', sa.column('id', sa.Integer), sa.column('title', sa.String))


def upgrade():
    _create_tables()
    _move_toolkits_into_collections()
    with op.batch_alter_table('toolkit_items', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_toolkit_items_resource_id'))
    op.drop_table('toolkit_items')


def _create_tables():
    op.create_table('collections',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('owner_id', sa.Integer(), nullable=False),
    sa.Column('title', sa.String(length=200), nullable=False),
    sa.Column('purpose', sa.Text(), nullable=False),
    sa.Column('default_of', sa.Integer(), nullable=True),
    sa.Column('is_kit', sa.Boolean(), nullable=False),
    sa.Column('public', sa.Boolean(), nullable=False),
    sa.Column('copied_from_id', sa.Integer(), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['copied_from_id'], ['collections.id'], name=op.f('fk_collections_copied_from_id_collections'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['owner_id'], ['members.id'], name=op.f('fk_collections_owner_id_members'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_collections')),
    sa.UniqueConstraint('default_of', name=op.f('uq_collections_default_of'))
    )
    with op.batch_alter_table('collections', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_collections_copied_from_id'), ['copied_from_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_collections_owner_id'), ['owner_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_collections_public'), ['public'], unique=False)
        batch_op.create_index(batch_op.f('ix_collections_updated_at'), ['updated_at'], unique=False)

    op.create_table('collection_items',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('collection_id', sa.Integer(), nullable=False),
    sa.Column('resource_id', sa.Integer(), nullable=True),
    sa.Column('resource_title', sa.String(length=200), nullable=False),
    sa.Column('position', sa.Integer(), nullable=False),
    sa.Column('note', sa.String(length=300), nullable=False),
    sa.Column('minutes', sa.Integer(), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['collection_id'], ['collections.id'], name=op.f('fk_collection_items_collection_id_collections'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['resource_id'], ['resources.id'], name=op.f('fk_collection_items_resource_id_resources'), ondelete='SET NULL'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_collection_items')),
    sa.UniqueConstraint('collection_id', 'resource_id', name=op.f('uq_collection_items_collection_id'))
    )
    with op.batch_alter_table('collection_items', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_collection_items_collection_id'), ['collection_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_collection_items_resource_id'), ['resource_id'], unique=False)

    op.create_table('collection_tags',
    sa.Column('collection_id', sa.Integer(), nullable=False),
    sa.Column('tag_id', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['collection_id'], ['collections.id'], name=op.f('fk_collection_tags_collection_id_collections'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['tag_id'], ['tags.id'], name=op.f('fk_collection_tags_tag_id_tags'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('collection_id', 'tag_id', name=op.f('pk_collection_tags'))
    )


def _move_toolkits_into_collections():
    """One default collection per member who saved anything, then their items, oldest first."""
    member = toolkit_items.c.member_id
    owners = sa.select(
        member,
        sa.literal(DEFAULT_TITLE),
        sa.literal(''),
        member,
        sa.false(),
        sa.false(),
        sa.func.min(toolkit_items.c.created_at),
        sa.func.max(toolkit_items.c.created_at),
    ).group_by(member)
    names = ['owner_id', 'title', 'purpose', 'default_of', 'is_kit', 'public', 'created_at',
             'updated_at']
    op.execute(collections.insert().from_select(names, owners))
    position = sa.func.row_number().over(
        partition_by=member, order_by=(toolkit_items.c.created_at, toolkit_items.c.resource_id)
    )
    items = (
        sa.select(
            collections.c.id,
            toolkit_items.c.resource_id,
            resources.c.title,
            position,
            sa.literal(''),
            toolkit_items.c.created_at,
        )
        .join(collections, collections.c.default_of == member)
        .join(resources, resources.c.id == toolkit_items.c.resource_id)
    )
    names = ['collection_id', 'resource_id', 'resource_title', 'position', 'note', 'created_at']
    op.execute(collection_items.insert().from_select(names, items))


def downgrade():
    op.create_table('toolkit_items',
    sa.Column('member_id', sa.Integer(), nullable=False),
    sa.Column('resource_id', sa.Integer(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['member_id'], ['members.id'], name=op.f('fk_toolkit_items_member_id_members'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['resource_id'], ['resources.id'], name=op.f('fk_toolkit_items_resource_id_resources'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('member_id', 'resource_id', name=op.f('pk_toolkit_items'))
    )
    with op.batch_alter_table('toolkit_items', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_toolkit_items_resource_id'), ['resource_id'], unique=False)
    saved = (
        sa.select(collections.c.owner_id, collection_items.c.resource_id, collection_items.c.created_at)
        .join(collections, collections.c.id == collection_items.c.collection_id)
        .where(collections.c.default_of.is_not(None), collection_items.c.resource_id.is_not(None))
    )
    op.execute(toolkit_items.insert().from_select(['member_id', 'resource_id', 'created_at'], saved))
    op.drop_table('collection_tags')
    with op.batch_alter_table('collection_items', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_collection_items_resource_id'))
        batch_op.drop_index(batch_op.f('ix_collection_items_collection_id'))
    op.drop_table('collection_items')
    with op.batch_alter_table('collections', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_collections_updated_at'))
        batch_op.drop_index(batch_op.f('ix_collections_public'))
        batch_op.drop_index(batch_op.f('ix_collections_owner_id'))
        batch_op.drop_index(batch_op.f('ix_collections_copied_from_id'))
    op.drop_table('collections')
