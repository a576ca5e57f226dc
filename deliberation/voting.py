"""Ballot rules: state machine, eligibility, majority, quorum, tally, receipts.

Plain functions, data in and data out: nothing here touches Flask or the
database, so every rule is tested without a server (tests/test_voting.py).
The database side (opening, closing, casting a vote safely under concurrency)
lives in `ballots.py`.

Two entry points are for other modules that hold database objects (drafting,
publication): `create_ballot(...)` and `results(ballot)`. They hand off to
`ballots.py` and are documented here so callers need only this module.

Rules chosen (issue 5, part 3):

* States: draft → open → closed → published, never backwards.
* Eligible voters: members of the congress's roster (`accepted`: imported,
  invited or added by the facilitator, or accepted by them after joining with the
  code) whose role is participant, scribe or facilitator, whose invitation is not
  revoked, and who are marked present (by the facilitator, or by themselves with
  « Je suis présent·e » only while the facilitator opened presence). Observers and
  people whose registration is pending or refused never vote, never count as
  eligible, and never give nor carry a procuration. Staff accounts vote only when
  a facilitator (or they themselves) marked them present, like everyone else: an
  animator who is also an official can vote.
* Proxies: an absent eligible member may give their vote to a present one; a
  present member carries at most `max_proxies` (1 or 2, a congress setting).
  A proxy vote is a vote row for the giver, cast by the holder. A giver who
  turns up and is marked present votes in person; the proxy then lapses.
* Majority: "simple" — pour > contre, abstentions not counted (default);
  "two_thirds" — pour ≥ 2/3 of the votes expressed (pour + contre);
  "absolute" — pour > half of the eligible voters.
* Quorum (optional): minimum number of votes cast (abstentions included);
  below it the text is not adopted whatever the counts.
* Changing one's vote while the ballot is open is an option of a nominal
  ballot; it updates the vote row, never adds one. A secret ballot never allows
  it: nothing links the voter to their ballot paper, so there is nothing to
  change (the database refuses a secret ballot with `allow_change`).
* Receipts: nominal — an HMAC of (ballot, voter) with the server secret, which
  anyone holding the secret can recompute; secret — a random code stored in the
  register of voters, proving participation and nothing about the choice.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from . import formats
from .errors import InputError

CHOICES = ("pour", "contre", "abstention")
CHOICE_LABELS = {"pour": "Pour", "contre": "Contre", "abstention": "Abstention"}
STATES = ("draft", "open", "closed", "published")
STATE_LABELS = {"draft": "En préparation", "open": "Ouvert", "closed": "Clos",
                "published": "Publié"}
TRANSITIONS = {"draft": ("open",), "open": ("closed",), "closed": ("published",),
               "published": ()}
MAJORITY_RULES = ("simple", "two_thirds", "absolute")
MAJORITY_LABELS = {
    "simple": "Majorité simple des suffrages exprimés (les abstentions ne comptent pas)",
    "two_thirds": "Majorité des deux tiers des suffrages exprimés",
    "absolute": "Majorité absolue des votant·es inscrit·es (présent·es et représenté·es)",
}
VOTING_ROLES = ("participant", "scribe", "facilitator")
MAX_PROXIES_CHOICES = (1, 2)
QUORUM_MAX = 100_000
RECEIPT_ALPHABET = "ABCDEFGHJKLMNPQRSTUVWXYZ23456789"  # no 0/O, 1/I


#: What a person whose registration the facilitator has not accepted yet is told.
NOT_ACCEPTED = ("Votre inscription attend la validation de l'animation\u00a0: vous pourrez voter "
                "une fois votre inscription acceptée et votre présence enregistrée.")


class VoteRefused(InputError):
    """A vote that is not recorded, with the French reason and a stable code for clients."""

    def __init__(self, message: str, code: str):
        super().__init__(message, field="choice")
        self.code = code


# --- state machine ---------------------------------------------------------------

def check_transition(state: str, target: str) -> None:
    """Raise InputError (French) unless `state` → `target` is allowed."""
    if state not in STATES or target not in STATES:
        raise InputError("État de scrutin inconnu.")
    if target not in TRANSITIONS[state]:
        raise InputError(
            f"Impossible de passer un scrutin « {STATE_LABELS[state].lower()} » "
            f"à l'état « {STATE_LABELS[target].lower()} ».")


def check_open(state: str) -> None:
    """Raise VoteRefused with the right message when a ballot in `state` takes no vote."""
    if state == "open":
        return
    if state == "draft":
        raise VoteRefused("Ce scrutin n'est pas encore ouvert : attendez l'annonce de "
                          "l'animation.", "not_open")
    raise VoteRefused("Ce scrutin est clos : votre vote n'a pas été enregistré.", "closed")


def check_choice(choice: Any) -> str:
    """The choice if it is pour / contre / abstention, else VoteRefused."""
    if not isinstance(choice, str) or choice not in CHOICES:
        raise VoteRefused("Choix invalide : votez Pour, Contre ou Abstention.", "invalid_choice")
    return choice


def check_settings(*, secret: bool, allow_change: bool, majority: str,
                   quorum: int | None) -> None:
    """Validate a ballot's options (creation form, API, drafting)."""
    if majority not in MAJORITY_RULES:
        raise InputError("Règle de majorité inconnue.", field="majority")
    if secret and allow_change:
        raise InputError("Un vote secret ne permet pas de changer son vote : rien ne relie "
                         "le ou la votant·e à son bulletin.", field="allow_change")
    if quorum is not None and (not isinstance(quorum, int) or isinstance(quorum, bool)
                               or not 0 <= quorum <= QUORUM_MAX):
        raise InputError("Le quorum doit être un nombre entier positif.", field="quorum")


