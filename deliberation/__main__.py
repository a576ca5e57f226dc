"""`python -m deliberation COMMAND`: the flask commands, plus `classify`.

`classify` is routed straight to the sorting engine's CLI: it reads and writes
CSV files and needs neither the web app nor a database.
"""

from __future__ import annotations

import sys


def main(argv: list[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    if argv and argv[0] == "classify":
        from .clustering.cli import main as classify

        return classify(argv[1:])
    from flask.cli import FlaskGroup

    from . import create_app

    group = FlaskGroup(create_app=lambda: create_app(), add_default_commands=True,
                       help="Motion : commandes d'administration.")
    return group.main(args=argv, prog_name="python -m deliberation", standalone_mode=True)


if __name__ == "__main__":
    sys.exit(main())
