"""staff lockout, devices, personal data

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-27
"""
from alembic import op
import sqlalchemy as sa
import queue_server.models

revision = '0003'
down_revision = '0002'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('login_attempts',
    sa.Column('username', sa.String(length=64), nullable=False),
    sa.Column('failures', sa.Integer(), nullable=False),
    sa.Column('last_failure_at', queue_server.models.UTCDateTime(), nullable=True),
    sa.Column('locked_until', queue_server.models.UTCDateTime(), nullable=True),
    sa.PrimaryKeyConstraint('username')
    )
    op.create_table('devices',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('name', sa.String(length=64), nullable=False),
    sa.Column('hall_id', sa.Integer(), nullable=False),
    sa.Column('kind', sa.String(length=16), nullable=False),
    sa.Column('printer', sa.String(length=64), nullable=True),
    sa.Column('window_number', sa.Integer(), nullable=True),
    sa.Column('token_hash', sa.String(length=64), nullable=False),
    sa.Column('active', sa.Boolean(), nullable=False),
    sa.Column('created_at', queue_server.models.UTCDateTime(), nullable=False),
    sa.Column('last_seen_at', queue_server.models.UTCDateTime(), nullable=True),
    sa.ForeignKeyConstraint(['hall_id'], ['halls.id'], ),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('name'),
    sa.UniqueConstraint('token_hash')
    )
    with op.batch_alter_table('tickets', schema=None) as batch_op:
        batch_op.add_column(sa.Column('phone_hash', sa.String(length=64), nullable=True))
        batch_op.add_column(sa.Column('id_number_hash', sa.String(length=64), nullable=True))
        batch_op.create_index(batch_op.f('ix_tickets_phone_hash'), ['phone_hash'], unique=False)
        batch_op.create_index(batch_op.f('ix_tickets_id_number_hash'), ['id_number_hash'], unique=False)


def downgrade() -> None:
    with op.batch_alter_table('tickets', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_tickets_id_number_hash'))
        batch_op.drop_index(batch_op.f('ix_tickets_phone_hash'))
        batch_op.drop_column('id_number_hash')
        batch_op.drop_column('phone_hash')
    op.drop_table('devices')
    op.drop_table('login_attempts')
