# Two entry points: `make demo` and `make test`. Each builds .venv from scratch if needed.
# The interpreter: the first of these that runs. Python >= 3.12 first: spaCy's wheels for older
# Pythons are built with Cython profiling hooks, which take the GIL inside the NER's transition
# loop (the parser runs 4x slower on 3.11; benchmarks/README.md). `make PY=python3` overrides.
PY_CANDIDATES := python3.12 $(wildcard $(HOME)/.pyenv/versions/3.12*/bin/python3.12) python3
ifeq ($(origin PY), undefined)
PY := $(firstword $(foreach p,$(PY_CANDIDATES),$(shell $(p) -c 'import sys; assert sys.version_info >= (3, 10)' >/dev/null 2>&1 && echo $(p))))
endif
VENV := .venv
BIN := $(VENV)/bin
PY_VERSION := $(shell $(PY) -c 'import sys; print("%d.%d" % sys.version_info[:2])')
STAMP := $(VENV)/.installed-$(PY_VERSION)

.PHONY: demo test install clean

$(STAMP): pyproject.toml
	@# a .venv made with another interpreter is rebuilt, not mixed
	@if [ -x $(BIN)/python ] && [ "$$($(BIN)/python -c 'import sys; print("%d.%d" % sys.version_info[:2])')" != "$(PY_VERSION)" ]; then \
		echo "rebuilding $(VENV) for Python $(PY_VERSION)"; rm -rf $(VENV); fi
	$(PY) -m venv $(VENV)
	$(BIN)/pip install -q --upgrade pip
	$(BIN)/pip install -q -e ".[test,report,dask,serve]"
	touch $(STAMP)

install: $(STAMP)

test: $(STAMP)
	$(BIN)/python -m pytest

# Score the bundled letters (the shared real letters, the 64 published PDFs and a few generated
# ones) with the bundled default models, then write the analytics and evaluation pages.
demo: $(STAMP)
	$(BIN)/imr score examples/letters examples/real examples/generated --out out/scored.jsonl
	$(BIN)/imr report out/scored.jsonl --out out/analytics
	$(BIN)/imr evaluate --data examples/letters examples/real --out out/evaluation
	@echo "demo: out/scored.jsonl, out/analytics/analytics.html, out/evaluation/report.html"

clean:
	rm -rf $(VENV) out
