# Two commands do all the set-up on a fresh machine:  make run   and   make test
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
CJK_FONT := /usr/share/fonts/truetype/wqy/wqy-microhei.ttc

.PHONY: run test bench install install-test install-bench test-system-deps clean

# Index the sample bulletins (incremental: instant when nothing changed), then serve the app
# on http://127.0.0.1:8000 until Ctrl+C.
run: install
	$(BIN)/bulletin index data/sample
	$(BIN)/bulletin serve

# torch first, pinned: it comes from the machine's local CPU build; letting pip resolve
# it through sentence-transformers would pull a newer CUDA build of several GB.
$(VENV)/.installed: pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet torch==2.13.0
	$(BIN)/pip install --quiet -e .
	touch $@

$(VENV)/.installed-test: $(VENV)/.installed
	$(BIN)/pip install --quiet -e '.[test]'
	touch $@

$(VENV)/.installed-bench: $(VENV)/.installed-test
	$(BIN)/pip install --quiet -e '.[test,bench]'
	touch $@

install: $(VENV)/.installed
install-test: $(VENV)/.installed-test
install-bench: $(VENV)/.installed-bench

# Speed, scale and quality at 1k/10k/50k(/100k) items with peers; results in bench/results/.
bench: install-bench
	$(BIN)/python -m bench

# Debian packages the tests use: a CJK font (PDF tests), headless Chromium and its driver
# (browser tests). Installed when missing; needs root, as in CI.
test-system-deps:
	@if [ ! -f $(CJK_FONT) ] || [ ! -x /usr/bin/chromium ] || [ ! -x /usr/bin/chromedriver ]; then \
	  if [ "$$(id -u)" = 0 ]; then \
	    (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq \
	      fonts-wqy-microhei chromium chromium-driver) >/dev/null; \
	  else echo "warning: not root: missing font/browser packages; PDF and browser tests will be skipped"; fi; \
	fi

test: install-test test-system-deps
	$(BIN)/python -m pytest

clean:
	rm -rf var .pytest_cache
