# Production image: gunicorn serves Django, whitenoise the static files.
FROM python:3.11-slim-bookworm
ENV PYTHONDONTWRITEBYTECODE=1 PYTHONUNBUFFERED=1 \
    DJANGO_SETTINGS_MODULE=klimop.settings.production
WORKDIR /app
RUN useradd --create-home --uid 1000 klimop
# The exact versions of requirements/base.lock (hashes checked), then Klimop itself without deps.
COPY requirements/base.lock requirements/base.lock
RUN pip install --no-cache-dir --require-hashes -r requirements/base.lock
COPY pyproject.toml README.md ./
RUN pip install --no-cache-dir --no-deps -e .
COPY . .
RUN SECRET_KEY=build-only DATABASE_URL=sqlite:////tmp/build.sqlite3 python manage.py collectstatic --noinput \
    && mkdir -p /app/var/private-media && chown -R klimop /app/var
USER klimop
EXPOSE 8000
# gunicorn reads its number of sync workers from WEB_CONCURRENCY. Measured with make bench on 2
# cores (README): 3 and 5 workers serve the same, 9 are 5-20 % slower; 3 use the least memory.
# About one per core plus one is the rule; raise it with the machine's cores.
ENV WEB_CONCURRENCY=3
CMD ["gunicorn", "klimop.wsgi:application", "--bind", "0.0.0.0:8000", "--access-logfile", "-"]
