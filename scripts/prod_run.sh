#!/usr/bin/env bash
# `make prod-run`: the production setup without Docker, on loopback. It starts a throwaway
# PostgreSQL server and a Redis server from the Debian binaries, then web (gunicorn), worker
# and beat with the very commands docker-compose.yml uses (scripts/prod_cmd.sh), with DEBUG=0, behind
# nginx (Debian's `nginx`; `scripts/prod_cmd.sh proxy`, the template compose's proxy service uses) on
# PROD_RUN_PORT, the only address clients use; gunicorn listens on another loopback port.
# Ctrl-C (or SIGTERM) stops everything and removes the data folder.
#
# Environment:
#   PROD_RUN_PORT  public (nginx) port (8000)            PROD_RUN_DIR   data folder (a new temporary one;
#   PROD_RUN_SEED  load demo data (1)                         when given, it is kept and reused)
#   PROD_RUN_STATIC_ROOT  collected static files (var/prod-static; collected again only when
#                  static/ or requirements.txt changed: WhiteNoise's compression takes minutes)
#   PROD_RUN_COLLECTSTATIC=0  skip collectstatic (the smoke test only checks /healthz)
#   PROD_RUN_SEED_SCALE  seed_demo's --scale: demo (default), county (300 enterprises in 泽州县; what
#                  `make load` uses) or province
# Once the servers are up it writes $ROOT/portal.env (mode 600; KEY=value lines a shell can source):
# the stack's DATABASE_URL, CELERY_BROKER_URL, MEDIA_ROOT, SECRET_KEY, ... and PORTAL_URL, so that a
# driver (load/run.py) reaches the same database and files as web and worker.
# Plain http on loopback, so SECURE_SSL_REDIRECT and the secure-cookie flags are off here; behind
# a TLS proxy (compose) they stay on.
set -euo pipefail
cd "$(dirname "$0")/.."
# shellcheck source=scripts/supervise.sh
source scripts/supervise.sh

VENV=$(cd "${VENV:-.venv}" && pwd)
PYTHON=$VENV/bin/python
PORT=${PROD_RUN_PORT:-8000}
SEED=${PROD_RUN_SEED:-1}
SEED_SCALE=${PROD_RUN_SEED_SCALE:-demo}
export PYTHONUNBUFFERED=1
export SUPERVISE_PYTHON=$PYTHON

