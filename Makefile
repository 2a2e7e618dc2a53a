# The two commands a newcomer needs (see README.md):
#   make course   set up, build the StickActions dataset, run the course notebooks, write the report
#   make test     set up, run the whole test suite
# Both are idempotent and need no GPU and no network beyond the package index.

PYTHON ?= $(shell command -v python3.11 2>/dev/null || command -v python3)
VENV   ?= .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.hybridvid-installed
PROFILE ?=
DATA_DIR ?= datasets/stickactions
PYTEST_ARGS ?= -n 2

.PHONY: course test test-browser test-gpu venv data clean-data

venv: $(STAMP)

# Re-install only when the package definition changes.
$(STAMP): pyproject.toml
	@$(PYTHON) -c 'import sys; sys.exit(0 if sys.version_info[:2] == (3, 11) else "HybridVid needs Python 3.11; found " + sys.version.split()[0] + ". Set PYTHON=/path/to/python3.11.")'
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e ".[test]"
	$(BIN)/python -m ipykernel install --sys-prefix --name python3 >/dev/null
	$(BIN)/hybridvid doctor
	@touch $(STAMP)

data: venv
	$(BIN)/hybridvid data synth --out $(DATA_DIR) --preset default

# Runs every notebook with papermill (profile: $(PROFILE), else gpu when one is visible, else cpu)
# and writes runs/<timestamp>/report.md; runs/latest points at the newest run.
course: data
	$(BIN)/hybridvid course run $(if $(PROFILE),--profile $(PROFILE))

# The suite, then nbval over the course notebooks (smoke profile, data in a scratch folder): each notebook runs
# once in `make test`, here, and tests/support/notebook_metrics.py checks the metrics.json it wrote.
test: venv
	$(BIN)/python -m pytest $(PYTEST_ARGS)
	HYBRIDVID_PROFILE=smoke HYBRIDVID_DATA=$(CURDIR)/.make/nbval-data \
		$(BIN)/python -m pytest --nbval-lax -p no:xdist -p tests.support.notebook_metrics notebooks

# Chapter 00 in JupyterLab, driven in headless Chromium (Debian's chromium package and playwright): every cell
# runs without an error and the frame player responds to its slider. Not part of `make test` (about 40 s);
# HYBRIDVID_REQUIRE_BROWSER=1 makes a missing browser fail instead of skip. Screenshot: .make/artifacts/.
test-browser: venv
	HYBRIDVID_REQUIRE_BROWSER=1 $(BIN)/python -m pytest -p no:xdist -m browser tests/browser

# Where TensorFlow sees a GPU: the notebooks in the gpu profile, checked by nbval, then the whole course run by
# papermill in the gpu profile (report in runs/gpu/report.md). Elsewhere it says so and runs nothing.
test-gpu: venv
	@if $(BIN)/python -c 'import sys; from hybridvid_lib.tf_setup import gpu_devices; sys.exit(0 if gpu_devices() else 1)'; then \
		HYBRIDVID_PROFILE=gpu HYBRIDVID_DATA=$(CURDIR)/.make/gpu-data $(BIN)/python -m pytest --nbval-lax -p no:xdist notebooks \
		&& HYBRIDVID_DATA=$(CURDIR)/.make/gpu-data $(BIN)/hybridvid course run --profile gpu --out runs/gpu; \
	else \
		echo "make test-gpu: TensorFlow sees no GPU on this machine; nothing was run (the gpu profile is for a GPU)."; \
	fi

clean-data:
	rm -rf $(DATA_DIR)