# --- eligibility -----------------------------------------------------------------

@dataclass(frozen=True)
class Person:
    """What the rules need to know about someone (built from a Participant row)."""

    id: int
    congress_id: int
    role: str
    active: bool
    present: bool
    accepted: bool  # on the roster: not pending, not refused
    proxy_for_id: int | None = None  # the holder this person gave their vote to


def person_of(participant: Any) -> Person:
    """Snapshot the fields of a Participant (or any object with the same attributes)."""
    return Person(id=participant.id, congress_id=participant.congress_id,
                  role=participant.role, active=bool(participant.is_active),
                  present=bool(participant.present),
                  accepted=participant.roster_status == "accepted",
                  proxy_for_id=participant.proxy_for_id)


def can_vote_role(person: Person) -> bool:
    return person.role in VOTING_ROLES and person.active and person.accepted


def check_voter(person: Person, congress_id: int) -> None:
    """Raise VoteRefused unless `person` may vote in person at a ballot of `congress_id`."""
    if person.congress_id != congress_id:
        raise VoteRefused("Vous n'êtes pas inscrit·e à ce congrès.", "not_member")
    if person.role == "observer":
        raise VoteRefused("Les observateur·rices ne votent pas.", "observer")
    if not person.active:
        raise VoteRefused("Votre accès à ce congrès a été révoqué.", "inactive")
    if not person.accepted:
        raise VoteRefused(NOT_ACCEPTED, "not_accepted")
    if not can_vote_role(person):
        raise VoteRefused("Votre accès à ce congrès a été révoqué.", "inactive")
    if not person.present:
        raise VoteRefused("Seul·es les participant·es présent·es votent : signalez votre "
                          "présence à l'animation.", "absent")


def check_proxy(holder: Person, giver: Person, congress_id: int) -> None:
    """Raise VoteRefused unless `holder` may vote for `giver` by procuration."""
    check_voter(holder, congress_id)
    if giver.congress_id != congress_id or giver.proxy_for_id != holder.id:
        raise VoteRefused("Vous n'avez pas de procuration de cette personne.", "no_proxy")
    if not can_vote_role(giver):
        raise VoteRefused("Cette personne ne peut pas voter (observateur·rice, inscription "
                          "non validée ou accès révoqué).", "proxy_ineligible")
    if giver.present:
        raise VoteRefused("Cette personne est présente : elle vote elle-même, la "
                          "procuration ne s'applique plus.", "proxy_lapsed")


