# Two commands do all the set-up on a machine with Python 3.11+ and make:
#   make demo   install, migrate, seed a demo clinic, serve http://127.0.0.1:8000
#   make test   install, lint, type-check, check import contracts, run the tests
PYTHON ?= python3
UV_VERSION := 0.13.9
TOOLS := .tools
UV := $(TOOLS)/bin/uv
VENV := .venv
RUN := $(UV) run --frozen --no-sync
export UV_PYTHON := $(PYTHON)
export UV_PYTHON_DOWNLOADS := never
export UV_PROJECT_ENVIRONMENT := $(VENV)

.PHONY: install demo serve test test-browser lint typecheck contracts pytest bench bench-line bench-voice bench-dispatch clean

$(UV):
	$(PYTHON) -m venv $(TOOLS)
	$(TOOLS)/bin/pip install --quiet --disable-pip-version-check uv==$(UV_VERSION)

$(VENV)/.installed: $(UV) pyproject.toml uv.lock
	$(UV) sync --frozen
	touch $@

install: $(VENV)/.installed

demo: install
	$(RUN) uketsuke demo

serve: install
	$(RUN) uketsuke serve

lint: install
	$(RUN) ruff check .
	$(RUN) ruff format --check .

typecheck: install
	$(RUN) mypy backend bot telephony reminders

contracts: install
	$(RUN) lint-imports

# pytest exits 5 when it collected nothing: that is a failure here, never a pass.
pytest: install
	@$(RUN) pytest $(PYTEST_ARGS); rc=$$?; \
	if [ $$rc -eq 5 ]; then echo "pytest collected no tests: failing"; exit 1; fi; exit $$rc

test: lint typecheck contracts pytest

# The dashboard in a real headless Chromium; fails instead of skipping when Chromium is
# missing (Debian: apt-get install chromium chromium-driver). `make test` skips them there.
test-browser: install
	@UKETSUKE_BROWSER_TESTS=required $(MAKE) --no-print-directory pytest PYTEST_ARGS="-m browser"

bench: install
	$(RUN) python bench/availability.py

bench-line: install
	$(RUN) python bench/line_webhook.py

bench-dispatch: install
	$(RUN) python bench/dispatch.py

bench-voice: install
	$(RUN) python bench/voice.py

clean:
	rm -rf $(VENV) $(TOOLS) .pytest_cache .mypy_cache .ruff_cache
