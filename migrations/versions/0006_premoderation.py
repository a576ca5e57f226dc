"""pre-moderation: officials' ideas wait for the facilitator before reaching the screens

Revision ID: 0006
Revises: 0004
Create Date: 2026-12-07 17:30:00

A congress may switch on pre-moderation (`congress.premoderation`, off by default): an
official's new idea is stored `pending` and reaches no screen, phone or sorting until
the facilitator approves it; a rejected one is kept, `rejected`, with its reason
(`contribution.moderation_reason`) and the decision's time (`contribution.moderated_at`).
The status check of `contribution` gains the two statuses, and an index serves the queue.

Existing rows: every congress keeps its ideas flowing (the switch is off); no idea is
pending. Downgrade: ideas still pending or rejected become `hidden` (kept, off the
screens, as the earlier schema can say it).

On SQLite the check constraint rebuilds `contribution` (batch mode), and SQLite runs the
implicit `DELETE FROM contribution` of that rebuild's DROP TABLE through the foreign
keys: with them on, every support, article source and duplicate link pointing at a
contribution would go with it. They are switched off around the rebuild (the pragma only
takes effect outside a transaction) and checked afterwards, as 0003 and 0004 do.
"""
from alembic import op
import sqlalchemy as sa


revision = '0006'
down_revision = '0005'
branch_labels = None
depends_on = None

OLD_STATUSES = "status IN ('visible', 'hidden', 'duplicate', 'withdrawn')"
NEW_STATUSES = "status IN ('visible', 'hidden', 'duplicate', 'withdrawn', 'pending', 'rejected')"


class _batch:
    """batch_alter_table(table), foreign keys off on SQLite while the table is rebuilt."""

    def __init__(self, table):
        self.table = table
        bind = op.get_bind()
        self.raw = bind.connection.driver_connection if bind.dialect.name == 'sqlite' else None

    def __enter__(self):
        if self.raw is not None:
            if self.raw.in_transaction:  # the pragma is a no-op inside a transaction
                self.raw.commit()
            self.raw.execute('PRAGMA foreign_keys=OFF')
        self.batch = op.batch_alter_table(self.table, schema=None)
        return self.batch.__enter__()

    def __exit__(self, *exc):
        self.batch.__exit__(*exc)
        if self.raw is not None and exc[0] is None:
            broken = self.raw.execute('PRAGMA foreign_key_check').fetchall()
            if broken:
                self.raw.rollback()
                raise RuntimeError(f'foreign keys broken by the rebuild: {broken[:5]}')
            if self.raw.in_transaction:
                self.raw.commit()
            self.raw.execute('PRAGMA foreign_keys=ON')
        return False


def upgrade():
    with _batch('congress') as batch_op:
        batch_op.add_column(sa.Column('premoderation', sa.Boolean(), nullable=False,
                                      server_default=sa.false()))
    with _batch('contribution') as batch_op:
        batch_op.add_column(sa.Column('moderated_at', sa.DateTime(), nullable=True))
        batch_op.add_column(sa.Column('moderation_reason', sa.String(length=200),
                                      nullable=True))
        batch_op.drop_constraint('ck_contribution_status', type_='check')
        batch_op.create_check_constraint('ck_contribution_status', NEW_STATUSES)
        batch_op.create_index('ix_contribution_congress_status', ['congress_id', 'status'])


def downgrade():
    contribution = sa.table('contribution', sa.column('status', sa.String()))
    op.execute(contribution.update().where(contribution.c.status.in_(('pending', 'rejected')))
               .values(status='hidden'))
    with _batch('contribution') as batch_op:
        batch_op.drop_index('ix_contribution_congress_status')
        batch_op.drop_constraint('ck_contribution_status', type_='check')
        batch_op.create_check_constraint('ck_contribution_status', OLD_STATUSES)
        batch_op.drop_column('moderation_reason')
        batch_op.drop_column('moderated_at')
    with _batch('congress') as batch_op:
        batch_op.drop_column('premoderation')
