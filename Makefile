# Kepu — the two commands users need are `make build` and `make test`.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed
SYSTEM := $(VENV)/.system-deps

.PHONY: build test serve check lint bench clean

build: $(STAMP)
	$(BIN)/kepu build

# One pytest worker per core; whole files per worker, so a module's fixtures (its builds) are made once
# (files reading one session build go together, the longest first: tests/conftest.py).
test: $(STAMP)
	$(BIN)/ruff check builder tests bench
	$(BIN)/python -m pytest -q -n auto --dist loadfile

serve: $(STAMP)
	$(BIN)/kepu serve

check: $(STAMP)
	$(BIN)/kepu check

lint: $(STAMP)
	$(BIN)/ruff check builder tests bench

bench: $(STAMP)
	$(BIN)/python bench/run.py --lessons 200

# apt packages (CJK fonts, Pango, chromium, ffmpeg); re-checked only when the list changes.
$(SYSTEM): .ci/system-deps.sh
	@mkdir -p $(VENV)
	bash .ci/system-deps.sh
	@touch $@

$(STAMP): pyproject.toml package-lock.json $(SYSTEM)
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[test]'
	@# node_modules: axe-core for the browser tests, Lighthouse for bench/lighthouse.py (tests skip without them)
	if command -v npm >/dev/null; then npm ci --no-audit --no-fund --loglevel=error; else echo "npm not found: axe-core checks will be skipped"; fi
	@touch $@

clean:
	rm -rf public .kepu-cache $(VENV) *.egg-info .pytest_cache .ruff_cache
