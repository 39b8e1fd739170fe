# The quick start is `make run`, `make test` and `make lab`; everything else is a helper.
VENV   ?= .venv
PY     := $(VENV)/bin/python
PARAMS ?= default
LAB_ARGS ?=

.PHONY: setup data run lab lab-check test test-fast bench ablation clean-runs

## setup: the venv (pip/setuptools output goes to runs/setup.log; one line per step here)
setup:
	@bash scripts/setup.sh

data: setup
	@$(PY) -m data_tools make-default --if-missing

## run: set up, build the default dataset, execute the notebook series into runs/$(PARAMS)/
##      (one line per notebook, the results table at the end; kernels' own output in runs/$(PARAMS)/kernels.log)
run: data
	@$(PY) -m mdtf_lite series run --params $(PARAMS)

## lab: JupyterLab on this venv with notebook 00 in front (kernel "python3" = "Python 3 (mdtf-lite)")
lab: data
	@$(PY) -m mdtf_lite lab $(LAB_ARGS)

## lab-check: headless JupyterLab: opens notebook 00 and runs a cell in its kernel, then stops
lab-check: setup
	@$(PY) -m mdtf_lite lab --check

## test: set up, then unit tests + every notebook under nbval + notebook hygiene checks
test: data
	$(PY) -m pytest

## test-fast: the development tier, pytest -m "not slow" (about a minute: no notebooks, training runs, browser)
test-fast: data
	$(PY) -m pytest -m "not slow"

bench: setup
	$(PY) -m mdtf_lite bench all

## ablation: the equal-budget ablation table (two runs side by side, one core each: about 20 min), read by notebook 09
ablation: data
	MDTF_RUN_DIR=$(CURDIR)/runs/$(PARAMS) $(PY) -m mdtf_lite ablation --config configs/ablation.yaml --jobs 2

clean-runs:
	rm -rf runs/
