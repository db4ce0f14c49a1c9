"""appointments and remote tickets

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-27
"""
from alembic import op
import sqlalchemy as sa
import queue_server.models

revision = '0005'
down_revision = '0004'
branch_labels = None
depends_on = None

UTC = queue_server.models.UTCDateTime
BIG = sa.BigInteger().with_variant(sa.Integer(), 'sqlite')


def upgrade() -> None:
    with op.batch_alter_table('tickets', schema=None) as batch_op:
        batch_op.add_column(sa.Column('unchecked_on_call', sa.String(length=8), nullable=True))
        batch_op.add_column(sa.Column('checked_in_at', UTC(), nullable=True))

    op.create_table('appointment_slots',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('hall_id', sa.Integer(), nullable=False),
    sa.Column('queue_id', sa.Integer(), nullable=False),
    sa.Column('starts_at', UTC(), nullable=False),
    sa.Column('ends_at', UTC(), nullable=False),
    sa.Column('capacity', sa.Integer(), nullable=False),
    sa.Column('booked', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['hall_id'], ['halls.id'], ),
    sa.ForeignKeyConstraint(['queue_id'], ['queues.id'], ),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('hall_id', 'queue_id', 'starts_at')
    )
    op.create_table('appointments',
    sa.Column('pk', sa.Integer(), nullable=False),
    sa.Column('id', sa.String(length=32), nullable=False),
    sa.Column('code', sa.String(length=16), nullable=False),
    sa.Column('hall_id', sa.Integer(), nullable=False),
    sa.Column('queue_id', sa.Integer(), nullable=False),
    sa.Column('service_id', sa.Integer(), nullable=False),
    sa.Column('slot_id', sa.Integer(), nullable=False),
    sa.Column('starts_at', UTC(), nullable=False),
    sa.Column('ends_at', UTC(), nullable=False),
    sa.Column('checkin_until', UTC(), nullable=False),
    sa.Column('status', sa.String(length=16), nullable=False),
    sa.Column('name_masked', sa.String(length=64), nullable=False),
    sa.Column('phone_masked', sa.String(length=32), nullable=False),
    sa.Column('id_number_masked', sa.String(length=32), nullable=False),
    sa.Column('phone_hash', sa.String(length=64), nullable=False),
    sa.Column('id_number_hash', sa.String(length=64), nullable=False),
    sa.Column('notify_ref', sa.String(length=128), nullable=True),
    sa.Column('created_at', UTC(), nullable=False),
    sa.Column('changed_at', UTC(), nullable=True),
    sa.Column('checked_in_at', UTC(), nullable=True),
    sa.Column('arrival', sa.String(length=16), nullable=True),
    sa.Column('ticket_pk', BIG, nullable=True),
    sa.ForeignKeyConstraint(['hall_id'], ['halls.id'], ),
    sa.ForeignKeyConstraint(['queue_id'], ['queues.id'], ),
    sa.ForeignKeyConstraint(['service_id'], ['service_items.id'], ),
    sa.ForeignKeyConstraint(['slot_id'], ['appointment_slots.id'], ),
    sa.ForeignKeyConstraint(['ticket_pk'], ['tickets.pk'], ),
    sa.PrimaryKeyConstraint('pk'),
    sa.UniqueConstraint('hall_id', 'code'),
    sa.UniqueConstraint('id')
    )
    with op.batch_alter_table('appointments', schema=None) as batch_op:
        batch_op.create_index('ix_appointments_id_hash', ['id_number_hash', 'status'], unique=False)
        batch_op.create_index('ix_appointments_hall_status', ['hall_id', 'status', 'checkin_until'], unique=False)

    op.create_table('notify_subscriptions',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('hall_id', sa.Integer(), nullable=False),
    sa.Column('ticket_pk', BIG, nullable=False),
    sa.Column('ref', sa.String(length=128), nullable=True),
    sa.Column('phone_masked', sa.String(length=32), nullable=True),
    sa.Column('is_open', sa.Boolean(), nullable=False),
    sa.Column('created_at', UTC(), nullable=False),
    sa.ForeignKeyConstraint(['hall_id'], ['halls.id'], ),
    sa.ForeignKeyConstraint(['ticket_pk'], ['tickets.pk'], ),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('ticket_pk')
    )
    with op.batch_alter_table('notify_subscriptions', schema=None) as batch_op:
        batch_op.create_index('ix_notify_subscriptions_open', ['is_open', 'hall_id'], unique=False)

    op.create_table('notifications',
    sa.Column('id', BIG, nullable=False),
    sa.Column('key', sa.String(length=80), nullable=False),
    sa.Column('hall_id', sa.Integer(), nullable=False),
    sa.Column('kind', sa.String(length=16), nullable=False),
    sa.Column('payload', sa.JSON(), nullable=False),
    sa.Column('state', sa.String(length=16), nullable=False),
    sa.Column('attempts', sa.Integer(), nullable=False),
    sa.Column('last_error', sa.Text(), nullable=True),
    sa.Column('created_at', UTC(), nullable=False),
    sa.Column('next_attempt_at', UTC(), nullable=False),
    sa.Column('sent_at', UTC(), nullable=True),
    sa.ForeignKeyConstraint(['hall_id'], ['halls.id'], ),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('key')
    )
    with op.batch_alter_table('notifications', schema=None) as batch_op:
        batch_op.create_index('ix_notifications_due', ['state', 'next_attempt_at'], unique=False)


def downgrade() -> None:
    with op.batch_alter_table('notifications', schema=None) as batch_op:
        batch_op.drop_index('ix_notifications_due')
    op.drop_table('notifications')
    with op.batch_alter_table('notify_subscriptions', schema=None) as batch_op:
        batch_op.drop_index('ix_notify_subscriptions_open')
    op.drop_table('notify_subscriptions')
    with op.batch_alter_table('appointments', schema=None) as batch_op:
        batch_op.drop_index('ix_appointments_hall_status')
        batch_op.drop_index('ix_appointments_id_hash')
    op.drop_table('appointments')
    op.drop_table('appointment_slots')
    with op.batch_alter_table('tickets', schema=None) as batch_op:
        batch_op.drop_column('checked_in_at')
        batch_op.drop_column('unchecked_on_call')
