# Two entry points: `make demo` and `make test`. Each builds .venv from scratch if needed.
PY ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: demo test install clean

$(STAMP): pyproject.toml
	$(PY) -m venv $(VENV)
	$(BIN)/pip install -q --upgrade pip
	$(BIN)/pip install -q -e ".[test,report,dask]"
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
