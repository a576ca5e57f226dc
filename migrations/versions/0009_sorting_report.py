"""the sorting report: the engine's first proposal for each idea; remembered CSV mappings

Revision ID: 0009
Revises: 0004
Create Date: 2026-12-07 18:20:00

The sorting report (issue 18) tells how well the machine sorted: of the ideas the
facilitator checked, how many the engine had placed right at first. The engine's guess
was overwritten by the facilitator's correction, and the audit log only kept the guess
of the moment of the correction (a refit may have changed it since the first one). So
the first proposal is now stored when the engine makes it:

- `contribution.machine_theme`: the theme code the engine first proposed (or
  `hors_theme`); NULL when it never proposed one (imported with a theme, sorted by hand
  before any run);
- `contribution.machine_review`: the engine put the idea in the « à vérifier » queue
  before anyone checked it.

`congress.import_mappings` (JSON) remembers, per kind of import (contributions,
participants), the columns the facilitator mapped to Motion's fields for a file of a
given shape (its set of column names), so the next such file comes prefilled.

Existing rows: NULL and false (no mapping remembered). The next refit records its proposal for every idea not
yet checked; ideas already checked have no known first proposal and stay out of the
report's figures (nothing is guessed after the fact).

On SQLite the downgrade rebuilds `contribution` (batch mode); the foreign keys are
switched off around the rebuild and checked afterwards, as 0004 does.
"""
from alembic import op
import sqlalchemy as sa


revision = '0009'
down_revision = '0006'
branch_labels = None
depends_on = None


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
    with _batch('contribution') as batch_op:
        batch_op.add_column(sa.Column('machine_theme', sa.String(length=40), nullable=True))
        batch_op.add_column(sa.Column('machine_review', sa.Boolean(), nullable=False,
                                      server_default=sa.false()))
    with _batch('congress') as batch_op:
        batch_op.add_column(sa.Column('import_mappings', sa.JSON(), nullable=True))


def downgrade():
    with _batch('congress') as batch_op:
        batch_op.drop_column('import_mappings')
    with _batch('contribution') as batch_op:
        batch_op.drop_column('machine_review')
        batch_op.drop_column('machine_theme')
