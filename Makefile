# The two commands: `make run` and `make test` (see README). Everything else is a step they use.
SHELL := /bin/bash
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
FLASK := $(BIN)/flask --app wsgi
HOST ?= 127.0.0.1
PORT ?= 8000
WORKERS ?= 3
export HOST PORT

.PHONY: run test setup venv assets translations db bench bench-phone clean serve scheduler

run: setup db ## Serve the platform on http://$(HOST):$(PORT) with the scheduler running once
	@$(FLASK) seed accounts
	@echo "Serving on http://$(HOST):$(PORT)  (Ctrl-C stops the web server and the scheduler)"
	@trap 'kill 0' INT TERM EXIT; \
	  $(FLASK) scheduler & \
	  $(BIN)/gunicorn --config gunicorn.conf.py --workers $(WORKERS) wsgi:app

test: setup ## The whole suite (SQLite always; PostgreSQL when TEST_DATABASE_URL is set or a server can be started)
	$(BIN)/pytest $(PYTEST_ARGS)

setup: venv assets translations instance/secret_key instance/forms_keys

venv: $(VENV)/.installed
$(VENV)/.installed: requirements.txt requirements-dev.txt
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --disable-pip-version-check -r requirements.txt -r requirements-dev.txt
	@touch $@

# Front-end assets from the npm registry, pinned by package-lock.json, served by the app (no CDN).
PDFJS_VERSION := 6.5.438
PDFJS_SHA512 := be0f0fc35c7e0052b2e00303be1b9697970e615f1debdf14a0400da0516173bf61a970e7650aa7397a31c371c6f74ed61ce8352583af2e13fbe7a6e875d171a4
# ECharts is bundled from its modules (assets/echarts-entry.js: only the chart types and
# components our charts use) by esbuild, pinned in package.json like everything else.
ESBUILD ?= node_modules/.bin/esbuild
assets: app/static/vendor/.installed
app/static/vendor/.installed: package.json package-lock.json Makefile assets/echarts-entry.js
	npm ci --no-audit --no-fund --loglevel=error
	mkdir -p app/static/vendor
	cp node_modules/weui/dist/style/weui.min.css app/static/vendor/weui.min.css
	rm -f app/static/vendor/echarts.min.js
	$(ESBUILD) assets/echarts-entry.js --bundle --minify --format=iife --global-name=echarts --target=es2017 \
	  --legal-comments=eof --log-level=warning --outfile=app/static/vendor/echarts.custom.js
	# Quill 2, the rich-text editor of the admin's article and announcement forms (wired by
	# app/static/js/editor.js; loaded on those pages only). Its UMD build needs no bundling.
	rm -rf app/static/vendor/quill && mkdir -p app/static/vendor/quill
	cp node_modules/quill/dist/quill.js node_modules/quill/dist/quill.snow.css node_modules/quill/LICENSE \
	  app/static/vendor/quill/
	# PDF.js draws study PDFs inside the reader page (no framing: every response keeps
	# frame-ancestors 'none'); cMaps and standard fonts for PDFs that do not embed their fonts,
	# and the image decoders (JBIG2 scans, JPEG 2000) in their plain-JavaScript builds.
	# Fetched with `npm pack` and checked against the registry's sha512: its optional Node canvas
	# binding lists platform packages this registry lacks, which breaks `npm ci` for the whole
	# lock, and the browser build needs none of it.
	rm -rf app/static/vendor/pdfjs node_modules/.pdfjs && mkdir -p app/static/vendor/pdfjs node_modules/.pdfjs
	cd node_modules/.pdfjs && npm pack pdfjs-dist@$(PDFJS_VERSION) --silent --loglevel=error >/dev/null
	echo "$(PDFJS_SHA512)  node_modules/.pdfjs/pdfjs-dist-$(PDFJS_VERSION).tgz" | sha512sum -c --quiet
	tar -xzf node_modules/.pdfjs/pdfjs-dist-$(PDFJS_VERSION).tgz -C node_modules/.pdfjs
	cp node_modules/.pdfjs/package/build/pdf.min.mjs node_modules/.pdfjs/package/build/pdf.worker.min.mjs app/static/vendor/pdfjs/
	cp -r node_modules/.pdfjs/package/cmaps node_modules/.pdfjs/package/standard_fonts node_modules/.pdfjs/package/wasm \
	  app/static/vendor/pdfjs/
	@touch $@

translations: app/translations/en/LC_MESSAGES/messages.mo
app/translations/en/LC_MESSAGES/messages.mo: app/translations/en/LC_MESSAGES/messages.po | venv
	$(BIN)/pybabel compile --use-fuzzy -d app/translations -l en

# A random key, generated once and kept out of git (instance/ is ignored).
instance/secret_key:
	@mkdir -p instance
	@umask 077 && $(PYTHON) -c 'import secrets; print(secrets.token_urlsafe(48))' > $@
	@echo "generated instance/secret_key"

# The Fernet key of confidential forms (FORMS_KEYS), generated once like the secret key. Keep it
# with the database's backups: without it the answers cannot be read. `flask forms rotate-key`
# replaces it.
instance/forms_keys:
	@mkdir -p instance
	@umask 077 && $(PYTHON) -c 'import base64, secrets; print(base64.urlsafe_b64encode(secrets.token_bytes(32)).decode())' > $@
	@echo "generated instance/forms_keys"

db: setup ## Migrate, then load the question bank and demo data if the database is new
	$(FLASK) db upgrade
	@if $(FLASK) db is-empty; then $(FLASK) seed demo; fi

# Refresh the English catalogue after changing user-visible strings.
messages: venv
	$(BIN)/pybabel extract -F babel.cfg -k _l -k lazy_gettext -k lazy_pgettext:1c,2 --ignore-dirs ".*" -o app/translations/messages.pot .
	$(BIN)/pybabel update -i app/translations/messages.pot -d app/translations -l en --no-fuzzy-matching --ignore-obsolete
	@echo "Translate every empty msgstr in app/translations/en/LC_MESSAGES/messages.po (tests/test_catalogue.py lists them)."

bench: setup ## City-scale benchmark against a bare Flask endpoint; writes benchmarks/RESULTS.md (DB=postgres: RESULTS-postgres.md)
	$(BIN)/python benchmarks/run.py $(if $(DB),--db $(DB)) $(if $(OFFICERS),--officers $(OFFICERS))

bench-phone: setup ## First visit of the chart pages on an emulated cheap phone (issue 16); updates benchmarks/RESULTS.md
	$(BIN)/python benchmarks/slow_phone.py $(if $(RUNS),--runs $(RUNS))

clean:
	rm -rf $(VENV) node_modules app/static/vendor .pytest_cache
