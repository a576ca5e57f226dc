"""`python -m bench votes`: 500, then 2,000 voters vote on one ballot at once over Socket.IO.

The real server (`python app.py`, gevent) runs in a subprocess on a free loopback
port with a throwaway SQLite database. A second subprocess, itself under gevent,
plays the voters: each logs in with its invite link, opens a websocket, and at the
same instant every voter sends `ballot.vote` and waits for the acknowledgement.
Some voters send a retry with the same idempotency key (a lost acknowledgement),
some a second tap with a new key (refused: already voted). Then the facilitator
closes the ballot over HTTP and we time until every client has received the final
tally (`ballot.closed`).

Figures (build/bench.json), for the 500-voter burst (the 2,000-voter burst writes
the same figures as votes_2000_cast, votes_2000_all_acked_s, votes_2000_lost, ...):
  votes_cast           voters who sent a vote
  votes_acknowledged   voters whose vote was acknowledged as recorded
  votes_counted        votes in the database / in the frozen results
  votes_lost           acknowledged votes missing from the database
  votes_duplicated     votes counted more than once (rows beyond one per voter,
                       or a voter acknowledged as "counted" twice)
  votes_all_acked_s    first send → the last voter's acknowledgement; null when any
                       voter who sent was never acknowledged (a time over part of
                       the room would look better than none)
  tally_all_clients_s  close request sent → the last client has the final tally

Bounded: every wait has a timeout, loopback only. Each voter is a socket in the
generator process and in the server: the file-descriptor limit is raised to fit.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from bench.phone import Phone

ROOT = Path(__file__).resolve().parents[1]
CODE = "BENCH5"
STAFF_EMAIL = "bench@motion.local"
STAFF_PASSWORD = "bench-motion-vote"
BURSTS = (500, 2000)      # the room of a regional congress; a national motion vote
RETRY_EVERY = 10         # every 10th voter re-sends with the same key (lost ack)
DOUBLE_TAP_EVERY = 25    # every 25th voter taps again with a new key (refused)
CONNECT_CONCURRENCY = 50


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


# --- child 1: the database ------------------------------------------------------------

def setup(n_voters: int, spec_path: str) -> None:
    """Create the schema, a congress in its vote phase, n present voters, an open ballot."""
    from deliberation import ballots, create_app
    from deliberation.cli import upgrade_database
    from deliberation.extensions import db
    from deliberation.models import Congress, Participant

    # The voters' logins are made here, not against the measured server: 2,000 invite
    # links opened from one loopback address are what its rate limit exists to stop.
    app = create_app({"RATELIMIT_ENABLED": False})
    with app.app_context():
        upgrade_database()
        congress = Congress(title="Congrès de mesure", join_code=CODE, phase="vote")
        db.session.add(congress)
        db.session.flush()
        staff = Participant(congress_id=congress.id, display_name="Animation", role="facilitator",
                            email=STAFF_EMAIL)
        staff.set_password(STAFF_PASSWORD)
        db.session.add(staff)
        voters = [Participant(congress_id=congress.id, display_name=f"Élu·e {i}", present=True,
                              commune="Polminhac", department_code="15")
                  for i in range(n_voters)]
        db.session.add_all(voters)
        db.session.commit()
        ballot = ballots.create(congress, "Ensemble du texte")
        db.session.commit()
        ballots.open_ballot(ballot.id)
        names = (app.config["SESSION_COOKIE_NAME"], app.config.get("REMEMBER_COOKIE_NAME")
                 or "remember_token")
        spec = {"ballot": ballot.id, "code": CODE, "voters": []}
        for voter in voters:
            phone = app.test_client()
            response = phone.get(f"/i/{voter.invite_token}")
            if response.status_code != 302:
                raise RuntimeError(f"login {voter.id}: HTTP {response.status_code}")
            cookie = "; ".join(f"{name}={found.value}" for name in names
                               if (found := phone.get_cookie(name)) is not None)
            spec["voters"].append({"id": voter.id, "cookie": cookie})
    Path(spec_path).write_text(json.dumps(spec), encoding="utf-8")


def tally(ballot_id: int) -> dict:
    """Read back what the database holds (run in a child with the bench DATABASE_URL)."""
    from sqlalchemy import func, select

    from deliberation import ballots, create_app
    from deliberation.extensions import db
    from deliberation.models import Ballot, Vote

    app = create_app()
    with app.app_context():
        ballot = db.session.get(Ballot, ballot_id)
        voters = list(db.session.scalars(select(Vote.voter_id).where(Vote.ballot_id == ballot_id)))
        rows = db.session.scalar(select(func.count()).select_from(Vote)
                                 .where(Vote.ballot_id == ballot_id))
        problems = ballots.verify_report()[1]
        return {"state": ballot.state, "results": ballot.results, "voters": voters,
                "rows": rows, "verify_problems": problems}


# --- child 2: the voters (under gevent) --------------------------------------------------
# Each voter is one raw websocket (bench/phone.py), so that 500 of them fit in one
# process: a full client object per voter made the load generator, not the server,
# the bottleneck.

class Voter(Phone):
    """One phone that also notes when it saw the final tally of its ballot."""

    def __init__(self, url: str, cookie: str, code: str, ballot_id: int):
        self.ballot_id = ballot_id
        self.closed_at: float | None = None
        self.closed_total: int | None = None
        super().__init__(url, cookie, code)

    def on_frame(self, frame: str) -> None:
        if frame.startswith('42["ballot.closed"'):
            payload = json.loads(frame[2:])[1]
            if payload.get("id") == self.ballot_id:
                self.closed_at = time.monotonic()
                self.closed_total = sum((payload.get("results") or {})
                                        .get("counts", {}).values())


def load(url: str, spec_path: str, out_path: str) -> None:
    """Play every voter, then the facilitator's close; write raw timings to out_path."""
    from collections import Counter

    import gevent
    import requests
    from gevent.event import Event
    from gevent.pool import Pool

    spec = json.loads(Path(spec_path).read_text(encoding="utf-8"))
    voters = spec["voters"]
    ballot_id, code = spec["ballot"], spec["code"]
    clients: dict[int, Voter] = {}
    errors: list[str] = []
    failures: list[str] = []

    def connect(voter):
        try:
            client = Voter(url, voter["cookie"], code, ballot_id)
        except Exception as exc:  # noqa: BLE001 - counted, reported
            errors.append(f"connect {voter['id']}: {exc!r}")
            return
        clients[voter["id"]] = client
        gevent.spawn(client.read_loop)

    Pool(CONNECT_CONCURRENCY).map(connect, voters)
    gevent.sleep(1.0)  # let the connection snapshots drain

    acks: dict[int, list[tuple[float, dict]]] = {v["id"]: [] for v in voters}
    sent: set[int] = set()

    def call(client, payload, tries=3):
        # What the phone does: resend under the same key until acknowledged.
        for _ in range(tries):
            answer = client.call("ballot.vote", payload, timeout=10)
            if answer is not None:
                return answer
            failures.append("timeout")
        return None

    def vote(index, voter, start_gate):
        client = clients.get(voter["id"])
        if client is None:
            return
        start_gate.wait()
        choice = ("pour", "pour", "contre", "abstention")[index % 4]
        payload = {"ballot": ballot_id, "choice": choice, "key": f"bench-{voter['id']}-a"}
        sent.add(voter["id"])
        jobs = [gevent.spawn(call, client, payload)]
        if index % RETRY_EVERY == 0:
            jobs.append(gevent.spawn(call, client, dict(payload)))
        if index % DOUBLE_TAP_EVERY == 0:
            jobs.append(gevent.spawn(call, client, {**payload, "key": f"bench-{voter['id']}-b"}))
        for job in jobs:
            job.join(timeout=30)
            if job.value is not None:
                acks[voter["id"]].append((time.monotonic(), job.value))
            else:
                failures.append("no-ack")

    gate = Event()
    workers = [gevent.spawn(vote, i, v, gate) for i, v in enumerate(voters)]
    gevent.sleep(0.2)
    t0 = time.monotonic()
    gate.set()
    gevent.joinall(workers, timeout=60)
    # The time until *every* voter who sent a vote was answered (counted or repeat);
    # None when one of them never was: a time over part of the room would flatter.
    first_ok: dict[int, float] = {}
    for voter_id, items in acks.items():
        times = [t for t, a in items if a.get("ok")]
        if times:
            first_ok[voter_id] = min(times)
    all_acked = (max(first_ok.values()) - t0) if first_ok and set(first_ok) >= sent \
        else None

    # The facilitator closes the ballot over HTTP.
    staff = requests.Session()
    page = staff.get(f"{url}/animation/connexion", timeout=60).text
    token = re.search(r'name="csrf_token" value="([^"]+)"', page).group(1)
    staff.post(f"{url}/animation/connexion", data={"email": STAFF_EMAIL,
                                                    "password": STAFF_PASSWORD,
                                                    "csrf_token": token},
               allow_redirects=False, timeout=60)
    page = staff.get(f"{url}/animation/scrutins", timeout=60).text
    token = re.search(r'name="csrf_token" value="([^"]+)"', page).group(1)
    gevent.sleep(1.0)  # let the last coalesced progress pushes go out
    t_close = time.monotonic()
    response = staff.post(f"{url}/animation/scrutins/{ballot_id}/clore",
                          data={"csrf_token": token}, allow_redirects=False, timeout=30)
    if response.status_code != 302:
        errors.append(f"close: HTTP {response.status_code}")
    deadline = time.monotonic() + 10
    while (any(c.closed_at is None for c in clients.values())
           and time.monotonic() < deadline):
        gevent.sleep(0.02)
    seen = [c.closed_at for c in clients.values() if c.closed_at is not None]
    tally_all = (max(seen) - t_close) if clients and len(seen) == len(clients) else None

    for client in clients.values():
        client.close()
    Path(out_path).write_text(json.dumps({
        "clients": len(clients), "sent": sorted(sent),
        "acks": {str(k): [a for _, a in v] for k, v in acks.items()},
        "all_acked_s": all_acked, "tally_all_clients_s": tally_all,
        "closed_seen": len(seen),
        "closed_totals": sorted({c.closed_total for c in clients.values()
                                 if c.closed_total is not None}),
        "errors": errors[:20], "n_errors": len(errors),
        "failures": dict(Counter(failures)),
        "refusals": dict(Counter(a.get("code") for items in acks.values() for _, a in items
                                 if not a.get("ok")))}), encoding="utf-8")


