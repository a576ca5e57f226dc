"""client keys scoped to their author in one congress

Revision ID: 0003
Revises: 0002
Create Date: 2026-12-07 12:50:00

The unique constraint on `contribution.client_key` alone let participant B, sending
A's key, get A's contribution back, and another congress's key hit the constraint (a
500). It becomes unique on (congress_id, author_id, client_key).

On SQLite the constraint is dropped by rebuilding the table (batch mode). SQLite runs
the implicit `DELETE FROM contribution` of that rebuild's DROP TABLE through the
foreign keys: with them on, every support, article source and duplicate link pointing
at a contribution would be deleted or cleared. They are switched off around it (the
pragma only takes effect outside a transaction) and checked afterwards.
"""
from alembic import op
import sqlalchemy as sa


revision = '0003'
down_revision = '0002'
branch_labels = None
depends_on = None

NEW = 'uq_contribution_client_key'
# Names the unnamed constraint of 0001 on SQLite, which reflects it without a name.
OLD_NAMES = {"uq": "uq_old_%(table_name)s_%(column_0_name)s"}


def _unique_on(columns):
    for constraint in sa.inspect(op.get_bind()).get_unique_constraints('contribution'):
        if constraint['column_names'] == columns:
            return constraint['name'] or f"uq_old_contribution_{columns[0]}"
    return None


def _rebuild(change):
    """Run a batch change of `contribution`, foreign keys off on SQLite (see above)."""
    bind = op.get_bind()
    raw = bind.connection.driver_connection if bind.dialect.name == 'sqlite' else None
    if raw is not None:
        if raw.in_transaction:  # the pragma is a no-op inside a transaction
            raw.commit()
        raw.execute('PRAGMA foreign_keys=OFF')
    with op.batch_alter_table('contribution', naming_convention=OLD_NAMES) as batch_op:
        change(batch_op)
    if raw is not None:
        broken = raw.execute('PRAGMA foreign_key_check').fetchall()
        if broken:
            raw.rollback()
            raise RuntimeError(f'foreign keys broken by the rebuild: {broken[:5]}')
        if raw.in_transaction:
            raw.commit()
        raw.execute('PRAGMA foreign_keys=ON')


def upgrade():
    old = _unique_on(['client_key'])

    def change(batch_op):
        if old:
            batch_op.drop_constraint(old, type_='unique')
        batch_op.create_unique_constraint(NEW, ['congress_id', 'author_id', 'client_key'])

    _rebuild(change)


def downgrade():
    def change(batch_op):
        batch_op.drop_constraint(NEW, type_='unique')
        batch_op.create_unique_constraint('contribution_client_key_key', ['client_key'])

    _rebuild(change)
