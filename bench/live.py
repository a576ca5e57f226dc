"""Live latency: a scribe's idea, from submission to its receipt by 500 Socket.IO clients.

`python -m bench live` (or `make bench`) starts the real server (`python app.py`, gevent)
on a free loopback port with a throwaway SQLite database holding the demo congress,
connects N clients (default 500) as officials' phones in one or more worker processes
(python-socketio's client under gevent, so each client is a greenlet), then the scribe
sends ideas over its own socket (`scribe.capture`: validation, live sorting, commit,
push). Each worker stamps the arrival of every `contribution.created`; the latency of
one (idea, client) pair is arrival minus the moment the scribe sent the idea.

Writes live_p50_ms, live_p95_ms, live_max_ms, live_clients (connected), live_ideas,
live_lost ((idea, client) pairs never received) and live_ack_p50_ms (the scribe's own
ack) to build/bench.json; then the same with 5,000 phones as live_5000_* (a national
motion vote). Loss is counted per idea and per client: a client that hears an idea
twice counts once (live_duplicated says how often that happened), so loss is never
negative. Everything is bounded: clients, ideas and a global deadline.
"""

from __future__ import annotations

import sys

if __name__ == "__main__" and "--worker" in sys.argv:  # a client worker: greenlets, not threads
    from gevent import monkey

    monkey.patch_all()
    import logging

    logging.getLogger("engineio.client").setLevel(logging.CRITICAL)  # noisy disconnects

import argparse
import json
import os
import re
import socket
import subprocess
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
CODE = "RURAL26"
SCRIBE = ("releve@motion.local", "motion-demo")
TOKEN = re.compile(r"\[b(\d+)\]")
ROOMS = (500, 5000)  # a regional congress; a national motion vote


# -- the client worker (a subprocess) ---------------------------------------------------------

def worker(url: str, clients: int, connect_s: float) -> int:
    """Connect `clients` sockets, say READY, stamp every idea's arrival until STOP on stdin.

    Each phone is a raw websocket speaking the Engine.IO/Socket.IO text protocol
    (open, connect with auth, pong), read by its own greenlet. A full
    python-socketio client per phone made the load generator, not the server, the
    bottleneck: its per-message work delayed the stamps by hundreds of milliseconds.
    Arrival is stamped on the raw frame, before any JSON decoding.
    """
    import gevent
    import websocket

    arrivals: dict[str, dict[int, float]] = {}  # idea → {client: first arrival}
    duplicates = [0]
    socks = []
    errors: list[str] = []
    prefix = '42["contribution.created"'
    ws_url = url.replace("http://", "ws://", 1) + "/socket.io/?EIO=4&transport=websocket"
    auth = json.dumps({"congress": CODE, "audience": "participants"})

    def reader(ws, client: int):
        while True:
            try:
                frame = ws.recv()
            except Exception:  # noqa: BLE001 - closed at the end of the run
                return
            if not frame:
                return
            if frame == "2":
                try:
                    ws.send("3")
                except Exception:  # noqa: BLE001
                    return
            elif frame.startswith(prefix):
                now = time.time()
                found = TOKEN.search(frame)
                if found:
                    seen = arrivals.setdefault(found.group(1), {})
                    if client in seen:
                        duplicates[0] += 1
                    else:
                        seen[client] = now

    def one(i: int):
        try:
            # websocket-client checks each text frame's UTF-8 in pure Python: with a
            # picture of every theme pushed after each idea, that check (not the server)
            # delayed the stamps. The server is our own, on loopback.
            ws = websocket.create_connection(ws_url, timeout=connect_s,
                                             skip_utf8_validation=True)
            if not ws.recv().startswith("0"):
                raise RuntimeError("no Engine.IO opening")
            ws.send("40" + auth)
            while True:
                frame = ws.recv()
                if frame == "2":
                    ws.send("3")
                elif frame.startswith("44"):
                    raise RuntimeError(f"refused: {frame[:120]}")
                elif frame.startswith("40"):
                    break
            ws.settimeout(None)
        except Exception as exc:  # noqa: BLE001 - a refused client is counted, not fatal
            errors.append(repr(exc)[:200])
            return
        socks.append(ws)
        gevent.spawn(reader, ws, i)

    from gevent.pool import Pool

    pool = Pool(20)  # a steady arrival, not a stampede: each connection gets a snapshot
    deadline = time.monotonic() + connect_s
    for i in range(clients):
        if time.monotonic() > deadline:
            break
        pool.spawn(one, i)
    pool.join(timeout=max(deadline - time.monotonic(), 1))
    # Phones still connecting at the deadline stop here: one that joined mid-run would
    # miss the ideas sent before it, and the count said READY would not be the count
    # whose arrivals are stamped (the loss came out negative: -240 at 5,000).
    pool.kill(block=True, timeout=10)
    if errors:
        print(f"{len(errors)} clients not connected, e.g. {errors[0]}", file=sys.stderr,
              flush=True)
    print(f"READY {len(socks)}", flush=True)
    from gevent.os import tp_read

    buffer = b""
    while b"STOP" not in buffer:
        chunk = tp_read(sys.stdin.fileno(), 64)
        if not chunk:
            break
        buffer += chunk
    print("RESULT " + json.dumps({"clients": len(socks), "duplicates": duplicates[0],
                                  "arrivals": {token: list(times.values())
                                               for token, times in arrivals.items()}}),
          flush=True)
    for sock in socks:
        try:
            sock.close()
        except Exception:  # noqa: BLE001
            pass
    return 0