def check_proxy_grant(holder: Person, giver: Person, held: int, limit: int) -> None:
    """Raise InputError unless `giver` may give a procuration to `holder` who holds `held`."""
    if limit not in MAX_PROXIES_CHOICES:
        raise InputError("Le nombre de procurations par personne doit être 1 ou 2.")
    if holder.id == giver.id:
        raise InputError("On ne peut pas se donner procuration à soi-même.")
    if holder.congress_id != giver.congress_id:
        raise InputError("Les deux personnes doivent participer au même congrès.")
    if not can_vote_role(giver) or not can_vote_role(holder):
        raise InputError("Seul·es les élu·es inscrit·es qui votent peuvent donner ou recevoir "
                         "une procuration (pas les observateur·rices ni les inscriptions en "
                         "attente).")
    if giver.present:
        raise InputError("Une personne présente vote elle-même : pas de procuration.")
    if holder.proxy_for_id is not None:
        raise InputError("La personne qui reçoit la procuration a elle-même donné la sienne.")
    if held >= limit:
        raise InputError(f"Cette personne porte déjà {held} procuration"
                         f"{'s' if held > 1 else ''} : c'est le maximum ({limit}).")


@dataclass(frozen=True)
class Attendance:
    """Whom a ballot counts on: members present in the room, and the procurations they
    carry for absent members (within the congress limit)."""

    present: int
    proxies: int

    @property
    def expected(self) -> int:
        return self.present + self.proxies


def attendance(people: Iterable[Person], limit: int) -> Attendance:
    """Present voting members, and the proxies they hold (at most `limit` per holder)."""
    people = list(people)
    present = {p.id for p in people if can_vote_role(p) and p.present}
    held: dict[int, int] = {}
    for p in people:
        if can_vote_role(p) and not p.present and p.proxy_for_id in present:
            held[p.proxy_for_id] = held.get(p.proxy_for_id, 0) + 1
    return Attendance(len(present), sum(min(n, limit) for n in held.values()))


def eligible_count(people: Iterable[Person], limit: int) -> int:
    """Voters a ballot counts on: present members, plus proxies held by present members
    (at most `limit` per holder)."""
    return attendance(people, limit).expected


# --- tally and outcome -----------------------------------------------------------

def normalise_counts(rows: Iterable[tuple[str, int]] | Mapping[str, int]) -> dict[str, int]:
    """`(choice, n)` rows from a GROUP BY (or a mapping) → counts for all three choices."""
    items = rows.items() if isinstance(rows, Mapping) else rows
    counts = dict.fromkeys(CHOICES, 0)
    for choice, n in items:
        if choice not in counts:
            raise ValueError(f"unknown choice {choice!r}")
        counts[choice] += int(n)
    return counts


def _percent(part: int, whole: int) -> float:
    return round(100.0 * part / whole, 1) if whole else 0.0


def decide(counts: Mapping[str, int], *, eligible: int, majority: str = "simple",
           quorum: int | None = None) -> dict[str, Any]:
    """The outcome of a ballot from its counts: adopted or not, why, and percentages.

    Percentages of pour and contre are of the votes expressed (pour + contre);
    abstention is given as a share of the votes cast.
    """
    if majority not in MAJORITY_RULES:
        raise ValueError(f"unknown majority rule {majority!r}")
    counts = normalise_counts(counts)
    pour, contre, abstention = counts["pour"], counts["contre"], counts["abstention"]
    cast = pour + contre + abstention
    expressed = pour + contre
    quorum_reached = quorum is None or cast >= quorum
    if majority == "simple":
        majority_met = pour > contre
    elif majority == "two_thirds":
        majority_met = expressed > 0 and 3 * pour >= 2 * expressed
    else:
        majority_met = 2 * pour > eligible
    adopted = quorum_reached and majority_met
    if not quorum_reached:
        reason = f"Quorum non atteint : {cast} vote{'s' if cast > 1 else ''} sur {quorum} requis."
    elif adopted:
        reason = "Majorité atteinte."
    elif majority == "simple" and pour == contre:
        reason = "Égalité des voix : le texte n'est pas adopté."
    else:
        reason = "Majorité non atteinte."
    return {
        "counts": counts,
        "cast": cast,
        "expressed": expressed,
        "eligible": eligible,
        "participation": _percent(cast, eligible),
        "percent_expressed": {"pour": _percent(pour, expressed),
                              "contre": _percent(contre, expressed)},
        "percent_cast": {c: _percent(counts[c], cast) for c in CHOICES},
        "majority": majority,
        "quorum": quorum,
        "quorum_reached": quorum_reached,
        "adopted": adopted,
        "outcome": "adopté" if adopted else "rejeté",
        "reason": reason,
    }


