# fangkong: the two commands are `make run` and `make test`. See README.md.
PYTHON ?= python3.11
VENV := .venv
BIN := $(VENV)/bin
PY := $(BIN)/python
HOST ?= 127.0.0.1
PORT ?= 8000
PYTEST_ARGS ?=
PO := $(wildcard fangkong/locale/*/LC_MESSAGES/django.po)
MO := $(PO:.po=.mo)

.PHONY: run test setup lint format migrate messages bench clean

# The scheduler (missed checks and visits, escalation) runs in the background beside the
# server and stops with it. POSIX sh (dash runs no EXIT trap when a signal kills it, so INT and
# TERM are trapped): Ctrl-C reaches both processes, the shell waits for the scheduler to finish
# its run; when the server exits otherwise, or make is terminated, the scheduler gets SIGTERM.
run: setup migrate
	$(PY) manage.py seed_demo --if-empty
	$(PY) manage.py run_scheduler & scheduler=$$!; \
	trap 'wait $$scheduler; scheduler=' INT; \
	trap '[ -z "$$scheduler" ] || { kill $$scheduler; wait $$scheduler; }' EXIT; \
	trap 'exit 143' TERM; \
	$(PY) manage.py runserver $(HOST):$(PORT)

test: setup
	$(BIN)/pytest $(PYTEST_ARGS)

setup: $(VENV)/.installed node_modules/.installed $(MO)

$(VENV)/.installed: pyproject.toml
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --disable-pip-version-check -e '.[dev]'
	touch $@

node_modules/.installed: package.json package-lock.json
	npm ci --no-audit --no-fund --loglevel=error
	touch $@

fangkong/locale/%/LC_MESSAGES/django.mo: fangkong/locale/%/LC_MESSAGES/django.po $(VENV)/.installed
	cd fangkong && ../$(PY) ../manage.py compilemessages --locale $* >/dev/null

migrate: setup
	$(PY) manage.py migrate --no-input

# Regenerate the message catalogue after changing translatable strings.
messages: setup
	cd fangkong && ../$(PY) ../manage.py makemessages --locale zh_Hans --no-obsolete --add-location file

lint: setup
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy fangkong

format: setup
	$(BIN)/ruff check --fix .
	$(BIN)/ruff format .

clean:
	rm -rf $(VENV) node_modules var

# Benchmarks (see docs/benchmarks.md): BENCH_PERSONS rows per scenario.
BENCH_PERSONS ?= 100000
bench: setup
	$(PY) manage.py bench --persons $(BENCH_PERSONS)
