# Process supervision shared by scripts/run.sh and scripts/prod_run.sh (sourced, not run).
#
# `supervise_start NAME CMD...` starts CMD in its own process group (so a signal reaches the
# command and all of its children: runserver's reloader, Celery's pool, gunicorn's workers),
# with its output prefixed by NAME. `supervise_stop` sends SIGTERM to each command, waits up to
# SUPERVISE_GRACE seconds for its whole group to be gone, then SIGKILLs what is left. `supervise_wait` returns when one of the
# processes exits on its own (a crash) or when INT/TERM arrives; either way everything stops.

SUPERVISE_PIDS=()
SUPERVISE_NAMES=()
SUPERVISE_GRACE=${SUPERVISE_GRACE:-20}
SUPERVISE_STOPPING=0

supervise_say() {
  # Never fails: the terminal or pipe we print to may be gone while we stop.
  echo "$*" 2>/dev/null || true
}

supervise_start() {
  local name=$1
  shift
  # setsid: a new process group whose id is the command's pid (a background job is never a
  # group leader, so setsid execs in place and $! is the command itself).
  # The prefixing sed ignores INT/TERM: Ctrl-C must not break the pipe a command still logs to
  # while it shuts down.
  setsid "$@" > >(trap '' INT TERM; exec sed -u "s/^/[$name] /") 2>&1 &
  SUPERVISE_PIDS+=("$!")
  SUPERVISE_NAMES+=("$name")
  supervise_say "[supervise] $name started (pid $!)"
}

supervise_alive() {
  # True while any process of the group $1 exists.
  kill -0 -- "-$1" 2>/dev/null
}

supervise_stop() {
  [ "$SUPERVISE_STOPPING" = 1 ] && return 0
  SUPERVISE_STOPPING=1
  trap '' PIPE
  local i pid deadline
  for i in "${!SUPERVISE_PIDS[@]}"; do
    pid=${SUPERVISE_PIDS[$i]}
    if supervise_alive "$pid"; then
      supervise_say "[supervise] stopping ${SUPERVISE_NAMES[$i]} (pid $pid)"
      # Only the leader: it stops its own children (Celery's pool, gunicorn's workers,
      # runserver's reloaded child); a signal to the whole group would kill them under it.
      kill -TERM "$pid" 2>/dev/null || true
    fi
  done
  deadline=$((SECONDS + SUPERVISE_GRACE))
  for i in "${!SUPERVISE_PIDS[@]}"; do
    pid=${SUPERVISE_PIDS[$i]}
    while supervise_alive "$pid" && [ "$SECONDS" -lt "$deadline" ]; do
      sleep 0.2
    done
    if supervise_alive "$pid"; then
      supervise_say "[supervise] ${SUPERVISE_NAMES[$i]} did not stop within ${SUPERVISE_GRACE}s: SIGKILL"
      kill -KILL -- "-$pid" 2>/dev/null || true
    fi
    wait "$pid" 2>/dev/null || true
  done
  supervise_say "[supervise] all stopped"
}

supervise_wait() {
  # Returns 0 after INT/TERM, 1 when a process died by itself.
  local status=0 exited
  trap 'SUPERVISE_SIGNALLED=1' INT TERM
  SUPERVISE_SIGNALLED=0
  while [ "$SUPERVISE_SIGNALLED" = 0 ]; do
    exited=""
    for i in "${!SUPERVISE_PIDS[@]}"; do
      if ! kill -0 "${SUPERVISE_PIDS[$i]}" 2>/dev/null; then
        exited=${SUPERVISE_NAMES[$i]}
        break
      fi
    done
    if [ -n "$exited" ]; then
      supervise_say "[supervise] $exited exited unexpectedly; stopping the others"
      status=1
      break
    fi
    # `wait -n` returns early when a trapped signal arrives or a child exits.
    sleep 1 &
    wait -n "$!" 2>/dev/null || true
  done
  trap - INT TERM
  supervise_stop
  return "$status"
}

supervise_wait_http() {
  # supervise_wait_http URL SECONDS: wait until URL answers (any HTTP status below 500).
  local url=$1 limit=$2 deadline
  deadline=$((SECONDS + limit))
  while [ "$SECONDS" -lt "$deadline" ]; do
    if "${SUPERVISE_PYTHON:-python3}" - "$url" <<'PY' 2>/dev/null; then
import sys
import urllib.error
import urllib.request

try:
    urllib.request.urlopen(sys.argv[1], timeout=2)  # noqa: S310 - loopback URL
except urllib.error.HTTPError as exc:
    sys.exit(0 if exc.code < 500 else 1)
PY
      return 0
    fi
    sleep 0.5
  done
  return 1
}
