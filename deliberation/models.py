"""The data model. Integrity rules live in the database (keys, unique and check
constraints) so that no code path, script or second server can bypass them."""

from __future__ import annotations

import secrets
import uuid
from datetime import UTC, date, datetime
from typing import Any

from flask_login import UserMixin
from sqlalchemy import (
    DDL,
    JSON,
    Boolean,
    CheckConstraint,
    Date,
    DateTime,
    Float,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    UniqueConstraint,
    event,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship
from werkzeug.security import check_password_hash, generate_password_hash

from .extensions import db

PHASES = ("preparation", "consultation", "debate", "drafting", "vote", "closed")
PHASE_LABELS = {
    "preparation": "Préparation",
    "consultation": "Consultation en ligne",
    "debate": "Débat en séance",
    "drafting": "Rédaction de la motion",
    "vote": "Vote",
    "closed": "Clos",
}
#: Phases in which officials may post, edit or withdraw contributions.
CONTRIBUTION_PHASES = ("consultation", "debate")
ROLES = ("participant", "scribe", "facilitator", "observer")
#: A person's place on the congress's roster. Imported, invited or added by the
#: facilitator: accepted at once. Joined with the code: pending until the facilitator
#: accepts (or accepted at once while registration is open); refused: access revoked.
ROSTER_STATUSES = ("accepted", "pending", "refused")
ROSTER_LABELS = {"accepted": "inscrit·e", "pending": "en attente de validation",
                 "refused": "inscription refusée"}
#: Roles that log in by password only (their invite token never opens a session).
STAFF_ROLES = ("facilitator", "scribe")
ROLE_LABELS = {
    "participant": "Élu·e participant·e",
    "scribe": "Garant·e du relevé des idées",
    "facilitator": "Animateur·rice",
    "observer": "Observateur·rice",
}
CHANNELS = ("online", "live")
#: `pending`: an official's idea waiting in the facilitator's pre-moderation queue;
#: `rejected`: one the facilitator did not let through (kept for the record). Neither is
#: read by any screen, count or the sorting engine, which all select `visible` ideas.
STATUSES = ("visible", "hidden", "duplicate", "withdrawn", "pending", "rejected")
#: The statuses of the pre-moderation queue (moderation.py).
MODERATION_STATUSES = ("pending", "rejected")
MODERATION_REASON_MAX = 200
CHOICES = ("pour", "contre", "abstention")
BALLOT_STATES = ("draft", "open", "closed", "published")
MAJORITY_RULES = ("simple", "two_thirds", "absolute")
OFF_TOPIC = "hors_theme"
#: Statuses the sorting engine reads, and the screens count in recurring points.
SORTED_STATUSES = ("visible", "duplicate")
#: The largest id a row can have: ids are INTEGER, 32 bits on PostgreSQL (SQLite's take 64).
#: A larger number in a URL, form or socket event names no row; the databases cannot even
#: bind it (PostgreSQL: "integer out of range", SQLite past 2**63 - 1).
MAX_ID = 2**31 - 1


def is_row_id(value: Any) -> bool:
    """Whether `value` can be a row id: an int (not a bool) between 1 and MAX_ID."""
    return isinstance(value, int) and not isinstance(value, bool) and 0 < value <= MAX_ID


def utcnow() -> datetime:
    return datetime.now(UTC).replace(tzinfo=None)


def new_token() -> str:
    """An unguessable invite token (192 bits), safe in a URL."""
    return secrets.token_urlsafe(24)


def _in(column: str, values: tuple[str, ...]) -> str:
    quoted = ", ".join(f"'{v}'" for v in values)
    return f"{column} IN ({quoted})"


class Congress(db.Model):
    __tablename__ = "congress"
    __table_args__ = (
        CheckConstraint(_in("phase", PHASES), name="ck_congress_phase"),
        CheckConstraint("ends_on IS NULL OR starts_on IS NULL OR ends_on >= starts_on",
                        name="ck_congress_dates"),
        CheckConstraint("length(join_code) BETWEEN 4 AND 16", name="ck_congress_join_code"),
        # ballots: a present participant carries one or two procurations at most
        CheckConstraint("max_proxies BETWEEN 1 AND 2", name="ck_congress_max_proxies"),
        # data protection (RGPD): a retention period of 1 day to 10 years
        CheckConstraint("retention_days BETWEEN 1 AND 3650", name="ck_congress_retention"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    title: Mapped[str] = mapped_column(String(200))
    place: Mapped[str] = mapped_column(String(200), default="")
    description: Mapped[str] = mapped_column(Text, default="")
    starts_on: Mapped[date | None] = mapped_column(Date)
    ends_on: Mapped[date | None] = mapped_column(Date)
    join_code: Mapped[str] = mapped_column(String(16), unique=True)
    phase: Mapped[str] = mapped_column(String(20), default="preparation")
    projector_mode: Mapped[str] = mapped_column(String(20), default="overview")
    projector_theme_code: Mapped[str | None] = mapped_column(String(40))
    created_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)
    # --- ballots ---
    # Procurations a present participant may carry (1 or 2).
    max_proxies: Mapped[int] = mapped_column(Integer, default=1)
    # The facilitator lets officials declare themselves present ("Je suis présent·e")
    # outside the vote phase.
    presence_open: Mapped[bool] = mapped_column(Boolean, default=False)
    # --- the roster (issue 13) ---
    # « Inscriptions ouvertes »: officials joining with the code are accepted at once
    # instead of waiting in the facilitator's queue.
    registration_open: Mapped[bool] = mapped_column(Boolean, default=False)
    # « Afficher sur la page d'accueil »: the home page lists this congress (its code
    # included). Joining by typing the code works either way.
    listed: Mapped[bool] = mapped_column(Boolean, default=False)
    # --- pre-moderation (issue 14) ---
    # « Modération avant affichage »: officials' new ideas wait in the facilitator's queue
    # before reaching the projector, the phones and the sorting (moderation.py).
    premoderation: Mapped[bool] = mapped_column(Boolean, default=False)
    # --- data protection (RGPD, issue 6) ---
    # When a participant erases their data, keep their contributions (anonymised): the
    # motion's traceability rests on them. False: their contributions are deleted too.
    keep_contributions_on_erasure: Mapped[bool] = mapped_column(Boolean, default=True)
    # Days after the congress ends before `flask purge-expired` erases personal data.
    retention_days: Mapped[int] = mapped_column(Integer, default=365)
    # A congress derived from an earlier one's published motion (the Ruralitic « déclinaison
    # rurale de la motion nationale »): its themes and articles were copied from it.
    # --- any CSV (issue 18) ---
    # The column mappings the facilitator chose for imports, remembered for the next file
    # of the same shape: {kind: {file signature: {field: column name}}} (csv_import.py).
    import_mappings: Mapped[dict[str, Any] | None] = mapped_column(JSON, default=dict)
    derived_from_id: Mapped[int | None] = mapped_column(
        ForeignKey("congress.id", ondelete="SET NULL", use_alter=True,
                   name="fk_congress_derived_from"))

    themes: Mapped[list[Theme]] = relationship(
        back_populates="congress", order_by="Theme.position", cascade="all, delete-orphan"
    )

    @property
    def phase_label(self) -> str:
        return PHASE_LABELS[self.phase]

    @property
    def accepts_contributions(self) -> bool:
        return self.phase in CONTRIBUTION_PHASES


class Theme(db.Model):
    __tablename__ = "theme"
    __table_args__ = (
        UniqueConstraint("congress_id", "code", name="uq_theme_code"),
        CheckConstraint(f"code <> '{OFF_TOPIC}'", name="ck_theme_code_reserved"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    congress_id: Mapped[int] = mapped_column(ForeignKey("congress.id", ondelete="CASCADE"))
    code: Mapped[str] = mapped_column(String(40))
    title: Mapped[str] = mapped_column(String(300))
    short_title: Mapped[str] = mapped_column(String(80))
    description: Mapped[str] = mapped_column(Text, default="")
    subpoints: Mapped[list[str]] = mapped_column(JSON, default=list)
    keywords: Mapped[list[str]] = mapped_column(JSON, default=list)
    position: Mapped[int] = mapped_column(Integer, default=0)
    # The facilitator's « plus de points / moins de points » for this theme: a correction
    # every refit honours (0 = the engine's own grain; see clustering/points.py).
    granularity: Mapped[int] = mapped_column(Integer, default=0)

    congress: Mapped[Congress] = relationship(back_populates="themes")


class Participant(UserMixin, db.Model):
    __tablename__ = "participant"
    __table_args__ = (
        CheckConstraint(_in("role", ROLES), name="ck_participant_role"),
        CheckConstraint("population IS NULL OR population >= 0", name="ck_participant_population"),
        CheckConstraint("length(display_name) > 0", name="ck_participant_name"),
        UniqueConstraint("congress_id", "email", name="uq_participant_email"),
        CheckConstraint("proxy_for_id IS NULL OR proxy_for_id <> id", name="ck_participant_proxy"),
        CheckConstraint(_in("roster_status", ROSTER_STATUSES), name="ck_participant_roster"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    congress_id: Mapped[int] = mapped_column(ForeignKey("congress.id", ondelete="CASCADE"),
                                             index=True)
    display_name: Mapped[str] = mapped_column(String(120))
    commune: Mapped[str] = mapped_column(String(120), default="")
    department_code: Mapped[str] = mapped_column(String(3), default="")
    mandate: Mapped[str] = mapped_column(String(80), default="")
    population: Mapped[int | None] = mapped_column(Integer)
    role: Mapped[str] = mapped_column(String(20), default="participant")
    email: Mapped[str | None] = mapped_column(String(200))
    password_hash: Mapped[str | None] = mapped_column(String(300))
    invite_token: Mapped[str] = mapped_column(String(64), unique=True, default=new_token)
    token_revoked_at: Mapped[datetime | None] = mapped_column(DateTime)
    present: Mapped[bool] = mapped_column(Boolean, default=False)
    # accepted, pending or refused (ROSTER_STATUSES): only accepted members vote.
    roster_status: Mapped[str] = mapped_column(String(10), default="accepted")
    # Who this participant gave their vote to when absent (proxy, used by the vote).
    proxy_for_id: Mapped[int | None] = mapped_column(ForeignKey("participant.id",
                                                                ondelete="SET NULL"))
    created_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)
    # Bumped on logout, password change, revocation and erasure: cookies and remember
    # tokens issued before it stop working (see `end_sessions`).
    session_epoch: Mapped[int] = mapped_column(Integer, default=0)
    # data protection (RGPD): when this person's personal data was erased (privacy.py).
    erased_at: Mapped[datetime | None] = mapped_column(DateTime)

    congress: Mapped[Congress] = relationship()

    def get_id(self) -> str:
        return f"{self.id}:{self.session_epoch}"

    @property
    def is_active(self) -> bool:
        return self.token_revoked_at is None

    @property
    def role_label(self) -> str:
        return ROLE_LABELS[self.role]

    @property
    def is_staff(self) -> bool:
        return self.role in STAFF_ROLES

    @property
    def is_accepted(self) -> bool:
        """On the roster: may vote once present (pending and refused people never do)."""
        return self.roster_status == "accepted"

    @property
    def roster_label(self) -> str:
        return ROSTER_LABELS.get(self.roster_status, self.roster_status)

    def set_password(self, password: str) -> None:
        """A new password also ends the sessions opened with the old one."""
        self.password_hash = generate_password_hash(password)
        self.end_sessions()

    def end_sessions(self) -> None:
        """Invalidate every session of this account, on every device (the caller commits).

        Cookies and remember tokens carry the epoch they were issued under (`get_id`);
        the user loader refuses an older one. Open sockets are closed by the caller
        after the commit (push.close_participant_sockets).
        """
        self.session_epoch = (self.session_epoch or 0) + 1

    def check_password(self, password: str) -> bool:
        return bool(self.password_hash) and check_password_hash(self.password_hash, password)


class Cluster(db.Model):
    """A recurring point: contributions of one theme that say the same thing."""

    __tablename__ = "cluster"
    __table_args__ = (
        CheckConstraint("size >= 0", name="ck_cluster_size"),
        UniqueConstraint("congress_id", "key", name="uq_cluster_key"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    congress_id: Mapped[int] = mapped_column(ForeignKey("congress.id", ondelete="CASCADE"),
                                             index=True)
    theme_id: Mapped[int | None] = mapped_column(ForeignKey("theme.id", ondelete="SET NULL"))
    # Identifier the sorting engine uses, stable across refits.
    key: Mapped[str] = mapped_column(String(40))
    # Keyword tag of the point (secondary; the statement is what people read).
    label: Mapped[str] = mapped_column(String(200), default="")
    # The point's statement: one sentence chosen among its members by the engine, that a
    # facilitator can project unchanged and write into the motion.
    statement: Mapped[str] = mapped_column(String(400), default="")
    # A facilitator's rename is a new statement, pinned: it wins across refits.
    custom_label: Mapped[str | None] = mapped_column(String(400))
    medoid_id: Mapped[int | None] = mapped_column(
        ForeignKey("contribution.id", ondelete="SET NULL", use_alter=True,
                   name="fk_cluster_medoid"))
    size: Mapped[int] = mapped_column(Integer, default=0)
    created_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)

    theme: Mapped[Theme | None] = relationship()

    @property
    def display_label(self) -> str:
        """What people read: the pinned statement, else the engine's, else the keywords."""
        return self.custom_label or self.statement or self.label


class Contribution(db.Model):
    __tablename__ = "contribution"
    __table_args__ = (
        CheckConstraint(_in("channel", CHANNELS), name="ck_contribution_channel"),
        CheckConstraint(_in("status", STATUSES), name="ck_contribution_status"),
        CheckConstraint("length(text) BETWEEN 1 AND 2000", name="ck_contribution_text"),
        CheckConstraint("author_id IS NOT NULL OR speaker_name IS NOT NULL",
                        name="ck_contribution_author"),
        CheckConstraint("(status = 'duplicate') = (duplicate_of_id IS NOT NULL)",
                        name="ck_contribution_duplicate"),
        CheckConstraint("duplicate_of_id IS NULL OR duplicate_of_id <> id",
                        name="ck_contribution_not_self_duplicate"),
        CheckConstraint("confidence IS NULL OR (confidence >= 0 AND confidence <= 1)",
                        name="ck_contribution_confidence"),
        Index("ix_contribution_congress_theme", "congress_id", "theme_id"),
        # The facilitator's queue reads the pending ideas of one congress, oldest first.
        Index("ix_contribution_congress_status", "congress_id", "status"),
        # An idempotency key is its author's, in one congress: someone else's key (or
        # another congress's) must neither return their contribution nor collide.
        UniqueConstraint("congress_id", "author_id", "client_key",
                         name="uq_contribution_client_key"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    congress_id: Mapped[int] = mapped_column(ForeignKey("congress.id", ondelete="CASCADE"))
    author_id: Mapped[int | None] = mapped_column(ForeignKey("participant.id",
                                                             ondelete="SET NULL"))
    speaker_name: Mapped[str | None] = mapped_column(String(120))
    speaker_commune: Mapped[str | None] = mapped_column(String(120))
    channel: Mapped[str] = mapped_column(String(10), default="online")
    text: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow, onupdate=utcnow)
    theme_id: Mapped[int | None] = mapped_column(ForeignKey("theme.id", ondelete="SET NULL"))
    alt_theme_id: Mapped[int | None] = mapped_column(ForeignKey("theme.id", ondelete="SET NULL"))
    # True when the sorting engine found no theme that fits.
    off_topic: Mapped[bool] = mapped_column(Boolean, default=False)
    confidence: Mapped[float | None] = mapped_column(Float)
    confirmed: Mapped[bool] = mapped_column(Boolean, default=False)
    # Position in the « à vérifier » queue (0 = most uncertain); NULL when not to review.
    review_rank: Mapped[int | None] = mapped_column(Integer)
    cluster_id: Mapped[int | None] = mapped_column(ForeignKey("cluster.id", ondelete="SET NULL"))
    # The facilitator pinned this contribution to its recurring point.
    cluster_locked: Mapped[bool] = mapped_column(Boolean, default=False)
    map_x: Mapped[float | None] = mapped_column(Float)
    map_y: Mapped[float | None] = mapped_column(Float)
    status: Mapped[str] = mapped_column(String(12), default="visible")
    duplicate_of_id: Mapped[int | None] = mapped_column(ForeignKey("contribution.id",
                                                                   ondelete="SET NULL"))
    supports: Mapped[int] = mapped_column(Integer, default=0)
    # --- the sorting report (issue 18) ---
    # The theme code (or « hors_theme ») the engine first proposed; NULL when it never
    # proposed one. Kept when the facilitator corrects it: the report compares the two.
    machine_theme: Mapped[str | None] = mapped_column(String(40))
    # The engine put it in the « à vérifier » queue before anyone checked it.
    machine_review: Mapped[bool] = mapped_column(Boolean, default=False)
    # Idempotency key of the request that created it (a retried submission is applied once).
    client_key: Mapped[str | None] = mapped_column(String(64))
    # --- pre-moderation (issue 14) ---
    # When the facilitator let it through or rejected it (NULL: never queued, or waiting),
    # and the short reason of a rejection, which its author reads.
    moderated_at: Mapped[datetime | None] = mapped_column(DateTime)
    moderation_reason: Mapped[str | None] = mapped_column(String(MODERATION_REASON_MAX))

    author: Mapped[Participant | None] = relationship(foreign_keys=[author_id])
    theme: Mapped[Theme | None] = relationship(foreign_keys=[theme_id])
    alt_theme: Mapped[Theme | None] = relationship(foreign_keys=[alt_theme_id])
    cluster: Mapped[Cluster | None] = relationship(foreign_keys=[cluster_id])

    @property
    def speaker(self) -> str:
        if self.author is not None:
            return self.author.display_name
        return self.speaker_name or ""

    @property
    def commune(self) -> str:
        if self.author is not None:
            return self.author.commune
        return self.speaker_commune or ""


class Support(db.Model):
    """A "+1": an official backs an existing idea instead of posting it again."""

    __tablename__ = "support"
    __table_args__ = (UniqueConstraint("contribution_id", "participant_id",
                                       name="uq_support_once"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    contribution_id: Mapped[int] = mapped_column(ForeignKey("contribution.id",
                                                            ondelete="CASCADE"))
    participant_id: Mapped[int] = mapped_column(ForeignKey("participant.id",
                                                           ondelete="CASCADE"))
    created_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)


class SortRun(db.Model):
    """One run of the sorting engine: its parameters, timings, quality and what changed."""

    __tablename__ = "sort_run"

    id: Mapped[int] = mapped_column(primary_key=True)
    congress_id: Mapped[int] = mapped_column(ForeignKey("congress.id", ondelete="CASCADE"),
                                             index=True)
    started_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)
    finished_at: Mapped[datetime | None] = mapped_column(DateTime)
    n_contributions: Mapped[int] = mapped_column(Integer, default=0)
    params: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    timings: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    quality: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    changes: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    # Serialised result handed back to the next run for warm start and identity matching.
    state: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)


class Article(db.Model):
    """One article of the motion per theme, plus the preamble (theme_id NULL)."""

    __tablename__ = "article"
    __table_args__ = (
        UniqueConstraint("congress_id", "theme_id", name="uq_article_theme"),
        CheckConstraint(_in("kind", ("preamble", "theme")), name="ck_article_kind"),
        CheckConstraint("(kind = 'preamble') = (theme_id IS NULL)", name="ck_article_preamble"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    congress_id: Mapped[int] = mapped_column(ForeignKey("congress.id", ondelete="CASCADE"))
    theme_id: Mapped[int | None] = mapped_column(ForeignKey("theme.id", ondelete="CASCADE"))
    kind: Mapped[str] = mapped_column(String(10), default="theme")
    title: Mapped[str] = mapped_column(String(300))
    body_md: Mapped[str] = mapped_column(Text, default="")
    # In a derived congress: the article as the earlier motion published it, which the
    # draft compares the new recurring points with (confirmed sentence or new one).
    inherited_md: Mapped[str] = mapped_column(Text, default="")
    position: Mapped[int] = mapped_column(Integer, default=0)
    updated_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow, onupdate=utcnow)

    theme: Mapped[Theme | None] = relationship()


class Ballot(db.Model):
    __tablename__ = "ballot"
    __table_args__ = (
        CheckConstraint(_in("state", BALLOT_STATES), name="ck_ballot_state"),
        CheckConstraint("quorum IS NULL OR quorum >= 0", name="ck_ballot_quorum"),
        # --- ballots ---
        CheckConstraint(_in("majority", MAJORITY_RULES), name="ck_ballot_majority"),
        # A secret ballot cannot let a voter change their vote: nothing links them to it.
        CheckConstraint("NOT (secret AND allow_change)", name="ck_ballot_secret_no_change"),
        # Results are frozen when the ballot closes, and only then.
        CheckConstraint("(state IN ('closed', 'published')) = (results IS NOT NULL)",
                        name="ck_ballot_results"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    congress_id: Mapped[int] = mapped_column(ForeignKey("congress.id", ondelete="CASCADE"))
    # NULL article: the ballot on the whole text.
    article_id: Mapped[int | None] = mapped_column(ForeignKey("article.id", ondelete="CASCADE"))
    title: Mapped[str] = mapped_column(String(300))
    state: Mapped[str] = mapped_column(String(12), default="draft")
    secret: Mapped[bool] = mapped_column(Boolean, default=False)
    allow_change: Mapped[bool] = mapped_column(Boolean, default=False)
    quorum: Mapped[int | None] = mapped_column(Integer)
    opened_at: Mapped[datetime | None] = mapped_column(DateTime)
    closed_at: Mapped[datetime | None] = mapped_column(DateTime)
    # --- ballots ---
    # "simple" (pour > contre), "two_thirds" (of votes expressed), "absolute" (of eligible).
    majority: Mapped[str] = mapped_column(String(12), default="simple")
    # The amendment put to the vote (drafting's Amendment model; FK added at integration).
    amendment_id: Mapped[int | None] = mapped_column(Integer, index=True)
    # Frozen tally and outcome, written in the transaction that closes the ballot.
    results: Mapped[dict[str, Any] | None] = mapped_column(JSON(none_as_null=True))
    created_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)
    published_at: Mapped[datetime | None] = mapped_column(DateTime)

    @property
    def kind(self) -> str:
        if self.amendment_id is not None:
            return "amendment"
        return "article" if self.article_id is not None else "text"


class Vote(db.Model):
    __tablename__ = "vote"
    __table_args__ = (
        UniqueConstraint("ballot_id", "voter_id", name="uq_vote_once"),
        CheckConstraint(_in("choice", CHOICES), name="ck_vote_choice"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    ballot_id: Mapped[int] = mapped_column(ForeignKey("ballot.id", ondelete="CASCADE"))
    voter_id: Mapped[int] = mapped_column(ForeignKey("participant.id", ondelete="CASCADE"))
    choice: Mapped[str] = mapped_column(String(12))
    cast_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)
    # --- ballots ---
    # The present participant who cast it when it is a proxy vote (voter = the giver).
    cast_by_id: Mapped[int | None] = mapped_column(ForeignKey("participant.id",
                                                              ondelete="SET NULL"))
    # Idempotency key of the request that last wrote it (a retry is applied once).
    client_key: Mapped[str | None] = mapped_column(String(64))


# --- ballots: secret ballots ---
# Who voted and what was put in the box are stored apart, with nothing to join them:
# no shared key, no timestamp, no insertion order (WITHOUT ROWID on SQLite, so rows are
# kept in primary-key order: voter id for the register, a random id for the box).


class BallotVoter(db.Model):
    """The register of a secret ballot: this person has voted (not what they chose)."""

    __tablename__ = "ballot_voter"
    __table_args__ = ({"sqlite_with_rowid": False},)

    ballot_id: Mapped[int] = mapped_column(ForeignKey("ballot.id", ondelete="CASCADE"),
                                           primary_key=True)
    voter_id: Mapped[int] = mapped_column(ForeignKey("participant.id", ondelete="CASCADE"),
                                          primary_key=True)
    cast_by_id: Mapped[int | None] = mapped_column(ForeignKey("participant.id",
                                                              ondelete="SET NULL"))
    # Random code handed to the voter: proves participation, says nothing of the choice.
    receipt: Mapped[str] = mapped_column(String(32))
    client_key: Mapped[str | None] = mapped_column(String(64))


class BallotBox(db.Model):
    """One anonymous ballot paper of a secret ballot: a random id and a choice, nothing else."""

    __tablename__ = "ballot_box"
    __table_args__ = (
        CheckConstraint(_in("choice", CHOICES), name="ck_ballot_box_choice"),
        Index("ix_ballot_box_ballot", "ballot_id", "choice"),
        {"sqlite_with_rowid": False},
    )

    id: Mapped[str] = mapped_column(String(32), primary_key=True,
                                    default=lambda: uuid.uuid4().hex)
    ballot_id: Mapped[int] = mapped_column(ForeignKey("ballot.id", ondelete="CASCADE"))
    choice: Mapped[str] = mapped_column(String(12))


class AuditEvent(db.Model):
    """Append-only log of what changed and who changed it."""

    __tablename__ = "audit_event"

    id: Mapped[int] = mapped_column(primary_key=True)
    congress_id: Mapped[int | None] = mapped_column(ForeignKey("congress.id",
                                                               ondelete="CASCADE"), index=True)
    at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)
    actor_id: Mapped[int | None] = mapped_column(ForeignKey("participant.id",
                                                            ondelete="SET NULL"))
    action: Mapped[str] = mapped_column(String(60))
    payload: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    prev_hash: Mapped[str] = mapped_column(String(64), default="")
    hash: Mapped[str] = mapped_column(String(64), default="")


# --- drafting: the motion's title, article history, sources and amendments ---
AMENDMENT_STATES = ("proposed", "accepted", "rejected", "put_to_vote", "adopted")
AMENDMENT_STATE_LABELS = {
    "proposed": "proposé",
    "accepted": "accepté",
    "rejected": "rejeté",
    "put_to_vote": "mis aux voix",
    "adopted": "adopté par vote",
}
#: How an article came to draw on a contribution: the proposed draft or a facilitator's link.
SOURCE_ORIGINS = ("draft", "manual")
ARTICLE_BODY_MAX = 20000
AMENDMENT_TEXT_MAX = 5000
AMENDMENT_RATIONALE_MAX = 1000


class Motion(db.Model):
    """The motion of a congress: its title and whether the text is open for amendments."""

    __tablename__ = "motion"
    __table_args__ = (CheckConstraint("length(title) BETWEEN 1 AND 300", name="ck_motion_title"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    congress_id: Mapped[int] = mapped_column(ForeignKey("congress.id", ondelete="CASCADE"),
                                             unique=True)
    title: Mapped[str] = mapped_column(String(300))
    amendments_open: Mapped[bool] = mapped_column(Boolean, default=False)
    updated_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow, onupdate=utcnow)


class ArticleVersion(db.Model):
    """One saved state of an article; restoring an old state saves it as a new version."""

    __tablename__ = "article_version"
    __table_args__ = (
        UniqueConstraint("article_id", "number", name="uq_article_version_number"),
        CheckConstraint("number >= 1", name="ck_article_version_number"),
        CheckConstraint(f"length(body_md) <= {ARTICLE_BODY_MAX}", name="ck_article_version_body"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    article_id: Mapped[int] = mapped_column(ForeignKey("article.id", ondelete="CASCADE"),
                                            index=True)
    number: Mapped[int] = mapped_column(Integer)
    title: Mapped[str] = mapped_column(String(300))
    body_md: Mapped[str] = mapped_column(Text, default="")
    # Who wrote this text: the facilitator, or the official whose amendment was applied.
    author_id: Mapped[int | None] = mapped_column(ForeignKey("participant.id",
                                                             ondelete="SET NULL"))
    amendment_id: Mapped[int | None] = mapped_column(ForeignKey("amendment.id",
                                                                ondelete="SET NULL"))
    note: Mapped[str] = mapped_column(String(300), default="")
    created_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)

    author: Mapped[Participant | None] = relationship(foreign_keys=[author_id])


class ArticleSource(db.Model):
    """An article draws on this contribution (traceability of the motion)."""

    __tablename__ = "article_source"
    __table_args__ = (
        UniqueConstraint("article_id", "contribution_id", name="uq_article_source"),
        CheckConstraint(_in("origin", SOURCE_ORIGINS), name="ck_article_source_origin"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    article_id: Mapped[int] = mapped_column(ForeignKey("article.id", ondelete="CASCADE"),
                                            index=True)
    contribution_id: Mapped[int] = mapped_column(ForeignKey("contribution.id",
                                                            ondelete="CASCADE"))
    origin: Mapped[str] = mapped_column(String(10), default="manual")
    created_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)

    contribution: Mapped[Contribution] = relationship()


class Amendment(db.Model):
    """An official's proposed replacement text for one article, and what became of it."""

    __tablename__ = "amendment"
    __table_args__ = (
        CheckConstraint(_in("state", AMENDMENT_STATES), name="ck_amendment_state"),
        CheckConstraint(f"length(body_md) BETWEEN 1 AND {AMENDMENT_TEXT_MAX}",
                        name="ck_amendment_body"),
        CheckConstraint(f"length(rationale) <= {AMENDMENT_RATIONALE_MAX}",
                        name="ck_amendment_rationale"),
        # Decided exactly when it reached a final state.
        CheckConstraint("(state IN ('proposed', 'put_to_vote')) = (decided_at IS NULL)",
                        name="ck_amendment_decided"),
        Index("ix_amendment_congress_state", "congress_id", "state"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    congress_id: Mapped[int] = mapped_column(ForeignKey("congress.id", ondelete="CASCADE"))
    article_id: Mapped[int] = mapped_column(ForeignKey("article.id", ondelete="CASCADE"),
                                            index=True)
    author_id: Mapped[int | None] = mapped_column(ForeignKey("participant.id",
                                                             ondelete="SET NULL"))
    body_md: Mapped[str] = mapped_column(Text)
    rationale: Mapped[str] = mapped_column(Text, default="")
    # The article version the author saw, to tell the facilitator when the text moved since.
    base_number: Mapped[int | None] = mapped_column(Integer)
    state: Mapped[str] = mapped_column(String(12), default="proposed")
    created_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)
    decided_at: Mapped[datetime | None] = mapped_column(DateTime)
    decided_by_id: Mapped[int | None] = mapped_column(ForeignKey("participant.id",
                                                                 ondelete="SET NULL"))

    article: Mapped[Article] = relationship()
    author: Mapped[Participant | None] = relationship(foreign_keys=[author_id])

    @property
    def state_label(self) -> str:
        return AMENDMENT_STATE_LABELS[self.state]


# -- Publication (issue 14): a published motion never changes ----------------------------
#: "published": the text is public (adopted, or rejected and published as such);
#: "withheld": the whole text was rejected and the facilitator chose not to publish it.
PUBLICATION_KINDS = ("published", "withheld")
CORRECTION_REASON_MAX = 1000


class Publication(db.Model):
    """One published version of a congress's motion, frozen: what every public copy shows.

    Version 1 is written when the whole text's ballot is published; a correction is a
    new row with the next number and its reason, never an update. `document` holds the
    text as published (each article's Markdown and the HTML rendered from it), the
    results and the audit anchor; `digest` is its sha256, recorded in the audit chain.
    """

    __tablename__ = "publication"
    __table_args__ = (
        UniqueConstraint("congress_id", "number", name="uq_publication_number"),
        CheckConstraint("number >= 1", name="ck_publication_number"),
        CheckConstraint(_in("kind", PUBLICATION_KINDS), name="ck_publication_kind"),
        # A correction always says why; only the first version may go without a reason.
        CheckConstraint(f"number = 1 OR length(reason) BETWEEN 1 AND {CORRECTION_REASON_MAX}",
                        name="ck_publication_reason"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    congress_id: Mapped[int] = mapped_column(ForeignKey("congress.id", ondelete="CASCADE"),
                                             index=True)
    number: Mapped[int] = mapped_column(Integer)
    kind: Mapped[str] = mapped_column(String(10), default="published")
    reason: Mapped[str] = mapped_column(Text, default="")
    actor_id: Mapped[int | None] = mapped_column(ForeignKey("participant.id",
                                                            ondelete="SET NULL"))
    published_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)
    document: Mapped[dict[str, Any]] = mapped_column(JSON)
    digest: Mapped[str] = mapped_column(String(64))


#: The database refuses to change a published version (the participant who published it
#: may still be erased: `actor_id` is left out). The same statements are in migration 0005.
PUBLICATION_FROZEN_COLUMNS = "congress_id, number, kind, reason, published_at, document, digest"
PUBLICATION_IMMUTABLE_SQLITE = (
    "CREATE TRIGGER publication_immutable BEFORE UPDATE OF "
    f"{PUBLICATION_FROZEN_COLUMNS} ON publication "
    "BEGIN SELECT RAISE(ABORT, 'a published version never changes'); END")
PUBLICATION_IMMUTABLE_POSTGRESQL = (
    "CREATE OR REPLACE FUNCTION publication_immutable() RETURNS trigger LANGUAGE plpgsql AS "
    "$$ BEGIN RAISE EXCEPTION 'a published version never changes'; END $$; "
    "CREATE TRIGGER publication_immutable BEFORE UPDATE OF "
    f"{PUBLICATION_FROZEN_COLUMNS} ON publication "
    "FOR EACH ROW EXECUTE FUNCTION publication_immutable()")
event.listen(Publication.__table__, "after_create",
             DDL(PUBLICATION_IMMUTABLE_SQLITE).execute_if(dialect="sqlite"))
event.listen(Publication.__table__, "after_create",
             DDL(PUBLICATION_IMMUTABLE_POSTGRESQL).execute_if(dialect="postgresql"))


# -- Live debate (issue 4): idempotent client actions -------------------------------------

class AppliedAction(db.Model):
    """A client-sent action applied once: a retry with the same key gets the same answer."""

    __tablename__ = "applied_action"
    __table_args__ = (
        UniqueConstraint("key", name="uq_applied_action_key"),
        CheckConstraint("length(key) BETWEEN 8 AND 64", name="ck_applied_action_key"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    key: Mapped[str] = mapped_column(String(64))
    congress_id: Mapped[int] = mapped_column(ForeignKey("congress.id", ondelete="CASCADE"),
                                             index=True)
    actor_id: Mapped[int | None] = mapped_column(ForeignKey("participant.id",
                                                            ondelete="SET NULL"))
    action: Mapped[str] = mapped_column(String(40))
    result: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    created_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)


# -- Production (issue 6): sockets of a session, so revoking it closes them ---------------

class SocketConnection(db.Model):
    """An open Socket.IO connection of a logged-in person (any server process).

    Revoking or erasing that person disconnects every sid listed here, through the
    Redis message queue when several processes serve. Rows of connections that
    ended on their own are harmless; `flask purge-expired` removes old ones.
    """

    __tablename__ = "socket_connection"

    sid: Mapped[str] = mapped_column(String(64), primary_key=True)
    participant_id: Mapped[int] = mapped_column(ForeignKey("participant.id",
                                                           ondelete="CASCADE"), index=True)
    connected_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)


# --- room counts (paper and show-of-hands votes) and staff API tokens (issue 18) ---
ROOM_COUNT_METHODS = ("hands", "paper")


class RoomCount(db.Model):
    """Votes counted in the room for a ballot (show of hands or paper ballots).

    One per ballot. Entered by a staff member, confirmed by another (two-person rule):
    until `confirmed_at` it is pending and no result counts it. `people` is how many
    persons were counted; the totals add up to at most that (the rest did not vote).
    """

    __tablename__ = "room_count"
    __table_args__ = (
        CheckConstraint(_in("method", ROOM_COUNT_METHODS), name="ck_room_count_method"),
        CheckConstraint("pour >= 0 AND contre >= 0 AND abstention >= 0 "
                        "AND pour + contre + abstention <= people", name="ck_room_count_totals"),
        CheckConstraint("confirmed_by_id IS NULL OR confirmed_by_id <> recorded_by_id",
                        name="ck_room_count_two_people"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    ballot_id: Mapped[int] = mapped_column(ForeignKey("ballot.id", ondelete="CASCADE"),
                                           unique=True)
    congress_id: Mapped[int] = mapped_column(ForeignKey("congress.id", ondelete="CASCADE"),
                                             index=True)
    method: Mapped[str] = mapped_column(String(10))
    people: Mapped[int] = mapped_column(Integer)
    pour: Mapped[int] = mapped_column(Integer, default=0)
    contre: Mapped[int] = mapped_column(Integer, default=0)
    abstention: Mapped[int] = mapped_column(Integer, default=0)
    recorded_by_id: Mapped[int | None] = mapped_column(
        ForeignKey("participant.id", ondelete="SET NULL"))
    recorded_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)
    confirmed_by_id: Mapped[int | None] = mapped_column(
        ForeignKey("participant.id", ondelete="SET NULL"))
    confirmed_at: Mapped[datetime | None] = mapped_column(DateTime)

    @property
    def counts(self) -> dict[str, int]:
        return {"pour": self.pour, "contre": self.contre, "abstention": self.abstention}


class StaffToken(db.Model):
    """A bearer token for the staff API, scoped to one congress. Only its SHA-256 is
    kept: the token itself is shown once, at creation."""

    __tablename__ = "staff_token"

    id: Mapped[int] = mapped_column(primary_key=True)
    congress_id: Mapped[int] = mapped_column(ForeignKey("congress.id", ondelete="CASCADE"),
                                             index=True)
    created_by_id: Mapped[int | None] = mapped_column(
        ForeignKey("participant.id", ondelete="SET NULL"))
    label: Mapped[str] = mapped_column(String(100))
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    created_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)
    expires_at: Mapped[datetime] = mapped_column(DateTime)
    revoked_at: Mapped[datetime | None] = mapped_column(DateTime)
    last_used_at: Mapped[datetime | None] = mapped_column(DateTime)
