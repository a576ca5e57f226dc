"""The live floor: Socket.IO handlers (`events`), one module for every event a client sends.

May import: the domain, `push`, the models and the bottom floor. Never a blueprint of
`web`; the domain never imports this package (import-linter holds both, `make lint`).
"""

from .events import PacketJSON, init_app

__all__ = ["PacketJSON", "init_app"]
