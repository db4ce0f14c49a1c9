"""the reasons a citizen gives for a poor rating (不满意, 非常不满意)

Revision ID: 0010
Revises: 0009
Create Date: 2026-12-07
"""
import sqlalchemy as sa
from alembic import op

revision = '0010'
down_revision = '0009'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('evaluations') as batch:
        batch.add_column(sa.Column('reasons', sa.JSON(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table('evaluations') as batch:
        batch.drop_column('reasons')
