"""admin change log; windows can be disabled

Revision ID: 0006
Revises: 0005
Create Date: 2026-11-27
"""
from alembic import op
import sqlalchemy as sa
import queue_server.models

revision = '0006'
down_revision = '0005'
branch_labels = None
depends_on = None

UTC = queue_server.models.UTCDateTime
BIG = sa.BigInteger().with_variant(sa.Integer(), 'sqlite')


def upgrade() -> None:
    with op.batch_alter_table('windows', schema=None) as batch_op:
        batch_op.add_column(sa.Column('active', sa.Boolean(), nullable=False, server_default=sa.true()))

    op.create_table('admin_changes',
    sa.Column('id', BIG, nullable=False),
    sa.Column('at', UTC(), nullable=False),
    sa.Column('user_id', sa.Integer(), nullable=True),
    sa.Column('username', sa.String(length=64), nullable=False),
    sa.Column('hall_id', sa.Integer(), nullable=True),
    sa.Column('entity', sa.String(length=16), nullable=False),
    sa.Column('entity_key', sa.String(length=64), nullable=False),
    sa.Column('action', sa.String(length=16), nullable=False),
    sa.Column('changes', sa.JSON(), nullable=False),
    sa.ForeignKeyConstraint(['hall_id'], ['halls.id'], ),
    sa.ForeignKeyConstraint(['user_id'], ['staff_users.id'], ),
    sa.PrimaryKeyConstraint('id')
    )
    op.create_index('ix_admin_changes_hall_at', 'admin_changes', ['hall_id', 'at'], unique=False)


def downgrade() -> None:
    op.drop_index('ix_admin_changes_hall_at', table_name='admin_changes')
    op.drop_table('admin_changes')
    with op.batch_alter_table('windows', schema=None) as batch_op:
        batch_op.drop_column('active')
