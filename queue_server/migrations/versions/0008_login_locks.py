"""sign-in lock-out per account and client address, with growing lock times

Failed sign-ins were counted per username only, so five wrong passwords from anyone locked the real
user (the admin too) for 15 minutes, renewable forever. They are now counted per username and
client address; each further lock of the same pair lasts twice as long.

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-04
"""
import sqlalchemy as sa
from alembic import op

from queue_server.models import UTCDateTime

revision = '0008'
down_revision = '0007'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        'login_locks',
        sa.Column('username', sa.String(64), primary_key=True),
        sa.Column('client', sa.String(64), primary_key=True),
        sa.Column('failures', sa.Integer(), nullable=False, server_default='0'),
        sa.Column('locks', sa.Integer(), nullable=False, server_default='0'),
        sa.Column('last_failure_at', UTCDateTime(), nullable=True),
        sa.Column('locked_until', UTCDateTime(), nullable=True),
    )
    op.drop_table('login_attempts')


def downgrade() -> None:
    op.create_table(
        'login_attempts',
        sa.Column('username', sa.String(64), primary_key=True),
        sa.Column('failures', sa.Integer(), nullable=False),
        sa.Column('last_failure_at', UTCDateTime(), nullable=True),
        sa.Column('locked_until', UTCDateTime(), nullable=True),
    )
    op.drop_table('login_locks')