# --- the parent: orchestrate and record ----------------------------------------------------

def _run_child(code: str, env: dict, timeout: float) -> None:
    run = subprocess.run([sys.executable, "-c", code], cwd=ROOT, env=env, timeout=timeout,
                         capture_output=True, text=True)
    if run.returncode != 0:
        raise RuntimeError(f"bench child failed:\n{run.stderr[-3000:]}")


def _start_server(env: dict, log: Path) -> subprocess.Popen:
    import requests

    handle = log.open("w")
    process = subprocess.Popen([sys.executable, "app.py"], cwd=ROOT, env=env,
                               stdout=handle, stderr=subprocess.STDOUT)
    handle.close()
    deadline = time.monotonic() + 60
    url = f"http://127.0.0.1:{env['PORT']}"
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"server exited: {log.read_text()[-2000:]}")
        try:
            if requests.get(url + "/", timeout=1).status_code == 200:
                return process
        except requests.RequestException:
            time.sleep(0.2)
    process.kill()
    raise RuntimeError("server did not start")


def raise_fd_limit(wanted: int) -> int:
    """Raise this process's soft limit on open files towards `wanted` (children inherit
    it): each voter is one socket in the generator and one in the server."""
    import resource

    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    target = wanted if hard == resource.RLIM_INFINITY else min(wanted, hard)
    if soft != resource.RLIM_INFINITY and soft < target:
        resource.setrlimit(resource.RLIMIT_NOFILE, (target, hard))
        return target
    return soft


