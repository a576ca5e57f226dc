# Motion — every routine is a target. `make run` and `make test` set everything up.
SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed-$(shell sha1sum requirements.txt | cut -c1-12)
export PYTHONDONTWRITEBYTECODE := 1

.PHONY: install run db test test-fast bench lint browser nginx load serve-prod clean

$(STAMP): requirements.txt
	@test -x $(PY) || $(PYTHON) -m venv $(VENV)
	@# (this machine's pip configuration warns about absent local indexes: noise, filtered)
	@set -o pipefail; $(PY) -m pip install --quiet --disable-pip-version-check --upgrade pip \
		2>&1 | { grep -v '^WARNING: Location' || true; }
	@set -o pipefail; $(PY) -m pip install --quiet --disable-pip-version-check \
		-r requirements.txt 2>&1 | { grep -v '^WARNING: Location' || true; }
	@rm -f $(VENV)/.installed-* && touch $@

# The distilled e5 word table of the sorting engine (deliberation/clustering/distilled.py):
# built once per corpus into build/cache (a few minutes the first time); the stamp, named
# after what the table is built from, spares later runs even the check (1.8 s).
DISTILLED := build/cache/.distilled-$(shell cat corpus/training/statements.csv \
	deliberation/clustering/distil.py | sha1sum | cut -c1-12)

$(DISTILLED): $(STAMP)
	@$(PY) -m deliberation.clustering.distil --if-missing
	@rm -f build/cache/.distilled-* && touch $@

# The e5 vectors of the labelled corpus (deliberation/clustering/sentences.py), the same way:
# about ten minutes the first time.
SENTENCES := build/cache/.sentences-$(shell cat corpus/training/statements.csv \
	corpus/demo/contributions.csv | sha1sum | cut -c1-12)

$(SENTENCES): $(STAMP)
	@$(PY) -m deliberation.clustering.sentence_corpus --if-missing
	@rm -f build/cache/.sentences-* && touch $@

install: $(STAMP) $(DISTILLED) $(SENTENCES)

db: install
	@$(PY) -m deliberation init-db
	@$(PY) -m deliberation load-demo --if-empty

run: db
	@$(PY) -m deliberation demo-info
	@$(PY) app.py

browser:
	@bash scripts/ensure-chromium.sh

# nginx runs deploy/nginx.conf in the integration tests (installed when missing, as root).
nginx:
	@bash scripts/ensure-nginx.sh

test: install browser nginx
	@$(PY) -m pytest -q $(PYTEST_ARGS)

test-fast: install
	@$(PY) -m pytest -q -m "not browser and not integration" $(PYTEST_ARGS)

bench: install
	@$(PY) -m bench

# import-linter: the floors of pyproject.toml [tool.importlinter]; import_graph.py: the
# cycles and the imports hidden inside functions, which import-linter cannot tell apart.
lint: install
	@$(PY) -m ruff check deliberation tests bench app.py
	@$(VENV)/bin/lint-imports --no-cache --no-logo
	@$(PY) scripts/import_graph.py

# --- production (issue 6) ---
serve-prod: install
	@bash scripts/serve-prod.sh

load: install
	@$(PY) -m bench.load

clean:
	rm -rf build .pytest_cache .ruff_cache
