"""synthesis: point statements, per-theme granularity, derived congresses

Revision ID: 0002
Revises: 0001
Create Date: 2026-12-07 11:30:00

On SQLite, widening `cluster.custom_label` and adding the foreign key of
`congress.derived_from_id` rebuild those tables (batch mode), and SQLite runs the
implicit `DELETE` of the rebuild's `DROP TABLE` through the foreign keys: with them
on, dropping `congress` deleted every participant, contribution and ballot of an
existing database. They are switched off around each rebuild (the pragma only takes
effect outside a transaction) and checked afterwards, as 0003 does.
"""
from alembic import op
import sqlalchemy as sa


revision = '0002'
down_revision = '0001'
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
    with _batch('cluster') as batch_op:
        batch_op.add_column(sa.Column('statement', sa.String(length=400), nullable=False,
                                      server_default=''))
        batch_op.alter_column('custom_label', existing_type=sa.String(length=200),
                              type_=sa.String(length=400), existing_nullable=True)
    with _batch('theme') as batch_op:
        batch_op.add_column(sa.Column('granularity', sa.Integer(), nullable=False,
                                      server_default='0'))
    with _batch('article') as batch_op:
        batch_op.add_column(sa.Column('inherited_md', sa.Text(), nullable=False,
                                      server_default=''))
    with _batch('congress') as batch_op:
        batch_op.add_column(sa.Column('derived_from_id', sa.Integer(), nullable=True))
        batch_op.create_foreign_key('fk_congress_derived_from', 'congress',
                                    ['derived_from_id'], ['id'], ondelete='SET NULL')


def downgrade():
    with _batch('congress') as batch_op:
        batch_op.drop_constraint('fk_congress_derived_from', type_='foreignkey')
        batch_op.drop_column('derived_from_id')
    with _batch('article') as batch_op:
        batch_op.drop_column('inherited_md')
    with _batch('theme') as batch_op:
        batch_op.drop_column('granularity')
    with _batch('cluster') as batch_op:
        batch_op.alter_column('custom_label', existing_type=sa.String(length=400),
                              type_=sa.String(length=200), existing_nullable=True)
        batch_op.drop_column('statement')
