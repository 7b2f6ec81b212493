#!/usr/bin/env bash
# A local PostgreSQL 15 streaming replica of the local primary, serving the trust dashboard
# bench's GraphQL reads (MARKBOOK_READ_DATABASE_URL), then stopped and removed.
#
#   sudo bash bench/replica.sh [extra bench.run options, e.g. --repeat 20]
#
# Needs: root (it runs the replica as the postgres user with pg_ctl from
# /usr/lib/postgresql/15/bin), the primary on 127.0.0.1:5432 with trust auth, wal_level replica
# or logical and max_wal_senders > 0 (PostgreSQL 15's defaults), and the bench database
# markbook_bench_trust built at the current migration head (`python -m bench.generate --size
# trust`); the script refuses rather than let the bench rebuild it.
#
# What it changes on the primary, and undoes on exit (even on failure or Ctrl-C): one line
# in its pg_hba.conf allowing replication connections from 127.0.0.1 (trust), and a reload.
# The replica's data (a pg_basebackup, the size of the primary's data) lives in a temporary
# directory that is removed on exit.
set -euo pipefail

PGBIN=/usr/lib/postgresql/15/bin
PRIMARY_PORT=${PRIMARY_PORT:-5432}
REPLICA_PORT=${REPLICA_PORT:-5433}
DATABASE=markbook_bench_trust
MARK="# markbook bench/replica.sh: removed when it ends"
ROOT=$(cd "$(dirname "$0")/.." && pwd)

primary() { psql -h 127.0.0.1 -p "$PRIMARY_PORT" -U postgres -X -tA "$@"; }
replica() { psql -h 127.0.0.1 -p "$REPLICA_PORT" -U postgres -X -tA "$@"; }
as_postgres() { runuser -u postgres -- "$@"; }
say() { printf '\n== %s\n' "$*"; }

[ "$(id -u)" = 0 ] || { echo "run as root (the replica runs as the postgres user)" >&2; exit 2; }
[ -x "$PGBIN/pg_ctl" ] || { echo "no PostgreSQL 15 at $PGBIN" >&2; exit 2; }
if ss -ltn "sport = :$REPLICA_PORT" | grep -q LISTEN; then
    echo "port $REPLICA_PORT is taken: set REPLICA_PORT" >&2
    exit 2
fi

cd "$ROOT"
say "the bench database is built at this head (the bench must not rebuild it)"
uv run --frozen python - <<'EOF'
import asyncio, sys
from bench import generate as gen
size = gen.SIZES["trust"]
url = gen.database_url(gen.DEFAULT_SERVER_URL, size.database)
wanted = gen.marker(size, gen.DEFAULT_SEED, url)
found = asyncio.run(gen._current_marker(gen.DEFAULT_SERVER_URL, size.database))
print(f"found: {found}")
if found != wanted:
    sys.exit(f"markbook_bench_trust is not built as {wanted!r}: build it first (bench.generate)")
EOF

HBA=$(primary -c "SHOW hba_file")
DATA=$(mktemp -d /tmp/markbook-replica.XXXXXX)
chown postgres:postgres "$DATA"
chmod 700 "$DATA"
SAMPLER=

cleanup() {
    set +e
    [ -n "$SAMPLER" ] && kill "$SAMPLER" 2>/dev/null && wait "$SAMPLER" 2>/dev/null
    if [ -f "$DATA/postmaster.pid" ]; then
        say "stopping the replica"
        as_postgres "$PGBIN/pg_ctl" -D "$DATA" -m fast -w stop
    fi
    rm -rf "$DATA"
    if grep -qF "$MARK" "$HBA"; then
        grep -vF "$MARK" "$HBA" > "$HBA.markbook-tmp" && cat "$HBA.markbook-tmp" > "$HBA"
        rm -f "$HBA.markbook-tmp"
        primary -c "SELECT pg_reload_conf()" > /dev/null
        echo "primary's pg_hba.conf restored and reloaded"
    fi
    echo "replica data removed: $DATA"
}
trap cleanup EXIT INT TERM

say "primary: wal_level=$(primary -c 'SHOW wal_level'), max_wal_senders=$(primary -c 'SHOW max_wal_senders')"
if ! primary -c "SELECT 1 FROM pg_hba_file_rules WHERE 'replication' = ANY(database)" | grep -q 1; then
    echo "host replication all 127.0.0.1/32 trust $MARK" >> "$HBA"
    primary -c "SELECT pg_reload_conf()" > /dev/null
    echo "added to $HBA (until the end): host replication all 127.0.0.1/32 trust"
