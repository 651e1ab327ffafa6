#!/usr/bin/env bash
# `make run`: the development portal as three separate processes — Django's runserver, a Celery
# worker and Celery beat — on kombu's filesystem broker (folders under var/celery), so nothing
# but Python is needed. Ctrl-C (or SIGTERM) stops all three.
#
# `make run` has already installed, migrated and loaded the demo data; this script only starts
# the processes. Environment: RUN_HOST (127.0.0.1), RUN_PORT (8000), WORKER_CONCURRENCY (2).
set -euo pipefail
cd "$(dirname "$0")/.."
# shellcheck source=scripts/supervise.sh
source scripts/supervise.sh

VENV=${VENV:-.venv}
PYTHON=$VENV/bin/python
HOST=${RUN_HOST:-127.0.0.1}
PORT=${RUN_PORT:-8000}
export PYTHONUNBUFFERED=1
export SUPERVISE_PYTHON=$PYTHON

if [ -n "${CELERY_BROKER_URL:-}" ]; then
  echo "[run] CELERY_BROKER_URL=$CELERY_BROKER_URL (instead of the filesystem broker)"
fi

supervise_start web "$PYTHON" manage.py runserver "$HOST:$PORT"
supervise_start worker "$VENV/bin/celery" -A portal worker --loglevel=INFO --concurrency="${WORKER_CONCURRENCY:-2}"
supervise_start beat "$VENV/bin/celery" -A portal beat --loglevel=INFO

if supervise_wait_http "http://$HOST:$PORT/healthz" 60; then
  cat <<EOF

============================================================================
  非煤矿山安全监管门户 is running: http://$HOST:$PORT/
  Logins (user name, password, role · scope; README.md "Logins"):
$("$PYTHON" manage.py shell --no-imports -c "
from portal import demo
for role, username, password, scope in demo.login_table():
    print(f'    {username:<15} {password:<18} {role} · {scope}')
" 2>/dev/null || echo "    (see the table seed_demo printed above)")
  Health: http://$HOST:$PORT/healthz      API docs: http://$HOST:$PORT/api/docs/
  Press Ctrl-C to stop web, worker and beat.
============================================================================

EOF
else
  echo "[run] the web server did not answer on http://$HOST:$PORT/healthz within 60s"
fi

supervise_wait
