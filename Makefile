# Two commands (see README): `make demo` and `make test`. Both set up .venv first.
PY ?= python3
VENV := .venv
BIN := $(VENV)/bin

.PHONY: setup demo test lint bench clean

setup: $(VENV)/.installed

# torch is pinned through constraints.txt (a CPU wheel here; pyproject keeps a range).
$(VENV)/.installed: pyproject.toml constraints.txt
	$(PY) -m venv $(VENV)
	$(BIN)/pip install -q --upgrade pip
	$(BIN)/pip install -q -c constraints.txt -e '.[dev,dask,onnx,topics,names]'
	touch $@

demo: setup
	$(BIN)/cxnlp analyze examples/clothing_reviews.csv --codeframe retail --out out/demo
	@echo "Open out/demo/report.html"

# The unit tests, then the notebooks executed by nbmake (each bounded by --nbmake-timeout).
test: setup
	$(BIN)/python -m pytest -q tests notebooks --nbmake --nbmake-timeout=300

lint: setup
	$(BIN)/ruff check cxnlp tests benchmarks

bench: setup
	$(BIN)/python benchmarks/sentiment.py

clean:
	rm -rf $(VENV) out .pytest_cache
