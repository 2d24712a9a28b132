#!/usr/bin/env bash
# Regenerates kamailio.log and kamailio.pcap in this folder: kamailio 5.6.3
# (kamailio.cfg) proxies three sipp calls and logs every SIP message it
# receives and sends with xlog ($mb, $sipdump(buf)) on stderr, while tcpdump
# captures the SIP on the same loopback. Run as root from anywhere:
#
#   sudo bash parse/textlog/testdata/logs/kamailio/gen.sh
#
# It uses the sipp scenarios of testdata/gen/scenarios. Traffic flows only on
# the loopback of a network namespace this script creates ("sfk-lo"): UAC
# 127.0.0.1:5070 -> kamailio 127.0.0.3:5060 -> UAS 127.0.0.2:5060. Every wait
# is bounded; every process is started here and stopped by its pid; the
# namespace is removed on exit.
set -euo pipefail

HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
ROOT=$(cd "$HERE/../../../../.." && pwd)
SCN=$ROOT/testdata/gen/scenarios
WORK=$(mktemp -d /tmp/sipflow-kam.XXXXXX)
NS=sfk-lo
PIDS=()
UAC=127.0.0.1 UAS=127.0.0.2 PX=127.0.0.3

log() { printf '[kam] %s\n' "$*" >&2; }
die() { log "ERROR: $*"; exit 1; }

[ "$(id -u)" = 0 ] || die "must run as root (network namespace, capture)"
for t in sipp kamailio tcpdump editcap ip; do
	command -v "$t" >/dev/null || die "missing tool: $t"
done
G711=/usr/share/sip-tester/g711a.pcap
[ -r "$G711" ] || die "sip-tester pcap not found ($G711)"

# bg NS NAME CMD..., stop, waitpid_bounded, cleanup (removes namespaces $NSP-*)
NSP=sfk
. "$ROOT/testdata/gen/netns.sh"
trap 'cleanup; [ -n "${KEEP_WORK:-}" ] || rm -rf "$WORK"' EXIT

SIPP_COMMON=(-nostdin -m 1 -l 1 -timeout 30s -timeout_error)

uas() { # uas SCENARIO [extra sipp args]: a sipp UAS on $UAS:5060, in background.
	local scn=$1
	shift
	case $scn in /*) ;; *) scn=$SCN/$scn ;; esac
	bg "$NS" uas sipp -sf "$scn" -i "$UAS" -p 5060 "${SIPP_COMMON[@]}" "$@"
	UASPID=$BGPID
	sleep 0.5
}
uac() { # uac SCENARIO [extra]: a sipp UAC on $UAC:5070 calling the proxy (bounded).
	local scn=$1 rc=0
	shift
	bg "$NS" uac sipp "$PX:5060" -sf "$SCN/$scn" -i "$UAC" -p 5070 "${SIPP_COMMON[@]}" "$@"
	waitpid_bounded "$BGPID" 40 || rc=$?
	[ "$rc" = 0 ] || { log "uac exit code $rc"; tail -n 30 "$WORK/uac.out" >&2; }
	return "$rc"
}
uas_wait() { waitpid_bounded "$UASPID" 10 || log "warning: UAS ended with an error"; }

kam_start() {
	local i
	mkdir -p "$WORK/kam"
	bg "$NS" kam kamailio -f "$HERE/kamailio.cfg" -DD -E -m 32 -M 4 -n 1 \
		-Y "$WORK/kam" -w "$WORK/kam" -A "NEXT_HOP=\"$UAS:5060\"" -l "udp:$PX:5060"
	KAMPID=$BGPID
	for i in $(seq 1 50); do
		grep -q 'main_loop' "$WORK/kam.out" 2>/dev/null && break
		kill -0 "$KAMPID" 2>/dev/null || { cat "$WORK/kam.out" >&2; die "kamailio failed"; }
		sleep 0.1
	done
	sleep 0.5
}

run() {
	local i
	cleanup # a namespace left by an interrupted earlier run
	# 3 s of the sip-tester G.711 A-law stream, as testdata/gen/gen.sh plays
	editcap -r "$G711" "$WORK/g711a-3s.pcap" 1-100
	ip netns add "$NS"
	ip netns exec "$NS" ip link set lo up
	bg "$NS" capture tcpdump -n -U -s 0 -Z root -i lo -w "$WORK/kamailio.pcap" 'udp and (port 5060 or port 5070)'
	CAPPID=$BGPID
	for i in $(seq 1 50); do
		grep -qi 'listening on' "$WORK/capture.out" 2>/dev/null && break
		kill -0 "$CAPPID" 2>/dev/null || { cat "$WORK/capture.out" >&2; die "tcpdump failed"; }
		sleep 0.1
	done
	sleep 0.3
	kam_start
	# 1. answered call with RTP (UAS echoes it; RTP is not logged nor captured)
	uas uas_basic.xml -mi "$UAS" -mp 6000 -rtp_echo
	uac uac_basic.xml -s bob -mi "$UAC" -mp 6100
	uas_wait
	# 2. 486 Busy Here
	sed -e 's/@CODE@/486/' -e 's/@REASON@/Busy Here/' "$SCN/uas_reject.xml" >"$WORK/uas_reject_486.xml"
	uas "$WORK/uas_reject_486.xml"
	uac uac_reject.xml -s busy
	uas_wait
	# 3. CANCEL after 180 Ringing (487 for the INVITE)
	uas uas_cancel.xml
	uac uac_cancel.xml -s bob
	uas_wait
	sleep 0.5
	stop "$KAMPID"
	sleep 0.5
	stop "$CAPPID" INT
	cp "$WORK/kam.out" "$HERE/kamailio.log"
	cp "$WORK/kamailio.pcap" "$HERE/kamailio.pcap"
	chown "$(stat -c %u:%g "$HERE")" "$HERE/kamailio.log" "$HERE/kamailio.pcap"
	chmod 0644 "$HERE/kamailio.log" "$HERE/kamailio.pcap"
	cleanup
	log "wrote $HERE/kamailio.log ($(wc -l <"$HERE/kamailio.log") lines) and kamailio.pcap"
}

run