def progress(cast: int, present: Attendance, quorum: int | None) -> dict[str, Any]:
    """An open ballot's live figures: who is in the room, the quorum and whether it is
    met, votes cast (proxies included) over voters expected.

    As numbers (bars, `aria-valuenow`) and as the French sentences the phone and both
    projectors show, worded once here with French number formats, so three screens in
    two languages of JavaScript never disagree. A quorum of 0 is no quorum.
    """
    expected = present.expected
    required = quorum or None
    met = required is None or cast >= required
    reachable = required is None or max(cast, expected) >= required
    share = _percent(min(cast, expected), expected)
    voters = formats.plural(expected, "votant·e attendu·e", "votant·es attendu·es")
    proxies = (formats.plural(present.proxies, "procuration") if present.proxies
               else "aucune procuration")
    if required is None:
        quorum_text = "Pas de quorum requis."
    else:
        rule = f"Quorum\u00a0: {formats.plural(required, 'vote')} requis"
        if met:
            quorum_text = f"{rule} — atteint."
        elif reachable:
            quorum_text = (f"{rule} — non atteint, il manque "
                           f"{formats.plural(required - cast, 'vote')}.")
        else:
            quorum_text = f"{rule} — hors d'atteinte avec {voters}."
    return {
        "cast": cast,
        "eligible": expected,
        "present": present.present,
        "proxies": present.proxies,
        "quorum": quorum,
        "quorum_met": met,
        "quorum_reachable": reachable,
        "percent": share,
        "texts": {
            "presence": f"{formats.plural(present.present, 'élu·e présent·e', 'élu·es présent·es')}"
                        f", {proxies}\u00a0: {voters}.",
            "quorum": quorum_text,
            "progress": f"{formats.plural(cast, 'vote')} sur {voters} "
                        f"({formats.number(share)}\u202f%).",
        },
    }


def same_tally(snapshot: Mapping[str, Any], counts: Mapping[str, int]) -> bool:
    """True when a frozen results snapshot carries exactly these counts."""
    return normalise_counts(snapshot.get("counts", {})) == normalise_counts(counts)


# --- receipts ----------------------------------------------------------------------

def _format_receipt(raw: bytes) -> str:
    chars = [RECEIPT_ALPHABET[b % len(RECEIPT_ALPHABET)] for b in raw[:12]]
    return "-".join("".join(chars[i:i + 4]) for i in range(0, 12, 4))


def nominal_receipt(secret_key: str | bytes, ballot_id: int, voter_id: int) -> str:
    """Receipt of a nominal vote: HMAC of (ballot, voter); recomputable, unguessable."""
    key = secret_key.encode() if isinstance(secret_key, str) else secret_key
    digest = hmac.new(key, f"motion-ballot:{ballot_id}:{voter_id}".encode(),
                      hashlib.sha256).digest()
    return _format_receipt(digest)


def random_receipt() -> str:
    """Receipt of a secret vote: random, stored with the register of voters only."""
    return _format_receipt(secrets.token_bytes(12))


def clean_receipt(code: Any) -> str:
    """Normalise a receipt typed by a person (case, spaces, dashes)."""
    text = "".join(ch for ch in str(code or "").upper() if ch.isalnum())[:12]
    return "-".join(text[i:i + 4] for i in range(0, len(text), 4))


def clean_key(key: Any) -> str | None:
    """An idempotency key from a client: short printable text, or None."""
    if not isinstance(key, str):
        return None
    key = key.strip()
    if not key or len(key) > 64 or not all(ch.isalnum() or ch in "-_" for ch in key):
        return None
    return key
