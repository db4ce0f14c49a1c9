"""rating follow-ups, quoted waits

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-27
"""
from alembic import op
import sqlalchemy as sa
import queue_server.models

revision = '0004'
down_revision = '0003'
branch_labels = None
depends_on = None


def upgrade() -> None:
    # Quoted waits (tickets.quoted_low_s/high_s) and case IDs (tickets.case_id) are already in 0001.
    op.create_table(
        'followups',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('hall_id', sa.Integer(), nullable=False),
        sa.Column('evaluation_id', sa.Integer(), nullable=False),
        sa.Column('ticket_pk', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
        sa.Column('state', sa.String(length=16), nullable=False),
        sa.Column('opened_at', queue_server.models.UTCDateTime(), nullable=False),
        sa.Column('due_at', queue_server.models.UTCDateTime(), nullable=False),
        sa.Column('assignee', sa.String(length=100), nullable=False),
        sa.Column('action', sa.Text(), nullable=False),
        sa.Column('closed_at', queue_server.models.UTCDateTime(), nullable=True),
        sa.Column('closed_by', sa.Integer(), nullable=True),
        sa.ForeignKeyConstraint(['hall_id'], ['halls.id']),
        sa.ForeignKeyConstraint(['evaluation_id'], ['evaluations.id']),
        sa.ForeignKeyConstraint(['ticket_pk'], ['tickets.pk']),
        sa.ForeignKeyConstraint(['closed_by'], ['staff_users.id']),
        sa.PrimaryKeyConstraint('id'),
        sa.UniqueConstraint('evaluation_id'),
    )
    op.create_index('ix_followups_hall_state', 'followups', ['hall_id', 'state', 'due_at'])


def downgrade() -> None:
    op.drop_index('ix_followups_hall_state', table_name='followups')
    op.drop_table('followups')