def measure(n_voters: int = BURSTS[0]) -> dict:
    n_voters = max(1, n_voters)
    raise_fd_limit(2 * n_voters + 1024)
    with tempfile.TemporaryDirectory(prefix="motion-bench-votes-") as tmp:
        tmp_path = Path(tmp)
        port = _free_port()
        env = {**os.environ, "DATABASE_URL": f"sqlite:///{tmp_path / 'bench.db'}",
               "MOTION_INSTANCE": str(tmp_path), "SECRET_KEY": "bench-votes",
               "HOST": "127.0.0.1", "PORT": str(port), "PYTHONDONTWRITEBYTECODE": "1"}
        env.pop("REDIS_URL", None)
        spec, out, db_out = (str(tmp_path / n) for n in ("spec.json", "out.json", "db.json"))
        _run_child(f"from bench.votes import setup; setup({n_voters}, {spec!r})", env, 300)
        server = _start_server(env, tmp_path / "server.log")
        try:
            _run_child("from gevent import monkey; monkey.patch_all()\n"
                       f"from bench.votes import load; load('http://127.0.0.1:{port}', "
                       f"{spec!r}, {out!r})", env, max(240, n_voters // 5))
        finally:
            server.terminate()
            try:
                server.wait(timeout=10)
            except subprocess.TimeoutExpired:
                server.kill()
                server.wait()
        ballot_id = json.loads(Path(spec).read_text())["ballot"]
        _run_child("import json; from bench.votes import tally\n"
                   f"open({db_out!r}, 'w').write(json.dumps(tally({ballot_id})))", env, 120)
        raw = json.loads(Path(out).read_text())
        stored = json.loads(Path(db_out).read_text())
        server_log = (tmp_path / "server.log").read_text(errors="replace")
    acked = {int(v) for v, answers in raw["acks"].items()
             if any(a.get("ok") and a.get("status") in ("counted", "repeat") for a in answers)}
    counted_twice = sum(1 for answers in raw["acks"].values()
                        if sum(a.get("ok") and a.get("status") == "counted"
                               for a in answers) > 1)
    stored_voters = stored["voters"]
    results = stored["results"] or {}
    figures = {
        "votes_cast": len(raw["sent"]),
        "votes_acknowledged": len(acked),
        "votes_counted": int(results.get("cast", len(stored_voters))),
        # Per voter: an acknowledged voter with no row is lost (never negative).
        "votes_lost": len(acked - set(stored_voters)),
        "votes_duplicated": (stored["rows"] - len(set(stored_voters))) + counted_twice,
        # first send → the last voter's acknowledgement; null unless every voter who
        # sent was acknowledged (votes_acknowledged then says how many were)
        "votes_all_acked_s": (round(raw["all_acked_s"], 3)
                              if raw["all_acked_s"] is not None
                              and len(acked) == len(raw["sent"]) else None),
        "tally_all_clients_s": (round(raw["tally_all_clients_s"], 3)
                                if raw["tally_all_clients_s"] is not None else None),
    }
    details = {"clients_connected": raw["clients"], "closed_seen": raw["closed_seen"],
               "closed_totals": raw["closed_totals"], "client_errors": raw["errors"],
               "verify_problems": stored["verify_problems"], "ballot_state": stored["state"],
               "server_tracebacks": server_log.count("Traceback"),
               "ack_failures": raw["failures"], "refusals": raw["refusals"]}
    if details["server_tracebacks"]:
        details["server_log_tail"] = server_log[-1500:]
    return {"figures": figures, "details": details}


def prefixed(figures: dict, n_voters: int) -> dict:
    """The 500-voter burst keeps its historical keys (votes_*); any other size is
    written under votes_<n>_* (votes_2000_all_acked_s...)."""
    if n_voters == BURSTS[0]:
        return figures
    return {key.replace("votes_", f"votes_{n_voters}_", 1) if key.startswith("votes_")
            else f"{key}_{n_voters}": value for key, value in figures.items()}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.votes")
    parser.add_argument("--voters", type=int, action="append",
                        help="number of simulated voters (repeatable; default: "
                             f"{', '.join(map(str, BURSTS))})")
    args = parser.parse_args(argv)
    from bench.common import record

    status = 0
    for n_voters in args.voters or BURSTS:
        outcome = measure(n_voters)
        figures, details = outcome["figures"], outcome["details"]
        record(prefixed(figures, n_voters))
        print("details:", json.dumps(details, ensure_ascii=False))
        ok = (figures["votes_lost"] == 0 and figures["votes_duplicated"] == 0
              and figures["votes_acknowledged"] == figures["votes_cast"]
              == figures["votes_counted"] and not details["verify_problems"])
        status = status or (0 if ok else 1)
    return status


if __name__ == "__main__":
    sys.exit(main())
