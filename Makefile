# The two commands of the quick start are `make run` and `make test`; everything else is a helper.
VENV   ?= .venv
PY     := $(VENV)/bin/python
PARAMS ?= default

.PHONY: setup data run test bench ablation clean-runs

setup:
	@bash scripts/setup.sh

data: setup
	@$(PY) -m data_tools make-default --if-missing

## run: set up, build the default dataset, execute the notebook series into runs/$(PARAMS)/
run: data
	$(PY) -m mdtf_lite.series run --params $(PARAMS)

## test: set up, then unit tests + every notebook under nbval + notebook hygiene checks
test: data
	$(PY) -m pytest

bench: setup
	$(PY) -m mdtf_lite.bench all

## ablation: the equal-budget ablation table (about 40 min on 2 cores), read by notebook 09
ablation: data
	MDTF_RUN_DIR=$(CURDIR)/runs/$(PARAMS) $(PY) -m mdtf_lite.train.ablation --config configs/ablation.yaml

clean-runs:
	rm -rf runs/
