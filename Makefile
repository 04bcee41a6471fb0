# The two commands of the README. Each does all set-up itself on a fresh machine.
.PHONY: run test lint

run:
	@bash scripts/run.sh

test:
	@bash scripts/test.sh

lint:
	@bash scripts/bootstrap.sh --dev && .venv/bin/ruff check . && .venv/bin/ruff format --check . && .venv/bin/lint-imports
