#!/bin/sh
# The production commands, in ONE place: docker-compose.yml (and the Dockerfile) and the native
# production-like run (scripts/prod_run.sh) both start the portal through this script, so the
# two cannot drift apart (tests/test_infra.py checks it).
#
#   scripts/prod_cmd.sh web            migrate, then gunicorn on $BIND (default 0.0.0.0:8000)
#   scripts/prod_cmd.sh proxy          nginx on $PROXY_BIND in front of $BIND (native runs; compose
#                                      runs the nginx image with the same deploy/nginx.conf.template)
#   scripts/prod_cmd.sh worker         Celery worker
#   scripts/prod_cmd.sh beat           Celery beat
#   scripts/prod_cmd.sh collectstatic  static files into STATIC_ROOT (at image build time)
#   scripts/prod_cmd.sh healthcheck    GET /healthz on the local web process (exit 0 when healthy)
#   scripts/prod_cmd.sh check-worker   the local Celery worker answers a ping
#   scripts/prod_cmd.sh check-heartbeat  beat's heartbeat task ran recently (beat + a worker alive)
#   scripts/prod_cmd.sh --print NAME   print the command instead of running it
#
# Environment: the settings' variables (DEBUG=0, SECRET_KEY, ALLOWED_HOSTS, DATABASE_URL,
# CELERY_BROKER_URL, ...), plus BIND, PROXY_BIND, WEB_CONCURRENCY (5), WORKER_CONCURRENCY (2), LOG_LEVEL
# (INFO), MIGRATE_ON_START (1). Programs are taken from PATH (the image's Python, or .venv/bin
# put first on PATH by prod_run.sh).
set -eu
cd "$(dirname "$0")/.."

print_only=0
if [ "${1:-}" = "--print" ]; then
  print_only=1
  shift
fi

run() {
  if [ "$print_only" = 1 ]; then
    echo "$*"
  else
    exec "$@"
  fi
}

case "${1:-}" in
  web)
    if [ "$print_only" = 0 ] && [ "${MIGRATE_ON_START:-1}" = 1 ]; then
      python manage.py migrate --noinput
    fi
    # Behind the proxy: nginx reads whole requests and buffers whole responses, so a gunicorn worker is
    # never held by a slow client and plain sync workers (one request per process) are safe. Processes,
    # not threads: a request parsing a big spreadsheet holds one process, the kernel hands the next
    # request (/healthz) to an idle one, and no GIL is shared with it. Hence WEB_CONCURRENCY (5: 2 x cores
    # + 1) above the number of heavy uploads expected at once. A worker is replaced after max_requests
    # (memory a parse left behind) and killed after --timeout (60 s; nginx then answers its Chinese 502);
    # request line and headers are bounded as in nginx.
    run gunicorn portal.wsgi:application \
      --bind "${BIND:-0.0.0.0:8000}" \
      --workers "${WEB_CONCURRENCY:-5}" \
      --worker-class sync \
      --timeout 60 \
      --graceful-timeout 20 \
      --max-requests 1000 \
      --max-requests-jitter 100 \
      --limit-request-line 8190 \
      --limit-request-fields 100 \
      --limit-request-field_size 8190 \
      --forwarded-allow-ips "${FORWARDED_ALLOW_IPS:-127.0.0.1}" \
      --no-control-socket \
      --access-logfile - \
      --access-logformat '%(h)s xff=%({x-forwarded-for}i)s proto=%({x-forwarded-proto}i)s "%(r)s" %(s)s %(b)s %(M)sms'
    ;;
  proxy)
    # Native runs only (compose runs the nginx image with the same template): render
    # deploy/nginx.conf.template for PROXY_BIND -> BIND, then nginx in the foreground.
    conf_dir="${PORTAL_VAR_DIR:-var}/nginx"
    if [ "$print_only" = 0 ]; then
      python deploy/render_nginx.py "$conf_dir" >/dev/null
    fi
    run "${NGINX:-$(command -v nginx || echo /usr/sbin/nginx)}" -e stderr -c "$conf_dir/nginx.conf"
    ;;
  worker)
    run celery -A portal worker --loglevel "${LOG_LEVEL:-INFO}" --concurrency "${WORKER_CONCURRENCY:-2}"
    ;;
  beat)
    run celery -A portal beat --loglevel "${LOG_LEVEL:-INFO}"
    ;;
  collectstatic)
    run python manage.py collectstatic --noinput --verbosity 1
    ;;
  healthcheck)
    run python -c '
import os, sys, urllib.request
host = next((h.lstrip(".") for h in os.environ.get("ALLOWED_HOSTS", "").split(",") if h and h != "*"), "localhost")
port = os.environ.get("BIND", "0.0.0.0:8000").rsplit(":", 1)[1]
request = urllib.request.Request(f"http://127.0.0.1:{port}/healthz", headers={"Host": host})
try:
    urllib.request.urlopen(request, timeout=5)
except Exception as exc:
    sys.exit(f"unhealthy: {exc}")
'
    ;;
  check-worker)
    run celery -A portal inspect ping --timeout 5 --destination "celery@${HOSTNAME:-$(hostname)}"
    ;;
  check-heartbeat)
    # Beat is alive when the heartbeat it schedules (run by a worker) is recent.
    run python manage.py shell --no-imports -c '
import sys
from datetime import datetime, timedelta
from django.conf import settings
from django.core.cache import cache
from django.utils import timezone
from portal.tasks import HEARTBEAT_KEY
stamp = cache.get(HEARTBEAT_KEY)
limit = timedelta(seconds=max(180.0, 3 * float(settings.CELERY_BEAT_SCHEDULE["heartbeat"]["schedule"])))
if not stamp or timezone.now() - datetime.fromisoformat(stamp) > limit:
    sys.exit(f"no heartbeat since {stamp}")
'
    ;;
  *)
    echo "usage: $0 [--print] web|proxy|worker|beat|collectstatic|healthcheck|check-worker|check-heartbeat" >&2
    exit 2
    ;;
esac
