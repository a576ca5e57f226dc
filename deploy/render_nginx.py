"""Print deploy/nginx.conf for other ports: `python deploy/render_nginx.py --listen 8080 5101 5102`.

deploy/nginx.conf is written for 127.0.0.1:8080 in front of 127.0.0.1:5101 and :5102;
scripts/serve-prod.sh and the integration tests render it for the ports they use, so
the file they run is the file in the repository with only the addresses changed.
"""

from __future__ import annotations

import argparse
import re
import sys
from pathlib import Path

CONF = Path(__file__).with_name("nginx.conf")
BACKEND = re.compile(r"^(\s*)server 127\.0\.0\.1:\d+ (.*)$")
LISTEN = re.compile(r"listen 127\.0\.0\.1:8080;")


def render(listen: int, backends: list[int], source: str | None = None) -> str:
    lines, done = [], False
    for line in (source if source is not None else CONF.read_text()).splitlines():
        match = BACKEND.match(line)
        if match:
            if not done:
                indent, options = match.groups()
                lines.extend(f"{indent}server 127.0.0.1:{port} {options}" for port in backends)
                done = True
            continue
        lines.append(LISTEN.sub(f"listen 127.0.0.1:{listen};", line))
    if not done:
        raise SystemExit("deploy/nginx.conf: no upstream server line found")
    return "\n".join(lines) + "\n"


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--listen", type=int, default=8080)
    parser.add_argument("backends", type=int, nargs="+")
    args = parser.parse_args(argv)
    sys.stdout.write(render(args.listen, args.backends))


if __name__ == "__main__":
    main()