# -- the driver -------------------------------------------------------------------------------

def raise_fd_limit(wanted: int) -> int:
    """Raise this process's soft limit on open files towards `wanted` (the server and the
    workers it starts inherit it)."""
    import resource

    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    target = wanted if hard == resource.RLIM_INFINITY else min(wanted, hard)
    if soft != resource.RLIM_INFINITY and soft < target:
        resource.setrlimit(resource.RLIMIT_NOFILE, (target, hard))
        return target
    return soft


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def start_server(tmp: Path, extra_env: dict | None = None) -> tuple[subprocess.Popen, str, dict]:
    port = free_port()
    env = {**os.environ, "DATABASE_URL": f"sqlite:///{tmp / 'motion.db'}", "PORT": str(port),
           "HOST": "127.0.0.1", "SECRET_KEY": "bench-live", "MOTION_INSTANCE": str(tmp),
           **(extra_env or {})}
    for args in (["init-db"], ["load-demo"]):
        subprocess.run([sys.executable, "-m", "deliberation", *args], cwd=ROOT, env=env,
                       check=True, capture_output=True, timeout=600)
    log = (tmp / "server.log").open("w")
    process = subprocess.Popen([sys.executable, "app.py"], cwd=ROOT, env=env, stdout=log,
                               stderr=subprocess.STDOUT)
    log.close()
    return process, f"http://127.0.0.1:{port}", env


def wait_ready(url: str, deadline: float) -> None:
    """The server answers HTTP."""
    import requests

    while time.monotonic() < deadline:
        try:
            if requests.get(f"{url}/", timeout=5).status_code == 200:
                return
        except requests.RequestException:
            pass
        time.sleep(0.3)
    raise RuntimeError("server not ready in time")


