PY ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: run test venv install migrate demo lint bench worker beat clean

venv: $(STAMP)

$(STAMP): pyproject.toml
	test -d $(VENV) || $(PY) -m venv $(VENV)
	$(BIN)/pip install -q --upgrade pip
	$(BIN)/pip install -q -e '.[dev]'
	touch $(STAMP)

install: venv

migrate: venv
	$(BIN)/python manage.py migrate --noinput

demo: migrate
	$(BIN)/python manage.py load_demo

run: demo
	$(BIN)/python manage.py runserver 127.0.0.1:8000

# The suite runs in parallel processes (pytest-xdist), each with its own test database and,
# with REDIS_URL, its own Redis database; PYTEST_WORKERS=0 runs it in one process. The few
# tests whose assertion is a time (marked "alone") run afterwards in one process.
PYTEST_WORKERS ?= 3

# The import contracts first (pyproject.toml [tool.importlinter]): a layer broken fails fast.
test: venv
	$(BIN)/lint-imports
	$(BIN)/python -m pytest -q -p no:cacheprovider -n $(PYTEST_WORKERS) --dist loadfile -m "not alone"; rc=$$?; if [ $$rc -eq 5 ]; then echo "no tests collected"; exit 1; fi; test $$rc -eq 0 || exit $$rc
	$(BIN)/python -m pytest -q -p no:cacheprovider -m alone; rc=$$?; if [ $$rc -eq 5 ]; then echo "no tests collected"; exit 1; fi; exit $$rc

lint: venv
	$(BIN)/ruff check .
	$(BIN)/ruff format --check . || true
	$(BIN)/lint-imports

worker: venv
	$(BIN)/celery -A config worker -l info

beat: venv
	$(BIN)/celery -A config beat -l info

# Needs PostgreSQL + Redis on 127.0.0.1. Creates/migrates headway_bench, seeds the large
# organisation if it is not there yet, measures, writes bench/RESULTS.md (see bench/README.md).
bench: venv
	$(BIN)/python bench/run.py $(BENCH_ARGS)

clean:
	rm -rf $(VENV) db.sqlite3 staticfiles
