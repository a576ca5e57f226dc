"""The web floor: one blueprint per audience, with its pages and forms.

Each module validates what a person sent, calls the domain, commits, hands what
happened to `announce` or `push`, and renders. Identity is established here (login,
invitation links); the socket handlers only read it.

- `participant`: the officials' pages (join, contribute, edit, browse);
- `board`: the facilitator's board, the scribe's capture, the officials' live board;
- `projector`: the room's big screen;
- `votes`: the phone ballot, the facilitator's ballots, presence and proxies;
- `drafting`, `derivation`: the motion's editor, amendments, derived congresses;
- `publication`: the published motion, its exports and the relevé;
- `facilitator`: the back office (login, phases, participants, CSV);
- `privacy`: data protection pages; `api`: the JSON API; `health`: `/sante`;
- `errorpages`, `filters`: French error pages, Jinja filters.

May import: the domain, `push`, the models and the bottom floor. Never `live`; the
domain never imports this package (import-linter holds both, `make lint`).
"""
