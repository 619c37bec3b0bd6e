#!/bin/sh
# TracPro's container entrypoint; it also runs as-is outside Docker (every
# path and binary comes from the environment).
#
#  1. Restore the database from the S3 replica when the local file is missing
#     (a new machine, an empty volume). No replica yet (a first boot): start
#     on a fresh database. Any other restore failure — S3 unreachable, bad
#     credentials, a corrupt replica — stops here with a non-zero exit: a new
#     empty database would otherwise be replicated over the bucket's data.
#  2. exec Litestream, which runs `tracpro serve` as its child, forwards
#     SIGTERM to it, waits for it to exit, then ships the last WAL frames.
#
# Environment: TRACPRO_DB (database path), LITESTREAM_CONFIG (litestream.yml),
# LITESTREAM_BIN and TRACPRO_BIN (the binaries), plus the LITESTREAM_* and
# AWS_* variables litestream.yml reads. Arguments are passed to `tracpro serve`.
set -eu

: "${TRACPRO_DB:=/data/tracpro.db}"
: "${LITESTREAM_CONFIG:=/etc/litestream.yml}"
: "${LITESTREAM_BIN:=litestream}"
: "${TRACPRO_BIN:=tracpro}"
export TRACPRO_DB

log() { echo "entrypoint: $*" >&2; }

# quote prints its argument as one single-quoted word for Litestream's -exec
# (split by go-shellwords): paths and arguments may contain spaces or quotes.
quote() { printf "'%s'" "$(printf '%s' "$1" | sed "s/'/'\\\\''/g")"; }

if [ -z "${LITESTREAM_BUCKET:-}" ]; then
	log "LITESTREAM_BUCKET is not set: refusing to start without replication"
	exit 64
fi

dir=$(dirname "$TRACPRO_DB")
base=$(basename "$TRACPRO_DB")
if [ ! -d "$dir" ]; then
	log "the database directory $dir does not exist"
	exit 66
fi

if [ -e "$TRACPRO_DB" ]; then
	log "using the existing database $TRACPRO_DB"
else
	# Without its database, a -wal or -shm is stale (SQLite would replay
	# another file's pages over the restored one) and Litestream's metadata
	# describes a database that is gone: a restore starts clean.
	for stale in "$TRACPRO_DB-wal" "$TRACPRO_DB-shm" "$TRACPRO_DB-journal" "$TRACPRO_DB.tmp" "$dir/.$base-litestream"; do
		if [ -e "$stale" ]; then
			log "removing $stale (left without its database)"
			rm -rf -- "$stale"
		fi
	done
	log "no database at $TRACPRO_DB: restoring from the replica if there is one"
	if ! "$LITESTREAM_BIN" restore -config "$LITESTREAM_CONFIG" -if-db-not-exists -if-replica-exists -integrity-check quick "$TRACPRO_DB"; then
		# Leave nothing a later start could mistake for a database.
		rm -f -- "$TRACPRO_DB" "$TRACPRO_DB-wal" "$TRACPRO_DB-shm" "$TRACPRO_DB.tmp"
		log "restore failed: not starting (fix the replica settings or S3 access, then start again)"
		exit 75
	fi
	if [ -e "$TRACPRO_DB" ]; then
		log "restored $TRACPRO_DB from the replica"
	else
		log "the replica is empty: starting on a new database"
	fi
fi

# Litestream runs `tracpro serve` as its child (every word quoted), forwards
# SIGTERM to it, waits for it, then ships the last WAL frames.
cmd="$(quote "$TRACPRO_BIN") serve"
for arg in "$@"; do
	cmd="$cmd $(quote "$arg")"
done
exec "$LITESTREAM_BIN" replicate -config "$LITESTREAM_CONFIG" -exec "$cmd"
