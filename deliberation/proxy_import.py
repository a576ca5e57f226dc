"""Procurations in bulk (issue 18): a CSV of (giver, holder) pairs, under the same rules
as one at a time, all or nothing.

A congress collects its procurations on paper or by e-mail before the vote; typing two
hundred of them into the presence page, one form each, is what a facilitator cannot do
in the morning of the vote. The file names each person in one cell, the way the
facilitator has it at hand:

- a participant number (the `id` column of the participants export);
- an e-mail address (a cell with « @ »);
- or a name, optionally followed by the commune in parentheses, « Marie Durand
  (Polminhac) », when two people of the congress share a name.

Columns: `donneur` (the absent member who gives their vote) and `porteur` (the present
member who carries it); « mandant » / « mandataire » are accepted too.

The rules are those of `ballots.grant_proxy` and `voting.check_proxy_grant`, applied row
after row to the state the earlier rows leave: the congress's limit per holder, no
chains (a holder never gives their own vote, a giver never carries one), a present giver
votes in person (no procuration). A giver who already gave a procuration gives it to
the new holder, as the one-at-a-time form does. The first wrong line stops everything:
a French error with its line number, and nothing is stored (the caller rolls back).
"""

from __future__ import annotations

import re
from dataclasses import replace

from sqlalchemy import select

from . import audit, voting
from .csv_io import Column, CsvError, read_rows
from .errors import InputError
from .extensions import db
from .models import Congress, Participant

COLUMNS = (
    Column("donneur", required=True, max_length=200, aliases=("mandant", "giver"),
           label="donneur"),
    Column("porteur", required=True, max_length=200, aliases=("mandataire", "holder"),
           label="porteur"),
)
_WITH_COMMUNE = re.compile(r"^(?P<name>.+?)\s*\((?P<commune>[^()]*)\)$")


class _People:
    """Finds a congress's members by number, e-mail, or name (and commune)."""

    def __init__(self, congress: Congress):
        self.rows = list(db.session.scalars(select(Participant).filter_by(
            congress_id=congress.id).order_by(Participant.id)))
        self.by_id = {p.id: p for p in self.rows}

    def find(self, cell: str, what: str, line: int) -> Participant:
        cell = cell.strip()
        if cell.isascii() and cell.isdigit():
            person = self.by_id.get(int(cell)) if len(cell) <= 10 else None
            if person is None:
                raise CsvError(f"{what} : aucun·e participant·e n° {cell} dans ce congrès.",
                               line)
            return person
        if "@" in cell:
            found = [p for p in self.rows if (p.email or "").casefold() == cell.casefold()]
            if not found:
                raise CsvError(f"{what} : aucune personne du congrès n'a l'adresse « {cell} ».",
                               line)
            return found[0]
        name, commune = cell, None
        match = _WITH_COMMUNE.match(cell)
        if match:
            name, commune = match["name"], match["commune"].strip()
        found = [p for p in self.rows if p.display_name.casefold() == name.casefold()
                 and (commune is None or (p.commune or "").casefold() == commune.casefold())]
        if not found:
            raise CsvError(f"{what} : personne ne s'appelle « {cell} » dans ce congrès.", line)
        if len(found) > 1:
            raise CsvError(f"{what} : {len(found)} personnes s'appellent « {name} » : "
                           "ajoutez la commune entre parenthèses, ou donnez leur numéro ou "
                           "leur adresse.", line)
        return found[0]


def import_proxies(congress: Congress, data: bytes, actor_id: int | None) -> int:
    """Register every procuration of the file, or none (a CsvError names the first wrong
    line). Flushes and records the audit entries; the caller commits or rolls back."""
    rows = read_rows(data, COLUMNS)
    people = _People(congress)
    #: giver id → holder id, as the file's rows leave it so far.
    gives = {p.id: p.proxy_for_id for p in people.rows if p.proxy_for_id is not None}
    seen: dict[int, int] = {}
    planned: list[tuple[Participant, Participant]] = []
    for row in rows:
        line = row["_line"]
        giver = people.find(row["donneur"], "donneur", line)
        holder = people.find(row["porteur"], "porteur", line)
        if giver.id in seen:
            raise CsvError(f"{giver.display_name} donne déjà sa procuration à la ligne "
                           f"{seen[giver.id]}.", line)
        seen[giver.id] = line
        held = sum(1 for g, h in gives.items() if h == holder.id and g != giver.id)
        try:
            voting.check_proxy_grant(
                replace(voting.person_of(holder), proxy_for_id=gives.get(holder.id)),
                replace(voting.person_of(giver), proxy_for_id=gives.get(giver.id)),
                held, congress.max_proxies)
            if any(h == giver.id for h in gives.values()):
                raise InputError("cette personne porte elle-même des procurations : elle "
                                 "ne peut pas donner la sienne.")
        except InputError as exc:
            message = exc.message[0].lower() + exc.message[1:]
            raise CsvError(f"{giver.display_name} → {holder.display_name} : {message}",
                           line) from None
        gives[giver.id] = holder.id
        planned.append((giver, holder))
    for giver, holder in planned:
        giver.proxy_for_id = holder.id
        audit.record("proxy.granted", congress.id, actor_id, giver=giver.id, holder=holder.id,
                     via="import")
    db.session.flush()
    return len(planned)
