"""Pure ballot rules (deliberation/voting.py): no app, no database."""

from __future__ import annotations

import pytest

from deliberation import voting
from deliberation.errors import InputError
from deliberation.voting import Person, VoteRefused


def person(pid=1, congress=1, role="participant", active=True, present=True, proxy_for=None,
           accepted=True):
    return Person(id=pid, congress_id=congress, role=role, active=active, present=present,
                  accepted=accepted, proxy_for_id=proxy_for)


# --- state machine ---

@pytest.mark.parametrize("state,target", [("draft", "open"), ("open", "closed"),
                                          ("closed", "published")])
def test_allowed_transitions(state, target):
    voting.check_transition(state, target)


@pytest.mark.parametrize("state,target", [("draft", "closed"), ("draft", "published"),
                                          ("open", "draft"), ("open", "published"),
                                          ("closed", "open"), ("published", "closed"),
                                          ("open", "open"), ("nope", "open")])
def test_refused_transitions(state, target):
    with pytest.raises(InputError) as err:
        voting.check_transition(state, target)
    assert "scrutin" in err.value.message.lower() or "inconnu" in err.value.message


def test_votes_only_while_open():
    voting.check_open("open")
    with pytest.raises(VoteRefused) as err:
        voting.check_open("draft")
    assert err.value.code == "not_open" and "pas encore ouvert" in err.value.message
    for state in ("closed", "published"):
        with pytest.raises(VoteRefused) as err:
            voting.check_open(state)
        assert err.value.code == "closed" and "clos" in err.value.message


@pytest.mark.parametrize("choice", ["pour", "contre", "abstention"])
def test_valid_choices(choice):
    assert voting.check_choice(choice) == choice


@pytest.mark.parametrize("choice", [None, "", "POUR", "oui", 1, ["pour"], "pour "])
def test_invalid_choices(choice):
    with pytest.raises(VoteRefused) as err:
        voting.check_choice(choice)
    assert err.value.code == "invalid_choice" and "Choix invalide" in err.value.message


def test_settings():
    voting.check_settings(secret=True, allow_change=False, majority="two_thirds", quorum=10)
    with pytest.raises(InputError, match="secret"):
        voting.check_settings(secret=True, allow_change=True, majority="simple", quorum=None)
    with pytest.raises(InputError, match="majorité"):
        voting.check_settings(secret=False, allow_change=False, majority="unanimity",
                              quorum=None)
    with pytest.raises(InputError, match="quorum"):
        voting.check_settings(secret=False, allow_change=False, majority="simple", quorum=-1)


# --- eligibility ---

def test_present_participant_and_staff_vote():
    voting.check_voter(person(), 1)
    voting.check_voter(person(role="facilitator"), 1)
    voting.check_voter(person(role="scribe"), 1)


@pytest.mark.parametrize("who,code", [
    (person(role="observer"), "observer"),
    (person(present=False), "absent"),
    (person(congress=2), "not_member"),
    (person(active=False), "inactive"),
    (person(accepted=False), "not_accepted"),
])
def test_ineligible_voters(who, code):
    with pytest.raises(VoteRefused) as err:
        voting.check_voter(who, 1)
    assert err.value.code == code


def test_observer_is_never_eligible_even_present():
    with pytest.raises(VoteRefused, match="observateur"):
        voting.check_voter(person(role="observer", present=True), 1)


def test_proxy_rules():
    holder = person(1)
    giver = person(2, present=False, proxy_for=1)
    voting.check_proxy(holder, giver, 1)
    with pytest.raises(VoteRefused) as err:
        voting.check_proxy(person(3), giver, 1)
    assert err.value.code == "no_proxy"
    with pytest.raises(VoteRefused) as err:
        voting.check_proxy(holder, person(2, present=True, proxy_for=1), 1)
    assert err.value.code == "proxy_lapsed"
    with pytest.raises(VoteRefused) as err:
        voting.check_proxy(person(1, present=False), giver, 1)
    assert err.value.code == "absent"
    with pytest.raises(VoteRefused) as err:
        voting.check_proxy(holder, person(2, role="observer", present=False, proxy_for=1), 1)
    assert err.value.code == "proxy_ineligible"


def test_proxy_grant_limits():
    holder, giver = person(1), person(2, present=False)
    voting.check_proxy_grant(holder, giver, held=0, limit=1)
    voting.check_proxy_grant(holder, giver, held=1, limit=2)
    with pytest.raises(InputError, match="maximum"):
        voting.check_proxy_grant(holder, giver, held=1, limit=1)
    with pytest.raises(InputError, match="maximum"):
        voting.check_proxy_grant(holder, giver, held=2, limit=2)
    with pytest.raises(InputError, match="1 ou 2"):
        voting.check_proxy_grant(holder, giver, held=0, limit=3)
    with pytest.raises(InputError, match="soi-même"):
        voting.check_proxy_grant(holder, person(1, present=False), held=0, limit=1)
    with pytest.raises(InputError, match="présente"):
        voting.check_proxy_grant(holder, person(2, present=True), held=0, limit=1)
    with pytest.raises(InputError, match="observateur"):
        voting.check_proxy_grant(holder, person(2, role="observer", present=False), 0, 1)
    with pytest.raises(InputError, match="même congrès"):
        voting.check_proxy_grant(holder, person(2, congress=9, present=False), 0, 1)


