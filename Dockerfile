# Headway: one image for web, worker and beat.
FROM python:3.11-slim

ENV PYTHONDONTWRITEBYTECODE=1 PYTHONUNBUFFERED=1 PIP_NO_CACHE_DIR=1 STATIC_MANIFEST=1
WORKDIR /app

COPY pyproject.toml ./
COPY config ./config
COPY accounts ./accounts
COPY goals ./goals
COPY kpis ./kpis
COPY okrs ./okrs
COPY initiatives ./initiatives
COPY dashboards ./dashboards
RUN pip install .

COPY . .
# Static files are collected at build time and served by whitenoise.
RUN SECRET_KEY=build-only DATABASE_URL=sqlite:////tmp/build.sqlite3 \
    python manage.py collectstatic --noinput

RUN useradd --create-home headway && chown -R headway /app
USER headway
EXPOSE 8000
CMD ["gunicorn", "config.wsgi:application", "--bind", "0.0.0.0:8000", "--workers", "3", \
     "--access-logfile", "-"]
