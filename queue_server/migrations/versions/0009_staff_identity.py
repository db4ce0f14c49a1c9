"""staff identity shown at the window (亮身份): staff number and an optional photo

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-07
"""
import sqlalchemy as sa
from alembic import op

from queue_server.models import UTCDateTime

revision = '0009'
down_revision = '0008'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column('staff_users', sa.Column('staff_number', sa.String(32), nullable=False, server_default=''))
    op.create_table(
        'staff_photos',
        sa.Column('user_id', sa.Integer(), sa.ForeignKey('staff_users.id', ondelete='CASCADE'), primary_key=True),
        sa.Column('data', sa.LargeBinary(), nullable=False),
        sa.Column('version', sa.String(16), nullable=False),
        sa.Column('updated_at', UTCDateTime(), nullable=False),
    )


def downgrade() -> None:
    op.drop_table('staff_photos')
    with op.batch_alter_table('staff_users') as batch:
        batch.drop_column('staff_number')
