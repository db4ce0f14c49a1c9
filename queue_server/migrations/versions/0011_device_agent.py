"""device agent: kiosks whose own printer is driven by `queue-server agent`, and that printer's state

A kiosk registered with --agent gets its tickets' print jobs (print_jobs.device_id) offered to its
agent instead of the server's spooler; the agent reports the printer's state (DLE EOT) on the device.

Revision ID: 0011
Revises: 0010
Create Date: 2026-12-07
"""
import sqlalchemy as sa
from alembic import op

from queue_server.models import UTCDateTime

revision = '0011'
down_revision = '0010'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column('devices', sa.Column('agent', sa.Boolean(), nullable=False, server_default=sa.false()))
    op.add_column('devices', sa.Column('printer_state', sa.String(16), nullable=True))
    op.add_column('devices', sa.Column('printer_detail', sa.String(200), nullable=True))
    op.add_column('devices', sa.Column('printer_checked_at', UTCDateTime(), nullable=True))
    op.add_column('print_jobs', sa.Column('device_id', sa.Integer(), nullable=True))
    op.create_index('ix_print_jobs_device', 'print_jobs', ['device_id', 'state', 'next_attempt_at'])


def downgrade() -> None:
    op.drop_index('ix_print_jobs_device', table_name='print_jobs')
    op.drop_column('print_jobs', 'device_id')
    for column in ('printer_checked_at', 'printer_detail', 'printer_state', 'agent'):
        op.drop_column('devices', column)
