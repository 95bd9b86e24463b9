#!/usr/bin/env bash
# Run a command beside a throwaway PostgreSQL cluster (and Redis when installed) on free
# loopback ports, exporting PORTAL_TEST_DATABASE_URL / PORTAL_TEST_REDIS_URL; both are
# removed afterwards, whatever the command's outcome.
set -euo pipefail
free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }

PGBIN=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -1)
if [ -z "$PGBIN" ]; then
  echo "PostgreSQL is not installed (apt-get install postgresql)" >&2
  exit 1
fi
PGDIR=$(mktemp -d /tmp/appeal-pg.XXXXXX)
RDIR=$(mktemp -d /tmp/appeal-redis.XXXXXX)
as_postgres() { if [ "$(id -u)" = 0 ]; then runuser -u postgres -- "$@"; else "$@"; fi; }
[ "$(id -u)" = 0 ] && chown postgres:postgres "$PGDIR"

cleanup() {
  set +e
  [ -f "$RDIR/redis.pid" ] && kill "$(cat "$RDIR/redis.pid")" 2>/dev/null
  [ -f "$PGDIR/data/postmaster.pid" ] && as_postgres "$PGBIN/pg_ctl" -D "$PGDIR/data" -m immediate stop >/dev/null
  rm -rf "$PGDIR" "$RDIR"
}
trap cleanup EXIT

PGPORT=$(free_port)
as_postgres "$PGBIN/initdb" -D "$PGDIR/data" -U postgres -A trust -E UTF8 --locale=C.UTF-8 --no-sync >/dev/null
as_postgres "$PGBIN/pg_ctl" -D "$PGDIR/data" -l "$PGDIR/server.log" -w -t 60 \
  -o "-c listen_addresses=127.0.0.1 -p $PGPORT -k $PGDIR -c fsync=off -c synchronous_commit=off -c full_page_writes=off" \
  start >/dev/null
export PORTAL_TEST_DATABASE_URL="postgresql+psycopg://postgres@127.0.0.1:$PGPORT/postgres"
echo "[services] PostgreSQL $("$PGBIN/postgres" --version | awk '{print $3}') on 127.0.0.1:$PGPORT"

if command -v redis-server >/dev/null; then
  RPORT=$(free_port)
  redis-server --bind 127.0.0.1 --port "$RPORT" --save '' --appendonly no --dir "$RDIR" \
    --daemonize yes --pidfile "$RDIR/redis.pid" --logfile "$RDIR/redis.log"
  for _ in $(seq 50); do redis-cli -p "$RPORT" ping >/dev/null 2>&1 && break; sleep 0.1; done
  export PORTAL_TEST_REDIS_URL="redis://127.0.0.1:$RPORT/0"
  echo "[services] Redis on 127.0.0.1:$RPORT"
elif [ -n "${CI:-}" ]; then
  echo "redis-server is not installed (apt-get install redis-server)" >&2
  exit 1
fi

"$@"
