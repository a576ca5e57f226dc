"""room counts (paper and show-of-hands votes) and staff API tokens

Revision ID: 0010
Revises: 0004
Create Date: 2026-12-07 18:30:00

Two new tables, nothing rebuilt. `room_count` holds the votes counted in the room for
a ballot (one per ballot): the method, the people counted, the totals per choice, who
entered them and who confirmed them (never the same person: a check constraint).
`staff_token` holds the SHA-256 of the staff API's bearer tokens, one congress each,
with an expiry and a revocation date.
"""
from alembic import op
import sqlalchemy as sa


revision = '0010'
down_revision = '0009'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        'room_count',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('ballot_id', sa.Integer(), nullable=False),
        sa.Column('congress_id', sa.Integer(), nullable=False),
        sa.Column('method', sa.String(length=10), nullable=False),
        sa.Column('people', sa.Integer(), nullable=False),
        sa.Column('pour', sa.Integer(), nullable=False),
        sa.Column('contre', sa.Integer(), nullable=False),
        sa.Column('abstention', sa.Integer(), nullable=False),
        sa.Column('recorded_by_id', sa.Integer(), nullable=True),
        sa.Column('recorded_at', sa.DateTime(), nullable=False),
        sa.Column('confirmed_by_id', sa.Integer(), nullable=True),
        sa.Column('confirmed_at', sa.DateTime(), nullable=True),
        sa.CheckConstraint("method IN ('hands', 'paper')", name='ck_room_count_method'),
        sa.CheckConstraint('pour >= 0 AND contre >= 0 AND abstention >= 0 '
                           'AND pour + contre + abstention <= people',
                           name='ck_room_count_totals'),
        sa.CheckConstraint('confirmed_by_id IS NULL OR confirmed_by_id <> recorded_by_id',
                           name='ck_room_count_two_people'),
        sa.ForeignKeyConstraint(['ballot_id'], ['ballot.id'], ondelete='CASCADE'),
        sa.ForeignKeyConstraint(['congress_id'], ['congress.id'], ondelete='CASCADE'),
        sa.ForeignKeyConstraint(['recorded_by_id'], ['participant.id'], ondelete='SET NULL'),
        sa.ForeignKeyConstraint(['confirmed_by_id'], ['participant.id'], ondelete='SET NULL'),
        sa.PrimaryKeyConstraint('id'),
        sa.UniqueConstraint('ballot_id'),
    )
    op.create_index('ix_room_count_congress_id', 'room_count', ['congress_id'])
    op.create_table(
        'staff_token',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('congress_id', sa.Integer(), nullable=False),
        sa.Column('created_by_id', sa.Integer(), nullable=True),
        sa.Column('label', sa.String(length=100), nullable=False),
        sa.Column('token_hash', sa.String(length=64), nullable=False),
        sa.Column('created_at', sa.DateTime(), nullable=False),
        sa.Column('expires_at', sa.DateTime(), nullable=False),
        sa.Column('revoked_at', sa.DateTime(), nullable=True),
        sa.Column('last_used_at', sa.DateTime(), nullable=True),
        sa.ForeignKeyConstraint(['congress_id'], ['congress.id'], ondelete='CASCADE'),
        sa.ForeignKeyConstraint(['created_by_id'], ['participant.id'], ondelete='SET NULL'),
        sa.PrimaryKeyConstraint('id'),
        sa.UniqueConstraint('token_hash'),
    )
    op.create_index('ix_staff_token_congress_id', 'staff_token', ['congress_id'])


def downgrade():
    op.drop_index('ix_staff_token_congress_id', table_name='staff_token')
    op.drop_table('staff_token')
    op.drop_index('ix_room_count_congress_id', table_name='room_count')
    op.drop_table('room_count')
