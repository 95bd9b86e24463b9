#!/usr/bin/env bash
# The scaled-out deployment on loopback, in one command: a throwaway PostgreSQL and Redis
# (through with-services.sh), moto's S3 server, `init-db`, N `serve` processes on
# consecutive ports and M `worker` processes, all sharing one database, queue, bucket,
# data folder and secret key. Everything is removed on exit or Ctrl-C.
#
#   scripts/stack.sh [--web N] [--workers M] [--port P]            # up until Ctrl-C
#   scripts/stack.sh [--web N] [--workers M] -- CMD [ARGS...]      # CMD runs with the stack up
#
# CMD sees the PORTAL_* variables and STACK_WEB_URLS, STACK_WEB_PIDS, STACK_WORKER_PIDS
# (space-separated; each pid is also its process group, so `kill -9 -- -PID` takes a web
# process with its gunicorn workers) and STACK_DIR (logs under STACK_DIR/logs).
# STACK_SERVE_WORKERS / STACK_SERVE_THREADS pass --workers / --threads to each `serve`.
set -euo pipefail
HERE=$(cd "$(dirname "$0")" && pwd)
ROOT=$(dirname "$HERE")
BIN=${STACK_BIN:-$ROOT/.venv/bin}

if [ -z "${PORTAL_TEST_DATABASE_URL:-}" ] || [ -z "${PORTAL_TEST_REDIS_URL:-}" ]; then
  command -v redis-server >/dev/null || { echo "redis-server is not installed" >&2; exit 1; }
  exec "$HERE/with-services.sh" "$0" "$@"
fi

WEB=2 WORKERS=1 PORT=5100
while [ $# -gt 0 ]; do
  case "$1" in
    --web) WEB=$2; shift 2 ;;
    --workers) WORKERS=$2; shift 2 ;;
    --port) PORT=$2; shift 2 ;;
    --) shift; break ;;
    *) echo "unknown option $1 (scripts/stack.sh [--web N] [--workers M] [--port P] [-- CMD])" >&2; exit 2 ;;
  esac
done
free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
port_free() { python3 -c "import socket,sys; s=socket.socket(); sys.exit(s.connect_ex(('127.0.0.1',$1))==0)"; }

STACK_DIR=$(mktemp -d /tmp/appeal-stack.XXXXXX)
mkdir -p "$STACK_DIR/logs" "$STACK_DIR/data"
PIDS=()
cleanup() {
  set +e
  for pid in "${PIDS[@]}"; do kill -TERM -- "-$pid" 2>/dev/null; done
  for _ in $(seq 50); do
    alive=0
    for pid in "${PIDS[@]}"; do kill -0 -- "-$pid" 2>/dev/null && alive=1; done
    [ $alive = 0 ] && break
    sleep 0.2
  done
  for pid in "${PIDS[@]}"; do kill -KILL -- "-$pid" 2>/dev/null; done
  rm -rf "$STACK_DIR"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# Its own process group, so that teardown (and a kill test) reaches gunicorn's workers.
start() { local log=$1; shift; setsid "$@" >"$STACK_DIR/logs/$log" 2>&1 & PIDS+=($!); }

S3PORT=$(free_port)
export AWS_ACCESS_KEY_ID=stack AWS_SECRET_ACCESS_KEY=stack AWS_DEFAULT_REGION=us-east-1
start moto.log "$BIN/moto_server" -H 127.0.0.1 -p "$S3PORT"
export PORTAL_S3_ENDPOINT_URL="http://127.0.0.1:$S3PORT" PORTAL_S3_BUCKET=appeal-stack
for _ in $(seq 100); do curl -sf -o /dev/null "$PORTAL_S3_ENDPOINT_URL" && break; sleep 0.1; done
"$BIN/python" -c 'import boto3, os
boto3.client("s3", endpoint_url=os.environ["PORTAL_S3_ENDPOINT_URL"]).create_bucket(Bucket=os.environ["PORTAL_S3_BUCKET"])'
echo "[stack] moto S3 on $PORTAL_S3_ENDPOINT_URL, bucket $PORTAL_S3_BUCKET"

export PORTAL_DATABASE_URL=$PORTAL_TEST_DATABASE_URL PORTAL_REDIS_URL=$PORTAL_TEST_REDIS_URL
export PORTAL_BUNDLE_QUEUE=redis PORTAL_DATA_DIR=$STACK_DIR/data
export PORTAL_SECRET_KEY=${PORTAL_SECRET_KEY:-$(python3 -c 'import secrets; print(secrets.token_hex(32))')}
"$BIN/merchant-portal" init-db >"$STACK_DIR/logs/init-db.log" 2>&1 || { cat "$STACK_DIR/logs/init-db.log" >&2; exit 1; }

SERVE_ARGS=()
[ -n "${STACK_SERVE_WORKERS:-}" ] && SERVE_ARGS+=(--workers "$STACK_SERVE_WORKERS")
[ -n "${STACK_SERVE_THREADS:-}" ] && SERVE_ARGS+=(--threads "$STACK_SERVE_THREADS")
URLS=() WEB_PIDS=() WORKER_PIDS=()
for i in $(seq 0 $((WEB - 1))); do
  p=$((PORT + i))
  port_free "$p" || { echo "port $p is taken (choose another with --port)" >&2; exit 1; }
  start "serve-$p.log" "$BIN/merchant-portal" serve --host 127.0.0.1 --port "$p" "${SERVE_ARGS[@]}"
  WEB_PIDS+=("${PIDS[-1]}") URLS+=("http://127.0.0.1:$p")
done
for i in $(seq 1 "$WORKERS"); do
  start "worker-$i.log" "$BIN/merchant-portal" worker
  WORKER_PIDS+=("${PIDS[-1]}")
done
for url in "${URLS[@]}"; do
  for _ in $(seq 300); do curl -sf -o /dev/null "$url/login" && break; sleep 0.1; done
  curl -sf -o /dev/null "$url/login" || { echo "$url did not come up:" >&2; tail -20 "$STACK_DIR"/logs/serve-*.log >&2; exit 1; }
done
export STACK_DIR STACK_WEB_URLS="${URLS[*]}" STACK_WEB_PIDS="${WEB_PIDS[*]}" STACK_WORKER_PIDS="${WORKER_PIDS[*]}"
echo "[stack] web: ${URLS[*]} (pids ${WEB_PIDS[*]}); workers: pids ${WORKER_PIDS[*]:-none}"
echo "[stack] data and logs in $STACK_DIR"

if [ $# -gt 0 ]; then
  "$@"
else
  echo "[stack] up; Ctrl-C tears it down"
  wait
fi
