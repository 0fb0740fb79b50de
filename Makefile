# carbonmap: `make demo` builds and serves the default dataset; `make test` runs the tests.
PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV   := .venv
PY     := $(VENV)/bin/python
STAMP  := $(VENV)/.installed

.PHONY: install demo test bench lint typecheck clean

$(STAMP): pyproject.toml
	@echo "==> creating $(VENV) with $(PYTHON)"
	$(PYTHON) -m venv $(VENV)
	$(VENV)/bin/python -m pip install -q --upgrade pip uv
	$(VENV)/bin/uv pip install --python $(PY) --compile-bytecode -e '.[dev]'
	@# bytecode up front: where PYTHONDONTWRITEBYTECODE is set (as on this machine) every process, Dask worker and
	@# test server would otherwise recompile pandas/scipy/statsmodels from source (~20 s an import)
	$(PY) -m compileall -q carbonmap ingest nowcast pipelines tiles api
	@touch $(STAMP)

install: $(STAMP)

demo: $(STAMP)
	$(VENV)/bin/carbonmap demo

test: $(STAMP)
	@bash scripts/system-deps.sh
	$(PY) -m pytest -n 2 --dist loadfile --ignore=tests/robustness/test_api_fuzz.py
	$(PY) -m pytest tests/robustness/test_api_fuzz.py  # schemathesis cases are generated at run time: no xdist

bench: $(STAMP)
	$(PY) bench/run_all.py --quick

lint: $(STAMP)
	$(VENV)/bin/ruff check carbonmap ingest nowcast pipelines tiles api tests bench
	$(VENV)/bin/mypy
	$(VENV)/bin/lint-imports  # the import graph: pyproject's [tool.importlinter] contracts (issue #18)

# mypy with pyproject's [tool.mypy] (check_untyped_defs, pydantic plugin): checks every call of a typed
# callback such as carbonmap.progress.ProgressFn (issue #14)
typecheck: $(STAMP)
	$(VENV)/bin/mypy

clean:
	rm -rf $(VENV) .cache stores .pytest_cache .mypy_cache
