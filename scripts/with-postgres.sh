#!/usr/bin/env bash
# Runs a command with a throwaway PostgreSQL cluster on a loopback port, exported as PG_URL,
# and stops the cluster afterwards whatever the command's result.
#   bash scripts/with-postgres.sh npm test
# Needs PostgreSQL's server binaries (Debian: postgresql-15); as root it runs them as the
# `postgres` user, since initdb refuses root. Without them the command runs without PG_URL
# (the PostgreSQL specs then report as pending).
set -uo pipefail

bindir=""
for d in /usr/lib/postgresql/*/bin; do [ -x "$d/initdb" ] && bindir="$d"; done
if [ -z "$bindir" ] && command -v initdb >/dev/null; then bindir="$(dirname "$(command -v initdb)")"; fi
if [ -z "$bindir" ]; then
  echo "with-postgres: no PostgreSQL server found; running without PG_URL" >&2
  exec "$@"
fi

as_owner=()
dir=$(mktemp -d /tmp/omniscient-pg.XXXXXX)
chmod 755 "$dir"
if [ "$(id -u)" = "0" ]; then
  chown postgres "$dir"
  as_owner=(runuser -u postgres --)
fi
port=$(( 20000 + RANDOM % 20000 ))

stop() {
  "${as_owner[@]}" "$bindir/pg_ctl" -D "$dir/data" -m immediate stop >/dev/null 2>&1
  rm -rf "$dir"
}
trap stop EXIT

"${as_owner[@]}" "$bindir/initdb" -D "$dir/data" -U postgres -A trust --no-sync >"$dir/initdb.log" 2>&1 \
  || { cat "$dir/initdb.log" >&2; exit 1; }
"${as_owner[@]}" "$bindir/pg_ctl" -D "$dir/data" -l "$dir/server.log" -w -t 30 \
  -o "-p $port -k $dir -c listen_addresses=127.0.0.1 -c max_connections=200" start >/dev/null \
  || { cat "$dir/server.log" >&2; exit 1; }

export PG_URL="postgres://postgres@127.0.0.1:$port/postgres"
export PG_CTL="${as_owner[*]} $bindir/pg_ctl -D $dir/data"
echo "with-postgres: PostgreSQL on 127.0.0.1:$port" >&2
"$@"
