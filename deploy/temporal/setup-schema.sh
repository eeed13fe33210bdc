#!/bin/sh
# Creates Temporal's two PostgreSQL databases (persistence, visibility) and brings their schemas up
# to the admin-tools image's version. Safe to run again: compose runs it on every `up`, and a newer
# image (after bumping the pinned tags together) applies only the new schema versions.
set -eu

: "${POSTGRES_SEEDS:?set POSTGRES_SEEDS (the PostgreSQL host)}"
: "${POSTGRES_USER:?set POSTGRES_USER}"
: "${SQL_PASSWORD:?set SQL_PASSWORD (read by temporal-sql-tool)}"
PORT="${DB_PORT:-5432}"
SCHEMA=/etc/temporal/schema/postgresql/v12

echo "waiting for PostgreSQL at ${POSTGRES_SEEDS}:${PORT}"
attempt=0
until nc -z -w 5 "$POSTGRES_SEEDS" "$PORT"; do
  attempt=$((attempt + 1))
  [ "$attempt" -lt 30 ] || { echo "PostgreSQL at ${POSTGRES_SEEDS}:${PORT} never answered"; exit 1; }
  sleep 2
done

for db in temporal:temporal temporal_visibility:visibility; do
  name="${db%%:*}"
  dir="${SCHEMA}/${db##*:}/versioned"
  sql() { temporal-sql-tool --plugin postgres12 --ep "$POSTGRES_SEEDS" -p "$PORT" -u "$POSTGRES_USER" --db "$name" "$@"; }
  sql create || echo "database ${name}: already there"
  sql setup-schema -v 0.0
  sql update-schema -d "$dir"
  echo "database ${name}: schema up to date"
done
