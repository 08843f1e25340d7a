# Two commands set everything up: `make run` and `make test`.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed-stamp

.PHONY: run test bench install clean

$(STAMP): pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install -q --disable-pip-version-check -e '.[test]'
	touch $(STAMP)

install: $(STAMP)

run: install
	$(BIN)/alur init --demo
	@echo
	@echo "The database is ready (var/alur.db). Try the SOP from the command line:"
	@echo "  $(BIN)/alur start --bidang aptika --title 'Layanan email dinas'"
	@echo "  $(BIN)/alur tasks --user aptika.implementasi"
	@echo "  $(BIN)/alur claim TASK_ID --user aptika.implementasi"
	@echo "  $(BIN)/alur complete TASK_ID --user aptika.implementasi --data '{...}'"
	@echo "  $(BIN)/alur show 1"

test: install
	$(BIN)/python -m pytest

bench: install
	$(BIN)/python -m benchmarks

clean:
	rm -rf $(VENV) var .pytest_cache
