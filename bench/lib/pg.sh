# bench/lib/pg.sh starts a throwaway PostgreSQL for a benchmark script: Debian's binaries (as user
# postgres when run as root, since initdb and postgres refuse root), a free port on 127.0.0.1, fsync off,
# pg_stat_statements loaded and connections logged. Source it, then call
#
#   pg_start DIR      # initdb into DIR/data; sets PGBIN, PGPORT, PGPID, DSN (database crm); defines psql_
#   pg_stop           # stops it (the caller removes DIR)
#
# pg_stat_statements is installed in the database postgres (query it there; it sees every database). Scripts that keep several servers in one cleanup
# list add PGPID to it themselves.

PGBIN=${PGBIN:-$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -1)}

pg_freeport() { python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'; }

psql_() { psql -X -q -v ON_ERROR_STOP=1 -h 127.0.0.1 -p "$PGPORT" -U postgres "$@"; }

pg_start() {
	local dir=$1 i
	local as_postgres=()
	[[ -x $PGBIN/initdb ]] || { echo "no PostgreSQL under /usr/lib/postgresql (apt-get install postgresql)" >&2; return 1; }
	mkdir -p "$dir"
	chmod 755 "$dir"
	if ((EUID == 0)); then
		as_postgres=(setpriv --reuid=postgres --regid=postgres --init-groups --)
		chown postgres: "$dir"
	fi
	"${as_postgres[@]}" "$PGBIN/initdb" -D "$dir/data" -U postgres --auth=trust --encoding=UTF8 \
		--locale=C.UTF-8 --no-sync >"$dir/initdb.log" || { cat "$dir/initdb.log" >&2; return 1; }
	PGPORT=$(pg_freeport)
	"${as_postgres[@]}" "$PGBIN/postgres" -D "$dir/data" -p "$PGPORT" -c listen_addresses=127.0.0.1 \
		-c unix_socket_directories= -c fsync=off -c synchronous_commit=off -c full_page_writes=off \
		-c max_connections=200 -c shared_preload_libraries=pg_stat_statements -c log_connections=on \
		>"$dir/log" 2>&1 &
	PGPID=$!
	for i in $(seq 1 300); do
		kill -0 "$PGPID" 2>/dev/null || { echo "postgres exited: $(tail -5 "$dir/log")" >&2; return 1; }
		psql_ -d postgres -Atc 'SELECT 1' >/dev/null 2>&1 && break
		sleep 0.1
	done
	# The server on that port must be the one started here, not another that took the port first.
	[[ $(psql_ -d postgres -Atc 'SHOW data_directory') == "$dir/data" ]] || { echo "port $PGPORT answers for another server" >&2; return 1; }
	psql_ -d postgres -c 'CREATE DATABASE crm' -c 'CREATE EXTENSION pg_stat_statements' >/dev/null
	DSN="postgres://postgres@127.0.0.1:$PGPORT/crm?sslmode=disable"
}

pg_stop() {
	[[ -n ${PGPID:-} ]] || return 0
	kill "$PGPID" 2>/dev/null || true
	wait "$PGPID" 2>/dev/null || true
	PGPID=
}
