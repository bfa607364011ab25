# make run   – install everything needed, prepare the database and prompts, start the hotline
# make test  – install everything needed and run the whole test suite
# make bench – benchmarks (not part of the tests); results go to docs/benchmarks.md
VENV    := .venv
PY      := $(VENV)/bin/python
IVR     := $(VENV)/bin/ivr
STAMP   := $(VENV)/.installed-stamp
HOST    ?= 127.0.0.1
PORT    ?= 5000

.PHONY: run test bench install system-deps clean

install: system-deps $(STAMP)

system-deps:
	@bash scripts/system-deps.sh

$(STAMP): pyproject.toml
	python3 -m venv $(VENV)
	$(PY) -m pip install -q --upgrade pip
	$(PY) -m pip install -q -e '.[test]'
	touch $(STAMP)

run: install
	$(IVR) db init
	$(IVR) db seed
	$(IVR) prompts render
	$(IVR) serve --host $(HOST) --port $(PORT)

test: install
	$(PY) -m pytest -q

bench: install
	@bash scripts/system-deps.sh bench
	$(PY) -m pip install -q -e '.[test,bench]'
	$(PY) bench/run.py

clean:
	rm -rf $(VENV) instance .pytest_cache
