#!/usr/bin/env bash
# Start a throw-away PostgreSQL for the store tests (loopback only, port 55432) and print its URL.
# Idempotent: prints the URL of the running one. Installs Debian's postgresql when missing (root).
# Prints nothing and exits 0 when PostgreSQL cannot be had here; CI sets OCSEA_REQUIRE_POSTGRES=1
# so that the tests then fail instead of skipping.
set -uo pipefail
# Usage: start-test-postgres.sh [DBNAME]   (default ocsea_test; the benchmarks use their own)
DBNAME=${1:-ocsea_test}
PORT=${OCSEA_PG_PORT:-55432}
DIR=${OCSEA_PG_DIR:-/tmp/ocsea-test-pg-$PORT}
URL="postgresql+psycopg://ocsea@127.0.0.1:$PORT/$DBNAME"
ensure_db() { "$BIN/psql" -h 127.0.0.1 -p "$PORT" -U ocsea -d postgres -tAc "SELECT 1 FROM pg_database WHERE datname='$DBNAME'" | grep -q 1 \
  || "$BIN/createdb" -h 127.0.0.1 -p "$PORT" -U ocsea "$DBNAME"; }
pgbin() { ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -1; }
BIN=$(pgbin)
if [ -z "$BIN" ] && [ "$(id -u)" -eq 0 ]; then
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq postgresql >/dev/null 2>&1 \
    || { apt-get update -qq >/dev/null 2>&1 && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq postgresql >/dev/null 2>&1; }
  BIN=$(pgbin)
fi
[ -n "$BIN" ] || exit 0
if "$BIN/pg_isready" -q -h 127.0.0.1 -p "$PORT"; then ensure_db || exit 0; echo "$URL"; exit 0; fi
as_pg() { if [ "$(id -u)" -eq 0 ]; then runuser -u postgres -- "$@"; else "$@"; fi; }
rm -rf "$DIR" && mkdir -p "$DIR"
[ "$(id -u)" -eq 0 ] && chown postgres "$DIR"
as_pg "$BIN/initdb" -D "$DIR/data" -A trust -U ocsea >/dev/null || exit 0
as_pg "$BIN/pg_ctl" -D "$DIR/data" -l "$DIR/server.log" -w \
  -o "-p $PORT -k $DIR -c listen_addresses=127.0.0.1 -c fsync=off -c synchronous_commit=off" start >/dev/null || exit 0
ensure_db || exit 0
echo "$URL"