fi

say "pg_basebackup of the primary into $DATA"
started=$(date +%s)
as_postgres "$PGBIN/pg_basebackup" -h 127.0.0.1 -p "$PRIMARY_PORT" -U postgres -D "$DATA" \
    --wal-method=stream --write-recovery-conf --checkpoint=fast --no-sync
echo "copied $(du -sh "$DATA" | cut -f1) in $(( $(date +%s) - started )) s"

# Debian keeps postgresql.conf and pg_hba.conf outside the data directory: the replica gets
# its own. A hot standby needs these at least as large as the primary's.
{
    echo "port = $REPLICA_PORT"
    echo "listen_addresses = '127.0.0.1'"
    echo "unix_socket_directories = '$DATA'"
    echo "hot_standby = on"
    echo "cluster_name = 'markbook-replica'"
    for setting in max_connections max_worker_processes max_wal_senders \
        max_prepared_transactions max_locks_per_transaction shared_buffers; do
        echo "$setting = '$(primary -c "SHOW $setting")'"
    done
} > "$DATA/postgresql.conf"
printf 'local all all trust\nhost all all 127.0.0.1/32 trust\n' > "$DATA/pg_hba.conf"
: > "$DATA/pg_ident.conf"
chown postgres:postgres "$DATA"/postgresql.conf "$DATA"/pg_hba.conf "$DATA"/pg_ident.conf

say "starting the replica on 127.0.0.1:$REPLICA_PORT"
as_postgres "$PGBIN/pg_ctl" -D "$DATA" -l "$DATA/replica.log" -w -t 120 start
echo "in recovery (a standby): $(replica -c 'SELECT pg_is_in_recovery()')"
echo "streaming from the primary: $(primary -c "SELECT application_name || ' ' || state || ' ' || sync_state FROM pg_stat_replication")"
target=$(primary -c "SELECT pg_current_wal_lsn()")
for _ in $(seq 1 600); do
    caught=$(replica -c "SELECT pg_last_wal_replay_lsn() >= '$target'::pg_lsn")
    [ "$caught" = t ] && break
    sleep 0.5
done
echo "replayed up to the primary's $target: $caught"

counts() {
    replica -d "$DATABASE" -c "SELECT xact_commit + xact_rollback, tup_returned + tup_fetched
        FROM pg_stat_database WHERE datname = '$DATABASE'"
}
before_replica=$(counts)
before_primary=$(primary -d "$DATABASE" -c "SELECT xact_commit + xact_rollback, tup_returned + tup_fetched FROM pg_stat_database WHERE datname = '$DATABASE'")

# While the bench runs: who is connected to the replica, once a second.
SAMPLES="$DATA/activity"
(
    while true; do
        replica -c "SELECT application_name, state, count(*) FROM pg_stat_activity
            WHERE datname = '$DATABASE' GROUP BY 1, 2" >> "$SAMPLES" 2>/dev/null || true
        sleep 1
    done
) &
SAMPLER=$!

say "the trust dashboard bench (GraphQL) reading from the replica"
READ_URL="postgresql+asyncpg://postgres@127.0.0.1:$REPLICA_PORT/$DATABASE"
uv run --frozen python -m bench.run --size trust --reuse --only graphql --no-save \
    --read-url "$READ_URL" "$@"

kill "$SAMPLER" 2>/dev/null; wait "$SAMPLER" 2>/dev/null || true
SAMPLER=

say "the replica served it"
echo "connections to $DATABASE on the replica seen during the bench (application_name|state|count):"
sort "$SAMPLES" | uniq -c | sort -rn | head -8
after_replica=$(counts)
after_primary=$(primary -d "$DATABASE" -c "SELECT xact_commit + xact_rollback, tup_returned + tup_fetched FROM pg_stat_database WHERE datname = '$DATABASE'")
delta() { awk -F'|' -v a="$1" -v b="$2" 'BEGIN { split(a, x, "|"); split(b, y, "|");
    printf "%d transactions, %d rows read\n", y[1] - x[1], y[2] - x[2] }'; }
echo "replica, $DATABASE during the bench: $(delta "$before_replica" "$after_replica")"
echo "primary, $DATABASE during the bench (callers, SQL floors, checks): $(delta "$before_primary" "$after_primary")"
echo "replay lag at the end: $(replica -c "SELECT coalesce(now() - pg_last_xact_replay_timestamp(), '0')")"
