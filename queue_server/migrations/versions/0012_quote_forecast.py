"""the forecast behind a ticket's first quote (middle and scale), for calibrated wait ranges

Revision ID: 0012
Revises: 0011
Create Date: 2026-12-07
"""
import sqlalchemy as sa
from alembic import op

revision = '0012'
down_revision = '0011'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('tickets') as batch:
        batch.add_column(sa.Column('quoted_point_s', sa.Integer(), nullable=True))
        batch.add_column(sa.Column('quoted_scale_s', sa.Integer(), nullable=True))
    op.create_index('ix_tickets_hall_called', 'tickets', ['hall_id', 'called_at'])


def downgrade() -> None:
    op.drop_index('ix_tickets_hall_called', table_name='tickets')
    with op.batch_alter_table('tickets') as batch:
        batch.drop_column('quoted_scale_s')
        batch.drop_column('quoted_point_s')
