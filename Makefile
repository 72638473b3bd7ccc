# Pingan: two commands.
#   make demo   install, build, create var/pingan.db, load the demo city, serve on :8000
#   make test   install what tests need, lint, type-check, test on SQLite and PostgreSQL+PostGIS

SHELL := /bin/bash
VENV ?= .venv
PY := $(VENV)/bin/python
PIP := $(VENV)/bin/pip
PINGAN := $(VENV)/bin/pingan
PG_VERSION ?= 15
HOST ?= 127.0.0.1
PORT ?= 8000
export PINGAN_DATABASE_URL ?= sqlite:///var/pingan.db

.PHONY: demo test install web browser pdftools postgres lint typecheck test-sqlite test-postgres bench clean

$(VENV)/.installed: pyproject.toml
	@test -x $(PY) || python3 -m venv $(VENV)
	$(PIP) install -q --upgrade pip
	$(PIP) install -q -e ".[dev,osm]"
	@touch $@

install: $(VENV)/.installed

# The console is built only once its sources exist, and again only when they change.
WEB_SOURCES := $(wildcard web/package.json web/package-lock.json web/index.html web/*.ts \
	web/tsconfig.json web/src/*.ts web/src/*/*.ts web/src/*.css \
	web/worker.vite.config.ts web/worker/*.html web/worker/*.ts web/worker/*.css web/worker/public/*)
CONSOLE := src/pingan/static/index.html

web: $(if $(wildcard web/package.json),$(CONSOLE))

$(CONSOLE): $(WEB_SOURCES)
	cd web && (npm ci --no-audit --no-fund || npm install --no-audit --no-fund) && npm run build

demo: install web
	$(PINGAN) demo --host $(HOST) --port $(PORT)

# The browser tests drive Debian's Chromium (Playwright downloads nothing); a CJK font
# so the Chinese console renders in screenshots.
browser:
	@if [ ! -x /usr/bin/chromium ] || ! fc-list :lang=zh | grep -q .; then \
		echo "installing chromium and a CJK font"; \
		apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium fonts-wqy-microhei; \
	fi

# The risk-assessment report test reads its PDF back with poppler's pdffonts and pdftotext.
pdftools:
	@if ! command -v pdffonts >/dev/null || ! command -v pdftotext >/dev/null; then \
		echo "installing poppler-utils"; \
		apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq poppler-utils; \
	fi

# PostgreSQL with PostGIS: install the extension package if missing, start the server if stopped.
postgres:
	@if [ ! -f /usr/share/postgresql/$(PG_VERSION)/extension/postgis.control ]; then \
		echo "installing postgresql-$(PG_VERSION)-postgis-3"; \
		apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq postgresql-$(PG_VERSION)-postgis-3; \
	fi
	@if ! pg_isready -q -h 127.0.0.1 -p 5432; then \
		echo "starting PostgreSQL"; \
		pg_ctlcluster --skip-systemctl-redirect $$(ls /etc/postgresql) main start; \
		for i in $$(seq 1 30); do pg_isready -q -h 127.0.0.1 -p 5432 && break; sleep 1; done; \
	fi

lint: install
	$(VENV)/bin/ruff check src tests benchmarks
	$(VENV)/bin/ruff format --check src tests benchmarks

typecheck: install
	$(VENV)/bin/mypy src

test-sqlite: install web browser pdftools
	$(VENV)/bin/pytest -q -p no:cacheprovider --backend sqlite

test-postgres: install postgres web browser pdftools
	$(VENV)/bin/pytest -q -p no:cacheprovider --backend postgres

test: install postgres lint typecheck test-sqlite test-postgres

bench: install postgres
	$(PY) benchmarks/ingest.py

clean:
	rm -rf var .pytest_cache .mypy_cache .ruff_cache
