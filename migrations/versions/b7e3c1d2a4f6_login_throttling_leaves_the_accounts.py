"""log-in throttling leaves the accounts: drop the per-account lock columns

Revision ID: b7e3c1d2a4f6
Revises: 5d94a8390a04
Create Date: 2026-12-04 17:20:00.000000

Failed log-ins are counted by Flask-Limiter per (address, account) and per address
(blagis/auth/views.py); no account is ever locked for everyone.
"""
from alembic import op
import sqlalchemy as sa

import blagis.models.base


# revision identifiers, used by Alembic.
revision = 'b7e3c1d2a4f6'
down_revision = '5d94a8390a04'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('users', schema=None) as batch_op:
        batch_op.drop_column('locked_until')
        batch_op.drop_column('last_failed_login_at')
        batch_op.drop_column('failed_logins')


def downgrade():
    with op.batch_alter_table('users', schema=None) as batch_op:
        batch_op.add_column(sa.Column('failed_logins', sa.Integer(), server_default='0', nullable=False))
        batch_op.add_column(sa.Column('last_failed_login_at', blagis.models.base.UTCDateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column('locked_until', blagis.models.base.UTCDateTime(timezone=True), nullable=True))
