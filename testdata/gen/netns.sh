# Shared by the fixture generators (testdata/gen/gen.sh, testdata/media/gen.sh,
# parse/textlog/testdata/logs/kamailio/gen.sh; sourced, not run): start, stop
# and wait for processes inside the network namespaces a script makes,
# capture on their links, and remove them all at exit. The sourcing script
# sets WORK (a temp dir), NSP (its namespace prefix), PIDS=(), log() and
# die(), then its EXIT trap calls cleanup.


# ---------------------------------------------------------------- processes
# bg NS LOGNAME CMD...: start CMD in namespace NS (cwd $WORK), remember its pid.
bg() {
	local ns=$1 name=$2
	shift 2
	(cd "$WORK" && exec ip netns exec "$ns" "$@") >"$WORK/$name.out" 2>&1 </dev/null &
	BGPID=$!
	PIDS+=("$BGPID")
}

# stop PID [SIGNAL]: signal one process we started and wait (bounded) for it.
stop() {
	local pid=$1 sig=${2:-TERM} i
	kill -0 "$pid" 2>/dev/null || { wait "$pid" 2>/dev/null || true; return 0; }
	kill -"$sig" "$pid" 2>/dev/null || true
	for i in $(seq 1 50); do
		kill -0 "$pid" 2>/dev/null || break
		sleep 0.1
	done
	kill -0 "$pid" 2>/dev/null && kill -KILL "$pid" 2>/dev/null || true
	wait "$pid" 2>/dev/null || true
}

# waitpid_bounded PID SECONDS: wait for a process to end by itself.
waitpid_bounded() {
	local pid=$1 secs=$2 i
	for i in $(seq 1 $((secs * 10))); do
		kill -0 "$pid" 2>/dev/null || break
		sleep 0.1
	done
	if kill -0 "$pid" 2>/dev/null; then
		log "pid $pid still running after ${secs}s, stopping it"
		stop "$pid"
		return 1
	fi
	local rc=0
	wait "$pid" 2>/dev/null || rc=$?
	[ "$rc" = 0 ] || log "pid $pid exited with code $rc"
	return "$rc"
}

cleanup() {
	local p n
	for p in "${PIDS[@]}"; do stop "$p"; done
	PIDS=()
	for n in $(ip netns list | awk '{print $1}' | grep "^$NSP-" || true); do
		ip netns del "$n" 2>/dev/null || true
	done
}

# capture_start NS FILE TOOL ARGS...: start tcpdump/dumpcap, wait until ready.
capture_start() {
	local ns=$1 file=$2 i
	shift 2
	rm -f "$file"
	bg "$NSP-$ns" capture "$@" -w "$file"
	CAPPID=$BGPID
	for i in $(seq 1 50); do
		grep -qiE 'listening on|^Capturing on' "$WORK/capture.out" 2>/dev/null && break
		kill -0 "$CAPPID" 2>/dev/null || { cat "$WORK/capture.out" >&2; die "capture failed"; }
		sleep 0.1
	done
	sleep 0.3
}
capture_stop() {
	sleep 0.5
	stop "$CAPPID" INT
	cat "$WORK/capture.out" >&2
}

# nsx NS CMD...: run CMD in namespace $NSP-NS.
nsx() { local ns=$1; shift; ip netns exec "$NSP-$ns" "$@"; }

# run_ref CMD...: "$ CMD", then its output; stderr is kept except tshark's root warning.
run_ref() {
	local rc=0
	local a line="$"
	for a in "$@"; do
		case $a in
		*[!A-Za-z0-9_.,:=/+-]*) line+=" '$a'" ;;
		*) line+=" $a" ;;
		esac
	done
	printf '%s\n' "$line"
	"$@" 2>"$WORK/ref.err" || rc=$?
	grep -v 'Running as user "root"' "$WORK/ref.err" || true
	[ "$rc" = 0 ] || printf '# exit status %s\n' "$rc"
}
