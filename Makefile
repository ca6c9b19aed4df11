# mmusot: USOT, the unsupervised single object tracker, for MMTracking 1.x.
# `make demo` and `make test` set up .venv first when needed (idempotent).
PY := .venv/bin/python
PYTEST_ARGS ?=

.PHONY: setup demo test lint clean-venv

setup:
	bash tools/setup_env.sh

demo: setup
	$(PY) tools/demo/smoke_demo.py

test: lint setup
	$(PY) -m pytest $(PYTEST_ARGS)

# ruff check + format check; needs no set-up (tools/lint.sh --fix rewrites)
lint:
	bash tools/lint.sh

clean-venv:
	rm -rf .venv