def test_eligible_count_counts_present_and_capped_proxies():
    people = [person(1), person(2), person(3, present=False, proxy_for=1),
              person(4, present=False, proxy_for=1), person(5, present=False, proxy_for=2),
              person(6, present=False),                      # absent, no proxy
              person(7, present=False, proxy_for=8),         # holder absent
              person(8, present=False),
              person(9, role="observer"),                    # observers never
              person(10, active=False)]                      # revoked
    assert voting.eligible_count(people, limit=1) == 2 + 1 + 1
    assert voting.eligible_count(people, limit=2) == 2 + 2 + 1


def test_pending_people_never_vote_count_nor_carry_proxies():
    """Registration not accepted (pending or refused): present or not, no vote, no seat
    in the eligible count, no procuration given or carried."""
    with pytest.raises(VoteRefused, match="validation de l'animation") as err:
        voting.check_voter(person(accepted=False, present=True), 1)
    assert err.value.code == "not_accepted"
    holder, giver = person(1), person(2, present=False, proxy_for=1)
    with pytest.raises(VoteRefused) as err:
        voting.check_proxy(person(1, accepted=False), giver, 1)
    assert err.value.code == "not_accepted"
    with pytest.raises(VoteRefused) as err:
        voting.check_proxy(holder, person(2, present=False, proxy_for=1, accepted=False), 1)
    assert err.value.code == "proxy_ineligible"
    for pair in ((person(1, accepted=False), person(2, present=False)),
                 (holder, person(2, present=False, accepted=False))):
        with pytest.raises(InputError, match="inscriptions en attente"):
            voting.check_proxy_grant(*pair, held=0, limit=1)
    people = [person(1), person(2, accepted=False),                  # pending, present
              person(3, present=False, proxy_for=1, accepted=False),  # pending giver
              person(4, present=False, proxy_for=2)]                  # pending holder
    assert voting.eligible_count(people, limit=2) == 1


# --- tally and outcome ---

def test_normalise_counts():
    assert voting.normalise_counts([("pour", 3), ("abstention", 1)]) == {
        "pour": 3, "contre": 0, "abstention": 1}
    assert voting.normalise_counts({}) == {"pour": 0, "contre": 0, "abstention": 0}
    with pytest.raises(ValueError):
        voting.normalise_counts([("peut-être", 1)])


def test_simple_majority_ignores_abstentions():
    r = voting.decide({"pour": 10, "contre": 9, "abstention": 50}, eligible=80)
    assert r["adopted"] and r["outcome"] == "adopté"
    assert r["cast"] == 69 and r["expressed"] == 19
    assert r["percent_expressed"] == {"pour": 52.6, "contre": 47.4}
    assert r["percent_cast"]["abstention"] == 72.5
    assert r["participation"] == 86.2


def test_tie_is_rejected():
    r = voting.decide({"pour": 5, "contre": 5, "abstention": 0}, eligible=10)
    assert not r["adopted"] and r["outcome"] == "rejeté" and "Égalité" in r["reason"]


def test_no_votes_is_rejected_without_dividing_by_zero():
    r = voting.decide({}, eligible=0)
    assert not r["adopted"] and r["percent_expressed"] == {"pour": 0.0, "contre": 0.0}


def test_two_thirds():
    assert voting.decide({"pour": 20, "contre": 10}, eligible=40, majority="two_thirds")[
        "adopted"]
    assert not voting.decide({"pour": 19, "contre": 10}, eligible=40, majority="two_thirds")[
        "adopted"]
    assert not voting.decide({"abstention": 3}, eligible=40, majority="two_thirds")["adopted"]


def test_absolute_majority_of_eligible():
    assert not voting.decide({"pour": 50, "contre": 0}, eligible=100, majority="absolute")[
        "adopted"]
    assert voting.decide({"pour": 51, "contre": 0}, eligible=100, majority="absolute")[
        "adopted"]


def test_quorum():
    below = voting.decide({"pour": 5, "contre": 1, "abstention": 3}, eligible=100, quorum=10)
    assert not below["quorum_reached"] and not below["adopted"]
    assert "Quorum non atteint" in below["reason"]
    reached = voting.decide({"pour": 5, "contre": 1, "abstention": 4}, eligible=100, quorum=10)
    assert reached["quorum_reached"] and reached["adopted"]


def test_same_tally():
    snapshot = voting.decide({"pour": 2}, eligible=3)
    assert voting.same_tally(snapshot, [("pour", 2)])
    assert not voting.same_tally(snapshot, [("pour", 1), ("contre", 1)])


# --- receipts and keys ---

def test_nominal_receipt_is_stable_and_keyed():
    a = voting.nominal_receipt("s3cret", 1, 2)
    assert a == voting.nominal_receipt("s3cret", 1, 2)
    assert a != voting.nominal_receipt("s3cret", 1, 3)
    assert a != voting.nominal_receipt("other", 1, 2)
    assert len(a) == 14 and a.count("-") == 2


def test_random_receipts_differ():
    codes = {voting.random_receipt() for _ in range(200)}
    assert len(codes) == 200


def test_clean_receipt():
    code = voting.random_receipt()
    assert voting.clean_receipt(code.lower().replace("-", " ")) == code
    assert voting.clean_receipt(None) == ""


@pytest.mark.parametrize("raw,expected", [("abc-123_X", "abc-123_X"), ("", None), (None, None),
                                          (42, None), ("x" * 65, None), ("a b", None),
                                          ("<script>", None)])
def test_clean_key(raw, expected):
    assert voting.clean_key(raw) == expected
