"""the roster: accepted, pending and refused people; open registration; home listing

Revision ID: 0004
Revises: 0003
Create Date: 2026-12-07 15:00:00

Anyone who read a congress's code on the home page could join and vote. A congress now
has a roster: `participant.roster_status` is `accepted` (imported, invited or added by
the facilitator), `pending` (joined with the code, waiting for the facilitator) or
`refused`; only accepted members vote. `congress.registration_open` (« inscriptions
ouvertes ») accepts joiners at once; `congress.listed` puts a congress on the home page.

Existing rows: every participant becomes `accepted` (they were let in under the
earlier rules, and a congress in progress must keep its voters); every congress stays
listed on the home page, as it was (its code there no longer gives a vote: joiners now
wait in the queue), and is closed to registration. New congresses are unlisted until
their facilitator chooses.

On SQLite the check constraint rebuilds `participant` (batch mode), and SQLite runs the
implicit `DELETE FROM participant` of that rebuild's DROP TABLE through the foreign
keys: with them on, every vote, support and register row of an existing database
would go with it. They are switched off around the rebuild (the pragma only takes
effect outside a transaction) and checked afterwards, as 0002 and 0003 do.
"""
from alembic import op
import sqlalchemy as sa


revision = '0004'
down_revision = '0003'
branch_labels = None
depends_on = None

STATUSES = "roster_status IN ('accepted', 'pending', 'refused')"


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
    with _batch('participant') as batch_op:
        batch_op.add_column(sa.Column('roster_status', sa.String(length=10), nullable=False,
                                      server_default='accepted'))
        batch_op.create_check_constraint('ck_participant_roster', STATUSES)
    with _batch('congress') as batch_op:
        batch_op.add_column(sa.Column('registration_open', sa.Boolean(), nullable=False,
                                      server_default=sa.false()))
        batch_op.add_column(sa.Column('listed', sa.Boolean(), nullable=False,
                                      server_default=sa.false()))
    congress = sa.table('congress', sa.column('listed', sa.Boolean()))
    op.execute(congress.update().values(listed=True))  # listed before: still listed


def downgrade():
    with _batch('congress') as batch_op:
        batch_op.drop_column('listed')
        batch_op.drop_column('registration_open')
    with _batch('participant') as batch_op:
        batch_op.drop_constraint('ck_participant_roster', type_='check')
        batch_op.drop_column('roster_status')
