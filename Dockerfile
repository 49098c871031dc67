FROM python:3.11-slim-bookworm

ENV PYTHONDONTWRITEBYTECODE=1 PYTHONUNBUFFERED=1 LEDGER_DATA_DIR=/data DJANGO_STATIC_ROOT=/app/staticfiles
RUN apt-get update \
    && apt-get install -y --no-install-recommends libpango-1.0-0 libpangoft2-1.0-0 libharfbuzz0b \
       libharfbuzz-subset0 libfontconfig1 fonts-dejavu-core \
    && rm -rf /var/lib/apt/lists/*

WORKDIR /app
COPY pyproject.toml ./
COPY . .
RUN pip install --no-cache-dir . \
    && DJANGO_DEBUG=0 DJANGO_SECRET_KEY=build DATABASE_URL=postgres://build@localhost/build \
       python manage.py collectstatic --no-input \
    && useradd --create-home --uid 1000 ledger \
    && mkdir -p /data && chown ledger:ledger /data
USER ledger
EXPOSE 8000
CMD ["gunicorn", "payex_ledger.wsgi:application", "--bind", "0.0.0.0:8000", "--workers", "3"]
