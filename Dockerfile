# Headway: one image for web, worker and beat.
FROM python:3.11-slim

ENV PYTHONDONTWRITEBYTECODE=1 PYTHONUNBUFFERED=1 PIP_NO_CACHE_DIR=1 STATIC_MANIFEST=1
WORKDIR /app

# The dependencies first, read from pyproject.toml: a change of code alone does not
# reinstall them.
COPY pyproject.toml ./
RUN python -c "import subprocess, sys, tomllib; \
deps = tomllib.load(open('pyproject.toml', 'rb'))['project']['dependencies']; \
subprocess.check_call([sys.executable, '-m', 'pip', 'install', *deps])"

# Then the whole tree (less .dockerignore): every app is packaged, none is listed here
# (pyproject.toml finds the packages; tests and bench are left out).
COPY . .
RUN pip install --no-deps .
# Static files are collected at build time and served by whitenoise.
RUN SECRET_KEY=build-only DATABASE_URL=sqlite:////tmp/build.sqlite3 \
    python manage.py collectstatic --noinput

RUN useradd --create-home headway && chown -R headway /app
USER headway
EXPOSE 8000
CMD ["gunicorn", "config.wsgi:application", "--bind", "0.0.0.0:8000", "--workers", "3", \
     "--access-logfile", "-"]
