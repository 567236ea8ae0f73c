# Two commands do all the set-up on a fresh machine:  make run   and   make test
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
CJK_FONT := /usr/share/fonts/truetype/wqy/wqy-microhei.ttc
CHI_SIM  := /usr/share/tesseract-ocr/5/tessdata/chi_sim.traineddata

.PHONY: run test test-fast bench fuzz chaos soak install install-test install-bench system-deps test-system-deps clean

# Index the sample bulletins (incremental: instant when nothing changed), then serve the app
# on http://127.0.0.1:8000 until Ctrl+C.
run: install system-deps
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

# Debian packages the readers use at run time: LibreOffice without a GUI (.doc/.wps), tesseract
# with Simplified Chinese data (scans). Installed when missing; needs root. Without them those
# files give one error line naming the package, and everything else is indexed.
system-deps:
	@if [ ! -x /usr/bin/soffice ] || [ ! -x /usr/bin/tesseract ] || [ ! -f $(CHI_SIM) ]; then \
	  if [ "$$(id -u)" = 0 ]; then \
	    (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends \
	      libreoffice-writer-nogui tesseract-ocr tesseract-ocr-chi-sim) >/dev/null; \
	  else echo "warning: not root: .doc/.wps need libreoffice-writer-nogui, scans need tesseract-ocr-chi-sim"; fi; \
	fi

# Debian packages the tests use: a CJK font (PDF and scan tests), headless Chromium and its driver
# (browser tests), python3-uno (saves a password-protected .doc). Installed when missing; needs root, as in CI.
test-system-deps:
	@if [ ! -f $(CJK_FONT) ] || [ ! -x /usr/bin/chromium ] || [ ! -x /usr/bin/chromedriver ] || ! /usr/bin/python3 -c "import uno" 2>/dev/null; then \
	  if [ "$$(id -u)" = 0 ]; then \
	    (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq \
	      fonts-wqy-microhei chromium chromium-driver python3-uno) >/dev/null; \
	  else echo "warning: not root: missing font/browser/uno packages; PDF, scan, browser and password tests will be skipped"; fi; \
	fi

test: install-test system-deps test-system-deps
	$(BIN)/python -m pytest

# The edit-test loop: every test that starts no process and drives no browser, and does not build
# extra indexes with the real model (under 3 minutes). `make test` (what CI runs) is the full suite.
test-fast: install-test
	BULLETIN_TEST_FAST=1 $(BIN)/python -m pytest -m "not slow and not subprocess and not browser"

# Reliability runs outside CI (README "Reliability"); figures go to reliability/results/<date>.json and .md.
# fuzz: the property tests of tests/test_hostile.py with 100,000 generated inputs each (about an hour).
fuzz: install-test
	$(BIN)/python -m reliability.fuzz

# chaos: 1,000 indexing runs SIGKILLed at every named stage and at random moments, each checked; a disk
# filling up and a folder turning read-only mid-run (needs root for the small tmpfs). About 80 minutes.
chaos: install-test
	$(BIN)/python -m reliability.chaos

# soak: `bulletin serve` over 100k items, 50 clients for 10 minutes while `bulletin index` adds and deletes
# items every minute (the index is built once, about 15 minutes, and cached under var/reliability/).
# install-bench brings matplotlib for the plot.
soak: install-bench
	$(BIN)/python -m reliability.soak

clean:
	rm -rf var .pytest_cache
