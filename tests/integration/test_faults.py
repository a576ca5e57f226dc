"""Faults on the production stack: a server killed mid-vote, Redis restarted, the
database unreachable. Redis and PostgreSQL outages are staged on a throwaway
redis-server and on a TCP proxy in front of PostgreSQL, never on the machine's services."""

from __future__ import annotations

import gc
import threading
import time
import uuid
from concurrent.futures import ThreadPoolExecutor

import pytest
import requests
from sqlalchemy import select

from .conftest import seed
from .stack import Listener, RedisServer, TcpProxy, cookie_header, login_cookies, wait_for
from .test_two_processes import warm_up


def _vote(phone: Listener, ballot: int, choice: str, key: str) -> dict | None:
    """One vote; None when no answer came back (server gone, connection lost)."""
    try:
        answer = phone.sio.call("ballot.vote", {"ballot": ballot, "choice": choice,
                                                "key": key}, timeout=3)
    except Exception:  # noqa: BLE001 - timeout, disconnected: not acknowledged
        return None
    return answer


# python-engineio's client does not close the websocket of a connection whose server was
# killed under it; it is reclaimed (with a ResourceWarning) by the gc.collect() below.
@pytest.mark.filterwarnings("ignore::ResourceWarning")
@pytest.mark.filterwarnings("ignore::pytest.PytestUnraisableExceptionWarning")
def test_kill_9_during_a_vote_keeps_every_acknowledged_vote(stack, db_app):
    from deliberation.extensions import db
    from deliberation.models import Vote

    target, other = stack.start(2)
    n = 24
    data = seed(db_app, voters=n, phase="vote", ballot=True)
    ballot = data["ballot"]
    phones = [Listener(target.url, data["code"],
                       cookies=cookie_header(login_cookies(target.url, token))).connect()
              for _, token in data["voters"]]
    projector = Listener(other.url, data["code"], "projector").connect()
    plan = [(voter, ("pour", "contre", "abstention")[i % 3], f"k9-{i}-{uuid.uuid4().hex[:8]}")
            for i, (voter, _) in enumerate(data["voters"])]
    acked: dict[int, dict] = {}
    lock = threading.Lock()

    def cast(i: int) -> None:
        voter, choice, key = plan[i]
        answer = _vote(phones[i], ballot, choice, key)
        if answer and answer.get("ok"):
            with lock:
                acked[voter] = answer
        time.sleep(0.05)

    try:
        for phone in phones:
            phone.wait_event("snapshot")
        with ThreadPoolExecutor(6) as pool:
            futures = [pool.submit(cast, i) for i in range(n)]
            wait_for(lambda: len(acked) >= n // 3, 20, 0.01, "the first votes")
            target.kill()  # kill -9, master and worker, while votes are in flight
            for future in futures:
                future.result(timeout=30)
        assert n // 3 <= len(acked) < n, f"{len(acked)} acknowledged before the kill"
        with db_app.app_context():
            stored = dict(db.session.execute(select(Vote.voter_id, Vote.choice)
                                             .where(Vote.ballot_id == ballot)).all())
        # Every acknowledged vote survived the kill, with the acknowledged choice.
        assert {v: a["choice"] for v, a in acked.items()}.items() <= stored.items()

        target.start()
        # Clients reconnect by themselves and get a fresh snapshot (resync).
        wait_for(lambda: all(p.connects >= 2 for p in phones), 30, 0.1, "phones reconnecting")
        wait_for(lambda: all(len(p.received("snapshot")) >= 2 for p in phones), 10, 0.1,
                 "a snapshot after reconnecting")
        state = phones[0].sio.call("ballot.state", {}, timeout=5)
        assert state["ok"] and state["ballots"][0]["cast"] == len(stored)
        # Phones retry what was never acknowledged, with the same keys: counted once.
        for i, (voter, choice, key) in enumerate(plan):
            answer = _vote(phones[i], ballot, choice, key)
            assert answer and answer["ok"], answer
            assert answer["status"] == ("repeat" if voter in stored else "counted")
        with db_app.app_context():
            rows = db.session.execute(select(Vote.voter_id).where(
                Vote.ballot_id == ballot)).scalars().all()
        assert sorted(rows) == sorted(voter for voter, _, _ in plan)
        projector.wait_event("ballot.progress", lambda d: d["cast"] == n, timeout=10)
    finally:
        projector.close()
        for phone in phones:
            phone.close()
        phones.clear()
        gc.collect()


def test_redis_restart_is_reported_and_pushes_resume(stack, db_app, tmp_path):
    own = RedisServer(tmp_path).start()
    try:
        stack.redis_url = own.url  # this stack's servers use the throwaway Redis
        first, second = stack.start(2)
        data = seed(db_app, voters=2)
        warm_up(data, first, second)
        projector = Listener(second.url, data["code"], "projector").connect()
        token = data["voters"][0][1]

        def submit(text: str) -> int:
            return requests.post(f"{first.url}/api/congresses/{data['code']}/contributions",
                                 json={"text": text}, timeout=10,
                                 headers={"Authorization": f"Bearer {token}"}).status_code

        try:
            assert submit("Avant la panne de Redis") == 201
            projector.wait_event("contribution.created",
                                 lambda d: d["text"] == "Avant la panne de Redis", timeout=3)
            workers = [s.workers() for s in (first, second)]
            own.stop()
            for server in (first, second):
                def degraded(s=server):
                    response = requests.get(f"{s.url}/sante", timeout=5)
                    return response.status_code == 503 and response.json()

                health = wait_for(degraded, 10, what="the health check reporting Redis down")
                assert health == {"status": "degraded", "database": "ok", "redis": "error"}
            # The app keeps serving: pages, and contributions stored in the database.
            assert requests.get(f"{first.url}/c/{data['code']}", timeout=10).status_code == 200
            assert submit("Pendant la panne de Redis") == 201
            own.start()
            for server in (first, second):
                server.wait_ready(timeout=30)
            # Pushes resume once each process's Redis listener has reconnected.
            deadline = time.monotonic() + 40
            resumed = None
            for attempt in range(40):
                if time.monotonic() > deadline:
                    break
                text = f"Après la panne de Redis {attempt}"
                assert submit(text) == 201
                try:
                    resumed = projector.wait_event(
                        "contribution.created", lambda d, t=text: d["text"] == t, timeout=1)
                    break
                except AssertionError:
                    continue
            assert resumed is not None, "pushes never resumed after Redis came back"
            # A resync shows what was stored while pushes could not cross.
            snapshot = projector.sio.call("snapshot", {}, timeout=5)["snapshot"]
            assert "Pendant la panne de Redis" in [c["text"] for c in snapshot["latest"]]
            assert all(len(s.workers()) == 1 for s in (first, second))
            assert [s.workers() for s in (first, second)] == workers
        finally:
            projector.close()
    finally:
        own.stop()


def test_database_unreachable_gives_a_clear_page_and_recovers(stack, db_app, database_url):
    from urllib.parse import urlsplit

    address = urlsplit(database_url)
    proxy = TcpProxy(address.hostname, address.port or 5432).start()
    try:
        proxied = database_url.replace(f"{address.hostname}:{address.port}",
                                       f"127.0.0.1:{proxy.port}")
        data = seed(db_app, voters=1)
        (server,) = [stack.server(DATABASE_URL=proxied).start()]
        page = f"{server.url}/c/{data['code']}"
        assert requests.get(page, timeout=10).status_code == 200
        workers = server.workers()
        assert len(workers) == 1

        proxy.cut()
        for _ in range(3):
            started = time.monotonic()
            response = requests.get(page, timeout=20)
            assert response.status_code == 503
            assert "La base de données ne répond pas" in response.text
            assert "Traceback" not in response.text
            assert time.monotonic() - started < 8
            health = requests.get(f"{server.url}/sante", timeout=20)
            assert health.status_code == 503
            assert health.json()["database"] == "error"
        api = requests.get(f"{server.url}/api/congresses/{data['code']}", timeout=20)
        assert api.status_code == 503 and "base de données" in api.json()["error"]
        # No crash loop: the same worker is still serving.
        assert server.alive() and server.workers() == workers

        proxy.restore()
        server.wait_ready(timeout=30)
        assert requests.get(page, timeout=10).status_code == 200
        assert server.workers() == workers
    finally:
        proxy.close()
