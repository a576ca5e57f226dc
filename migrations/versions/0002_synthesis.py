"""synthesis: point statements, per-theme granularity, derived congresses

Revision ID: 0002
Revises: 0001
Create Date: 2026-12-07 11:30:00

"""
from alembic import op
import sqlalchemy as sa


revision = '0002'
down_revision = '0001'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('cluster', schema=None) as batch_op:
        batch_op.add_column(sa.Column('statement', sa.String(length=400), nullable=False,
                                      server_default=''))
        batch_op.alter_column('custom_label', existing_type=sa.String(length=200),
                              type_=sa.String(length=400), existing_nullable=True)
    with op.batch_alter_table('theme', schema=None) as batch_op:
        batch_op.add_column(sa.Column('granularity', sa.Integer(), nullable=False,
                                      server_default='0'))
    with op.batch_alter_table('article', schema=None) as batch_op:
        batch_op.add_column(sa.Column('inherited_md', sa.Text(), nullable=False,
                                      server_default=''))
    with op.batch_alter_table('congress', schema=None) as batch_op:
        batch_op.add_column(sa.Column('derived_from_id', sa.Integer(), nullable=True))
        batch_op.create_foreign_key('fk_congress_derived_from', 'congress',
                                    ['derived_from_id'], ['id'], ondelete='SET NULL')


def downgrade():
    with op.batch_alter_table('congress', schema=None) as batch_op:
        batch_op.drop_constraint('fk_congress_derived_from', type_='foreignkey')
        batch_op.drop_column('derived_from_id')
    with op.batch_alter_table('article', schema=None) as batch_op:
        batch_op.drop_column('inherited_md')
    with op.batch_alter_table('theme', schema=None) as batch_op:
        batch_op.drop_column('granularity')
    with op.batch_alter_table('cluster', schema=None) as batch_op:
        batch_op.alter_column('custom_label', existing_type=sa.String(length=400),
                              type_=sa.String(length=200), existing_nullable=True)
        batch_op.drop_column('statement')
