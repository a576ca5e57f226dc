"""publication versions: a published motion never changes; corrections are new versions

Revision ID: 0005
Revises: 0004
Create Date: 2026-12-07 17:30:00

The public motion was rendered from the live drafting and ballot tables, so anything
changed underneath (an article edited, a ballot's row rewritten) changed what had been
published. A `publication` row is now written when the whole text's ballot is published:
its `document` holds the text as published (each article's Markdown and the HTML
rendered from it), the per-article and whole-text results and the audit anchor, and the
public page, its PDF, `motion.md` and `resultats.json` are rendered from the latest row.
A correction is a new row with the next `number` and its `reason` (required from 2 on);
`kind` is `withheld` when a rejected text was, by the facilitator's choice, not published.

A trigger refuses any UPDATE of a version's content (SQLite and PostgreSQL), so no code
path, script or second server can rewrite one; `actor_id` stays writable, so erasing the
person who published still works (ON DELETE SET NULL). Existing databases get no rows:
a motion published before this revision is frozen on its first reading (adopted), or
waits for the facilitator's choice (rejected). Only a new table: no rebuild.
"""
from alembic import op
import sqlalchemy as sa


revision = '0005'
down_revision = '0004'
branch_labels = None
depends_on = None

FROZEN_COLUMNS = "congress_id, number, kind, reason, published_at, document, digest"
SQLITE_TRIGGER = (
    "CREATE TRIGGER publication_immutable BEFORE UPDATE OF "
    f"{FROZEN_COLUMNS} ON publication "
    "BEGIN SELECT RAISE(ABORT, 'a published version never changes'); END")
POSTGRESQL_TRIGGER = (
    "CREATE OR REPLACE FUNCTION publication_immutable() RETURNS trigger LANGUAGE plpgsql AS "
    "$$ BEGIN RAISE EXCEPTION 'a published version never changes'; END $$; "
    "CREATE TRIGGER publication_immutable BEFORE UPDATE OF "
    f"{FROZEN_COLUMNS} ON publication "
    "FOR EACH ROW EXECUTE FUNCTION publication_immutable()")


def upgrade():
    op.create_table(
        'publication',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('congress_id', sa.Integer(), nullable=False),
        sa.Column('number', sa.Integer(), nullable=False),
        sa.Column('kind', sa.String(length=10), nullable=False),
        sa.Column('reason', sa.Text(), nullable=False),
        sa.Column('actor_id', sa.Integer(), nullable=True),
        sa.Column('published_at', sa.DateTime(), nullable=False),
        sa.Column('document', sa.JSON(), nullable=False),
        sa.Column('digest', sa.String(length=64), nullable=False),
        sa.CheckConstraint('number >= 1', name='ck_publication_number'),
        sa.CheckConstraint("kind IN ('published', 'withheld')", name='ck_publication_kind'),
        sa.CheckConstraint('number = 1 OR length(reason) BETWEEN 1 AND 1000',
                           name='ck_publication_reason'),
        sa.ForeignKeyConstraint(['actor_id'], ['participant.id'], ondelete='SET NULL'),
        sa.ForeignKeyConstraint(['congress_id'], ['congress.id'], ondelete='CASCADE'),
        sa.PrimaryKeyConstraint('id'),
        sa.UniqueConstraint('congress_id', 'number', name='uq_publication_number'),
    )
    op.create_index(op.f('ix_publication_congress_id'), 'publication', ['congress_id'],
                    unique=False)
    dialect = op.get_bind().dialect.name
    if dialect == 'sqlite':
        op.execute(SQLITE_TRIGGER)
    elif dialect == 'postgresql':
        op.execute(POSTGRESQL_TRIGGER)


def downgrade():
    dialect = op.get_bind().dialect.name
    op.drop_index(op.f('ix_publication_congress_id'), table_name='publication')
    op.drop_table('publication')  # its trigger goes with it
    if dialect == 'postgresql':
        op.execute('DROP FUNCTION IF EXISTS publication_immutable()')
