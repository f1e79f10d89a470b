# make install: .venv with ganzoo and its dev tools; make demo: train DCGAN on the embedded
# digits; make test: the test suite, the ganzoo-stylegan extension's (installed into .venv
# first; the tests that uninstall it run alone, last) and the strict docs build (what CI runs).
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: install demo test docs clean

install: $(STAMP)

$(STAMP): pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e ".[dev]"
	touch $(STAMP)

demo: install
	$(BIN)/ganzoo train dcgan

STYLEGAN := extensions/ganzoo-stylegan

test: install
	$(BIN)/python -m pip install --quiet --no-deps -e $(STYLEGAN)
	$(BIN)/python -m pytest -n auto --dist worksteal -m "not alone" tests $(STYLEGAN)/tests
	$(BIN)/python -m pytest -m alone $(STYLEGAN)/tests
	NO_MKDOCS_2_WARNING=1 $(BIN)/mkdocs build --strict --site-dir $(VENV)/site

docs: install
	$(BIN)/mkdocs serve

clean:
	rm -rf $(VENV) site build *.egg-info
