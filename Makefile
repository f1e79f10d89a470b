# make install: .venv with ganzoo and its dev tools; make demo: train DCGAN on the embedded
# digits; make test (what CI runs): lint, format and type checks, the test suite with the
# ganzoo-stylegan extension and the example plugin installed into .venv (the tests that
# uninstall the extension run alone, last) and the strict docs build; make check: the inner
# loop, lint and types plus the tests not marked slow.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: install demo lint types check test docs clean

install: $(STAMP)

# TORCH_INDEX: where PyTorch comes from, e.g. https://download.pytorch.org/whl/cpu on a machine
# without a GPU (a few hundred MB instead of the default build's CUDA libraries, about 6 GB).
TORCH_INDEX ?=

$(STAMP): pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(if $(TORCH_INDEX),$(BIN)/python -m pip install --quiet torch torchvision --index-url $(TORCH_INDEX))
	$(BIN)/python -m pip install --quiet -e ".[dev]"
	touch $(STAMP)

demo: install
	$(BIN)/ganzoo train dcgan

STYLEGAN := extensions/ganzoo-stylegan
MLPGAN := examples/ganzoo-mlpgan
PLUGIN_STAMP := $(VENV)/.plugins-installed

# The every-model test covers every registered model, so the separately installable ones are
# installed too (editable, no dependencies of their own).
$(PLUGIN_STAMP): $(STAMP) $(STYLEGAN)/pyproject.toml $(MLPGAN)/pyproject.toml
	$(BIN)/python -m pip install --quiet --no-deps -e $(STYLEGAN) -e $(MLPGAN)
	touch $(PLUGIN_STAMP)

lint: install
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

types: install
	$(BIN)/mypy

check: lint types $(PLUGIN_STAMP)
	$(BIN)/python -m pytest -n auto --dist worksteal -m "not alone and not slow" -q tests $(STYLEGAN)/tests

test: lint types $(PLUGIN_STAMP)
	$(BIN)/python -m pytest -n auto --dist worksteal --durations=30 -m "not alone" tests $(STYLEGAN)/tests
	$(BIN)/python -m pytest -m alone $(STYLEGAN)/tests
	NO_MKDOCS_2_WARNING=1 $(BIN)/mkdocs build --strict --site-dir $(VENV)/site

docs: install
	$(BIN)/mkdocs serve

clean:
	rm -rf $(VENV) site build *.egg-info
