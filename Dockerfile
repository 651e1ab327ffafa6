# The portal's image: web, worker and beat all run from it (docker-compose.yml), each through
# scripts/prod_cmd.sh — the same commands as the native production-like run (make prod-run).
# A second target, `proxy`, is the reverse proxy in front of it (nginx with this image's static files).
FROM python:3.11-slim AS app

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1

# WeasyPrint's libraries (Pango, HarfBuzz with its subsetter) and the CJK fonts every Chinese
# PDF needs; no fonts are fetched at run time. postgresql-client: pg_dump/pg_restore for
# `manage.py backup` / `restore` (README "Backup and restore").
RUN apt-get update \
    && apt-get install -y --no-install-recommends \
        libpango-1.0-0 libpangoft2-1.0-0 libharfbuzz0b libharfbuzz-subset0 libfontconfig1 \
        fonts-noto-cjk shared-mime-info postgresql-client \
    && rm -rf /var/lib/apt/lists/*

RUN useradd --system --create-home --uid 1000 portal
WORKDIR /app

COPY requirements.txt .
RUN pip install -r requirements.txt

COPY . .
# Static files are collected (hashed and compressed by WhiteNoise) once, at build time.
RUN DEBUG=0 SECRET_KEY=collectstatic-at-build-time ALLOWED_HOSTS=localhost \
        STATIC_ROOT=/app/staticfiles PORTAL_VAR_DIR=/tmp/build-var \
        scripts/prod_cmd.sh collectstatic \
    && rm -rf /tmp/build-var \
    && mkdir -p /app/var/media /app/var/secrets \
    && chown -R portal:portal /app/var \
    && chmod 700 /app/var/secrets

ENV DEBUG=0 \
    PORTAL_VAR_DIR=/app/var \
    MEDIA_ROOT=/app/var/media \
    STATIC_ROOT=/app/staticfiles \
    BIND=0.0.0.0:8000

USER portal
EXPOSE 8000
CMD ["scripts/prod_cmd.sh", "web"]

# The reverse proxy (docker-compose.yml's `proxy`, the only published port): nginx serving the static
# files collected above, with deploy/nginx.conf.template rendered by the image's own envsubst step
# (/etc/nginx/templates/*.template -> conf.d) — the template the native run renders too.
FROM nginx:1.27-alpine AS proxy
RUN rm -f /etc/nginx/conf.d/default.conf
COPY --from=app /app/staticfiles /srv/static
COPY deploy/errors /srv/errors
COPY deploy/nginx.conf.template /etc/nginx/templates/portal.conf.template

# `docker build .` without a target still gives the portal's image.
FROM app