def scribe_session(url: str):
    """Log the scribe in over HTTP (CSRF form) and return the session cookie header."""
    import requests

    http = requests.Session()
    page = http.get(f"{url}/animation/connexion", timeout=30).text
    token = re.search(r'name="csrf_token" value="([^"]+)"', page)
    data = {"email": SCRIBE[0], "password": SCRIBE[1]}
    if token:
        data["csrf_token"] = token.group(1)
    answer = http.post(f"{url}/animation/connexion", data=data, timeout=30,
                       allow_redirects=False)
    if answer.status_code != 302:
        raise RuntimeError(f"scribe login failed ({answer.status_code})")
    return "; ".join(f"{k}={v}" for k, v in http.cookies.items())


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    if not ordered:
        return float("nan")
    index = min(len(ordered) - 1, max(0, round(q * (len(ordered) - 1))))
    return ordered[index]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench live")
    parser.add_argument("--clients", type=int, action="append",
                        help="phones (repeatable; default: "
                             f"{', '.join(map(str, ROOMS))})")
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--ideas", type=int, default=20)
    parser.add_argument("--interval", type=float, default=2.0,
                        help="seconds between two ideas (a brisk scribe: one every 2 s)")
    parser.add_argument("--deadline", type=float, default=600, help="global bound, seconds")
    parser.add_argument("--worker", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--url", help=argparse.SUPPRESS)
    parser.add_argument("--no-record", action="store_true")
    parser.add_argument("--details", action="store_true",
                        help="print each idea's ack and arrival spread (first, p50, p95, last)")
    parser.add_argument("--no-refit", action="store_true",
                        help="no background refit during the run (figures live_norefit_*): "
                             "isolates the live path from the refit, which runs on the "
                             "event loop")
    args = parser.parse_args(argv)
    if args.worker:
        clients = args.clients[0]
        return worker(args.url, clients, max(120.0, clients / 10))  # 2,500: 250 s
    status = 0
    for clients in args.clients or ROOMS:
        status = status or record_room(args, clients)
    return status


def record_room(args, clients: int) -> int:
    """Measure one room size and record it: 500 phones under live_*, any other size under
    live_<n>_* (live_5000_p95_ms...)."""
    figures, per_idea, acks = measure(args, clients)
    if args.details:
        for token in sorted(per_idea, key=int):
            times = per_idea[token]
            print(f"idea {token:>3}: ack {acks[int(token)]:6.1f} ms, first "
                  f"{min(times):6.1f}, p50 {percentile(times, 0.5):6.1f}, "
                  f"p95 {percentile(times, 0.95):6.1f}, last {max(times):6.1f}",
                  file=sys.stderr)
    if clients != ROOMS[0]:
        figures = {key.replace("live_", f"live_{clients}_", 1): value
                   for key, value in figures.items()}
    if args.no_refit:
        figures = {key.replace("live_", "live_norefit_", 1): value
                   for key, value in figures.items()}
    if args.no_record:
        for key in sorted(figures):
            print(f"{key:32s} {figures[key]}")
    else:
        from .common import record

        record(figures)
    return 0


def measure(args, clients: int) -> tuple[dict, dict[str, list[float]], list[float]]:
    """One run: a server, `clients` phones in `args.workers` processes, the scribe's ideas."""
    import socketio

    raise_fd_limit(clients + 1024)  # each phone is a socket here and one in the server

    deadline = time.monotonic() + args.deadline
    with tempfile.TemporaryDirectory(prefix="motion-bench-live-") as tmp:
        server, url, _ = start_server(
            Path(tmp), {"SORT_DEBOUNCE_S": "3600"} if args.no_refit else None)
        workers: list[subprocess.Popen] = []
        try:
            wait_ready(url, deadline)
            share = [clients // args.workers + (i < clients % args.workers)
                     for i in range(args.workers)]
            workers = [subprocess.Popen(
                [sys.executable, "-m", "bench.live", "--worker", "--url", url,
                 "--clients", str(n)], cwd=ROOT, stdin=subprocess.PIPE,
                stdout=subprocess.PIPE, text=True) for n in share if n]
            connected = 0
            for w in workers:
                line = w.stdout.readline()
                if not line.startswith("READY"):
                    raise RuntimeError(f"client worker failed: {line!r}")
                connected += int(line.split()[1])

            cookie = scribe_session(url)
            scribe = socketio.Client(reconnection=False)
            scribe.connect(url, headers={"Cookie": cookie}, transports=["websocket"],
                           auth={"congress": CODE, "audience": "facilitator"}, wait_timeout=30)
            # Not measured: the first capture after a start fits the sorting model.
            warm = scribe.call("scribe.capture", {"speaker": "Banc d'essai", "key": "bench-warm",
                                                  "text": "Échauffement du banc d'essai."},
                               timeout=max(deadline - time.monotonic(), 1))
            if not warm.get("ok"):
                raise RuntimeError(f"capture refused: {warm}")
            time.sleep(1)
            sent: dict[str, float] = {}
            acks: list[float] = []
            for n in range(args.ideas):
                if time.monotonic() > deadline:
                    break
                text = (f"Idée de banc d'essai [b{n}] : un médiateur numérique itinérant "
                        f"pour les hameaux, passage {n}.")
                t0 = time.time()
                ack = scribe.call("scribe.capture", {"speaker": "Banc d'essai", "text": text,
                                                     "key": f"bench-live-{n:04d}"}, timeout=30)
                acks.append((time.time() - t0) * 1000)
                if not ack.get("ok"):
                    raise RuntimeError(f"capture refused: {ack}")
                sent[str(n)] = t0
                time.sleep(args.interval)
            time.sleep(3)  # the last pushes land
            scribe.disconnect()

            connected = 0  # the phones whose arrivals are stamped (RESULT), not READY's
            latencies: list[float] = []
            per_idea: dict[str, list[float]] = {}
            received = duplicated = 0
            for w in workers:
                out, _ = w.communicate("STOP\n", timeout=120)
                result = json.loads(next(line[7:] for line in out.splitlines()
                                         if line.startswith("RESULT ")))
                print(f"worker: {result['clients']} clients, "
                      f"{sum(len(t) for t in result['arrivals'].values())} arrivals",
                      file=sys.stderr)
                duplicated += result.get("duplicates", 0)
                connected += result["clients"]
                for token, times in result["arrivals"].items():
                    if token in sent:
                        received += len(times)  # distinct clients of this worker
                        latencies.extend((t - sent[token]) * 1000 for t in times)
                        per_idea.setdefault(token, []).extend(
                            (t - sent[token]) * 1000 for t in times)
        finally:
            for w in workers:
                if w.poll() is None:
                    w.kill()
            server.terminate()
            try:
                server.wait(timeout=10)
            except subprocess.TimeoutExpired:
                server.kill()
    figures = {
        "live_clients": connected,
        "live_ideas": len(sent),
        "live_p50_ms": round(percentile(latencies, 0.50), 1),
        "live_p95_ms": round(percentile(latencies, 0.95), 1),
        "live_max_ms": round(max(latencies), 1) if latencies else None,
        # Per idea and per client: each (idea, client) pair heard at least once counts
        # once, so a duplicate never hides a loss and the figure is never negative.
        "live_lost": len(sent) * connected - received,
        "live_duplicated": duplicated,
        "live_ack_p50_ms": round(percentile(acks, 0.50), 1),
    }
    return figures, per_idea, acks


if __name__ == "__main__":
    sys.exit(main())