find_bin() {
  # find_bin NAME PACKAGE: on PATH or in /usr/lib/postgresql/*/bin (newest first).
  local found
  found=$(command -v "$1" 2>/dev/null || true)
  if [ -z "$found" ]; then
    found=$(ls -1d /usr/lib/postgresql/*/bin/"$1" 2>/dev/null | sort -V | tail -n 1 || true)
  fi
  if [ -z "$found" ]; then
    echo "[prod-run] $1 not found: install it with \`apt-get install $2\`" >&2
    exit 1
  fi
  echo "$found"
}

free_port() {
  "$PYTHON" -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}

INITDB=$(find_bin initdb postgresql)
PG_CTL=$(find_bin pg_ctl postgresql)
CREATEDB=$(find_bin createdb postgresql)
REDIS_SERVER=$(find_bin redis-server redis-server)
NGINX=$(command -v nginx 2>/dev/null || { [ -x /usr/sbin/nginx ] && echo /usr/sbin/nginx; } || true)
if [ -z "$NGINX" ]; then
  echo "[prod-run] nginx not found: install it with \`apt-get install nginx\`" >&2
  exit 1
fi
export NGINX

KEEP=0
if [ -n "${PROD_RUN_DIR:-}" ]; then
  KEEP=1
  ROOT=$(mkdir -p "$PROD_RUN_DIR" && cd "$PROD_RUN_DIR" && pwd)
else
  ROOT=$(mktemp -d /tmp/portal-prod-run-XXXXXX)
fi
chmod 755 "$ROOT"

as_postgres() {
  if [ "$(id -u)" = 0 ]; then
    runuser -u postgres -- "$@"
  else
    "$@"
  fi
}

PG_STARTED=0
REDIS_PID=""
cleanup() {
  local status=$?
  trap '' INT TERM
  supervise_stop
  if [ -n "$REDIS_PID" ] && kill -0 "$REDIS_PID" 2>/dev/null; then
    supervise_say "[prod-run] stopping redis (pid $REDIS_PID)"
    kill -TERM "$REDIS_PID" 2>/dev/null || true
    wait "$REDIS_PID" 2>/dev/null || true
  fi
  if [ "$PG_STARTED" = 1 ]; then
    supervise_say "[prod-run] stopping postgresql"
    as_postgres "$PG_CTL" -D "$ROOT/pg/data" -m fast -w stop >/dev/null 2>&1 || true
  fi
  if [ "$KEEP" = 0 ]; then
    rm -rf "$ROOT"
  fi
  supervise_say "[prod-run] stopped"
  exit "$status"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# --- PostgreSQL ------------------------------------------------------------------------------
PG_PORT=$(free_port)
mkdir -p "$ROOT/pg"
if [ "$(id -u)" = 0 ]; then chown postgres: "$ROOT/pg"; fi
if [ ! -f "$ROOT/pg/data/PG_VERSION" ]; then
  as_postgres "$INITDB" -D "$ROOT/pg/data" -A trust -U postgres -E UTF8 >"$ROOT/initdb.log" 2>&1 \
    || { cat "$ROOT/initdb.log"; exit 1; }
fi
as_postgres "$PG_CTL" -D "$ROOT/pg/data" -l "$ROOT/pg/server.log" -w \
  -o "-h 127.0.0.1 -p $PG_PORT -k $ROOT/pg" start >/dev/null
PG_STARTED=1
as_postgres "$CREATEDB" -h 127.0.0.1 -p "$PG_PORT" -U postgres portal 2>/dev/null || true
echo "[prod-run] postgresql on 127.0.0.1:$PG_PORT (data in $ROOT/pg)"

# --- Redis -----------------------------------------------------------------------------------
REDIS_PORT=$(free_port)
mkdir -p "$ROOT/redis"
setsid "$REDIS_SERVER" --bind 127.0.0.1 --port "$REDIS_PORT" --dir "$ROOT/redis" \
  --save "" --appendonly no --daemonize no >"$ROOT/redis.log" 2>&1 &
REDIS_PID=$!
echo "[prod-run] redis on 127.0.0.1:$REDIS_PORT"

# --- The portal, configured as in docker-compose.yml -----------------------------------------
export PATH="$VENV/bin:$PATH"
export DEBUG=0
SECRET_KEY=$("$PYTHON" -c 'import secrets; print(secrets.token_urlsafe(50))')
export SECRET_KEY
export ALLOWED_HOSTS=127.0.0.1,localhost
export DATABASE_URL="postgres://postgres@127.0.0.1:$PG_PORT/portal"
export CELERY_BROKER_URL="redis://127.0.0.1:$REDIS_PORT/0"
export PORTAL_VAR_DIR="$ROOT/var"
export MEDIA_ROOT="$ROOT/var/media"
STATIC_ROOT=${PROD_RUN_STATIC_ROOT:-var/prod-static}
mkdir -p "$STATIC_ROOT"
STATIC_ROOT=$(cd "$STATIC_ROOT" && pwd)
export STATIC_ROOT
export PROXY_BIND="127.0.0.1:$PORT"
export BIND="127.0.0.1:$(free_port)"
export WEB_CONCURRENCY=${WEB_CONCURRENCY:-5}
# nginx in front appends the client address to X-Forwarded-For (lockout and audit read it).
export TRUSTED_PROXY_COUNT=${TRUSTED_PROXY_COUNT:-1}
export SECURE_SSL_REDIRECT=0 SESSION_COOKIE_SECURE=0 CSRF_COOKIE_SECURE=0
mkdir -p "$MEDIA_ROOT"

# The environment of web and worker, for a driver on this machine (written before the seed so a
# driver can read it as soon as /healthz answers).
ENV_FILE="$ROOT/portal.env"
(
  umask 077
  {
    for name in DEBUG SECRET_KEY ALLOWED_HOSTS DATABASE_URL CELERY_BROKER_URL PORTAL_VAR_DIR MEDIA_ROOT STATIC_ROOT \
      BIND PROXY_BIND SECURE_SSL_REDIRECT SESSION_COOKIE_SECURE CSRF_COOKIE_SECURE; do
      printf '%s=%s\n' "$name" "${!name}"
    done
    printf 'PROD_RUN_PORT=%s\nPORTAL_URL=%s\n' "$PORT" "http://127.0.0.1:$PORT"
  } >"$ENV_FILE"
)
echo "[prod-run] environment for drivers in $ENV_FILE"

# A stamp written only after a complete collectstatic (WhiteNoise writes its manifest before
# it has finished compressing).
COLLECTED="$STATIC_ROOT/.collected"
if [ "${PROD_RUN_COLLECTSTATIC:-1}" = 0 ]; then
  echo "[prod-run] collectstatic skipped (PROD_RUN_COLLECTSTATIC=0)"
elif [ -f "$COLLECTED" ] && [ -z "$(find static requirements.txt -newer "$COLLECTED" -print -quit)" ]; then
  echo "[prod-run] static files in $STATIC_ROOT are up to date"
else
  echo "[prod-run] collectstatic into $STATIC_ROOT (compressing takes a few minutes the first time)"
  rm -f "$COLLECTED"
  scripts/prod_cmd.sh collectstatic >"$ROOT/collectstatic.log" 2>&1 || { cat "$ROOT/collectstatic.log"; exit 1; }
  touch "$COLLECTED"
fi
if [ "$SEED" = 1 ]; then
  python manage.py migrate --noinput >"$ROOT/migrate.log" 2>&1 || { cat "$ROOT/migrate.log"; exit 1; }
  if python manage.py help seed_demo >/dev/null 2>&1; then
    seed_started=$SECONDS
    python manage.py seed_demo --scale "$SEED_SCALE"
    echo "[prod-run] seed_demo --scale $SEED_SCALE took $((SECONDS - seed_started)) s"
  else
    echo "[prod-run] no seed_demo command yet: starting without demo data"
  fi
fi

supervise_start web scripts/prod_cmd.sh web
supervise_start proxy scripts/prod_cmd.sh proxy
supervise_start worker scripts/prod_cmd.sh worker
supervise_start beat scripts/prod_cmd.sh beat

if supervise_wait_http "http://127.0.0.1:$PORT/healthz" 90; then
  cat <<EOF

============================================================================
  Production-like run (DEBUG=0, nginx -> gunicorn, PostgreSQL, Redis): http://127.0.0.1:$PORT/
  Health: http://127.0.0.1:$PORT/healthz    Data folder: $ROOT
  Press Ctrl-C to stop nginx, web, worker, beat, Redis and PostgreSQL.
============================================================================

EOF
else
  echo "[prod-run] the web server did not answer on http://127.0.0.1:$PORT/healthz within 90s"
fi

status=0
supervise_wait || status=$?
exit "$status"
