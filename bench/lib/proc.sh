# bench/lib/proc.sh measures the processes of a benchmark script: source it after bench/lib/pg.sh.
#
#   need_load_tools     # installs wrk, psql and PostgreSQL's server from Debian when one is missing
#   wait_http URL PID   # waits until URL answers, failing if PID exits first
#   cpu_ticks PID...    # user + system time of the processes, in clock ticks (getconf CLK_TCK)
#   pg_ticks            # user + system time of the postmaster (PGPID), its live children and those it reaped

wait_http() {
	local i
	for i in $(seq 1 600); do
		kill -0 "$2" 2>/dev/null || return 1
		curl -s -o /dev/null -m 2 "$1" && return 0
		sleep 0.1
	done
	return 1
}

cpu_ticks() {
	local line pid total=0
	for pid in "$@"; do
		read -r line <"/proc/$pid/stat"
		set -- ${line##*) } # fields from the third on: state ppid … utime (12) stime (13)
		total=$((total + ${12} + ${13}))
	done
	echo "$total"
}

pg_ticks() {
	local f line total
	read -r line <"/proc/$PGPID/stat"
	set -- ${line##*) }
	total=$((${12} + ${13} + ${14} + ${15}))
	for f in /proc/[0-9]*/stat; do
		read -r line 2>/dev/null <"$f" || continue
		set -- ${line##*) }
		[[ $2 == "$PGPID" ]] && total=$((total + ${12} + ${13}))
	done
	echo "$total"
}

need_load_tools() {
	if ! command -v wrk >/dev/null || ! command -v psql >/dev/null || ! compgen -G '/usr/lib/postgresql/*/bin/initdb' >/dev/null; then
		local apt=(env DEBIAN_FRONTEND=noninteractive apt-get)
		((EUID == 0)) || apt=(sudo "${apt[@]}")
		"${apt[@]}" update -qq
		"${apt[@]}" install -y -qq --no-install-recommends wrk postgresql postgresql-client >/dev/null
	fi
}
