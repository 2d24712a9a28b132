#!/usr/bin/env bash
# Regenerates the SIP/RTP capture fixtures in testdata/captures/ with real
# programs (sipp, kamailio, tcpdump, dumpcap, tshark). Run as root:
#
#   sudo bash testdata/gen/gen.sh            # all captures
#   sudo bash testdata/gen/gen.sh basic tcp  # only some scenarios
#   OUT_DIR=/tmp/x sudo -E bash testdata/gen/gen.sh   # write elsewhere
#
# Scenarios: basic failures noanswer proxy tcp ipv6 frag sll2 sll2router
# pcapng. After them, the derived files (basic-call.pcap.gz, .zst,
# truncated.pcap) and every <capture>.tshark.txt reference are rewritten.
# See testdata/README.md for what each file shows.
#
# Traffic only flows inside network namespaces this script creates (prefix
# "sfg-") over veth pairs and a bridge, with addresses 10.99.0.0/24,
# 10.99.1.0/24, 10.99.2.0/24 and fd00:99::/64 that exist only there, or over a
# namespace's own loopback. Every wait is bounded; every background process is
# started by this script and stopped by its pid; namespaces are removed on exit.
set -euo pipefail

GEN_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
SCN="$GEN_DIR/scenarios"
OUT=${OUT_DIR:-$(cd "$GEN_DIR/.." && pwd)/captures}
WORK=$(mktemp -d /tmp/sipflow-gen.XXXXXX)
NSP=sfg
PIDS=()

log() { printf '[gen] %s\n' "$*" >&2; }
die() { log "ERROR: $*"; exit 1; }

[ "$(id -u)" = 0 ] || die "must run as root (network namespaces, capture)"
for t in sipp kamailio tcpdump dumpcap tshark capinfos editcap ip gzip; do
	command -v "$t" >/dev/null || die "missing tool: $t"
done
G711=/usr/share/sip-tester/g711a.pcap
DTMF=/usr/share/sip-tester/dtmf_2833_1.pcap
[ -r "$G711" ] && [ -r "$DTMF" ] || die "sip-tester pcaps not found ($G711)"
. "$(dirname "$0")/netns.sh" # bg, stop, waitpid_bounded, cleanup, nsx, capture_start/stop, run_ref
trap 'cleanup; [ -n "${KEEP_WORK:-}" ] || rm -rf "$WORK"' EXIT

# ---------------------------------------------------------------- topology

mkns() { # mkns NAME [v6]: new namespace, lo up, IPv6 off unless asked.
	ip netns add "$NSP-$1"
	nsx "$1" ip link set lo up
	if [ "${2:-}" = v6 ]; then
		nsx "$1" sysctl -qw net.ipv6.conf.all.accept_ra=0 net.ipv6.conf.default.accept_ra=0 \
			net.ipv6.conf.all.router_solicitations=0 net.ipv6.conf.default.router_solicitations=0 \
			net.ipv6.conf.default.addr_gen_mode=1
	else
		nsx "$1" sysctl -qw net.ipv6.conf.all.disable_ipv6=1 net.ipv6.conf.default.disable_ipv6=1
	fi
}

# lan [v6]: hosts uac (.1), uas (.2) and px (.3) on one bridge in namespace sw.
# Each host has eth0 (MTU 1500, fixed MAC) with 10.99.0.N/24 (and fd00:99::N/64).
lan() {
	local v6=${1:-} h n=0
	mkns sw "$v6"
	nsx sw ip link add br0 type bridge
	nsx sw ip link set br0 up
	for h in uac uas px; do
		n=$((n + 1))
		mkns "$h" "$v6"
		ip link add eth0 netns "$NSP-$h" address "02:99:00:00:00:0$n" mtu 1500 type veth \
			peer name "p-$h" netns "$NSP-sw"
		nsx sw ip link set "p-$h" master br0 up
		nsx "$h" ip addr add "10.99.0.$n/24" dev eth0
		[ "$v6" = v6 ] && nsx "$h" ip -6 addr add "fd00:99::$n/64" dev eth0 nodad
		nsx "$h" ip link set eth0 up
	done
	sleep 0.5
}

# routed: uac (10.99.1.1) -- px eth1 (10.99.1.254) / px eth2 (10.99.2.254) -- uas (10.99.2.2)
routed() {
	mkns uac; mkns uas; mkns px
	nsx px sysctl -qw net.ipv4.ip_forward=1
	ip link add eth0 netns "$NSP-uac" address 02:99:00:00:01:01 type veth \
		peer name eth1 netns "$NSP-px" address 02:99:00:00:01:fe
	ip link add eth0 netns "$NSP-uas" address 02:99:00:00:02:02 type veth \
		peer name eth2 netns "$NSP-px" address 02:99:00:00:02:fe
	nsx uac ip addr add 10.99.1.1/24 dev eth0
	nsx px ip addr add 10.99.1.254/24 dev eth1
	nsx px ip addr add 10.99.2.254/24 dev eth2
	nsx uas ip addr add 10.99.2.2/24 dev eth0
	nsx uac ip link set eth0 up
	nsx uas ip link set eth0 up
	nsx px ip link set eth1 up
	nsx px ip link set eth2 up
	nsx uac ip route add default via 10.99.1.254
	nsx uas ip route add default via 10.99.2.254
	sleep 0.5
}

# ---------------------------------------------------------------- capture
# capture_start NS FILE TOOL ARGS... and capture_stop: in netns.sh

# ---------------------------------------------------------------- sipp
# Common sipp options: one call, no stdin, bounded run time.
SIPP_COMMON=(-nostdin -m 1 -l 1 -timeout 30s -timeout_error)

uas() { # uas NS ADDR SCENARIO [extra sipp args]: start a sipp UAS in background.
	local ns=$1 addr=$2 scn=$3
	shift 3
	case $scn in /*) ;; *) scn=$SCN/$scn ;; esac
	bg "$NSP-$ns" "uas" sipp -sf "$scn" -i "$addr" -p 5060 "${SIPP_COMMON[@]}" "$@"
	UASPID=$BGPID
	sleep 0.5
}
uac() { # uac NS ADDR TARGET SCENARIO [extra]: run a sipp UAC in foreground (bounded).
	local ns=$1 addr=$2 target=$3 scn=$4 rc=0
	shift 4
	bg "$NSP-$ns" "uac" sipp "$target" -sf "$SCN/$scn" -i "$addr" -p 5070 "${SIPP_COMMON[@]}" "$@"
	waitpid_bounded "$BGPID" 40 || rc=$?
	[ "$rc" = 0 ] || { log "uac exit code $rc"; tail -n 30 "$WORK/uac.out" >&2; }
	return "$rc"
}

uas_wait() { # wait for the UAS to finish its call; an error there is reported, not fatal
	waitpid_bounded "$UASPID" 10 || log "warning: UAS ended with an error (sipp over TCP fails its call when the peer closes the connection during timewait)"
}

prepare_media() {
	# 3 s of the sip-tester G.711 A-law stream (frames 1-100 of 236 are ~3 s).
	editcap -r "$G711" "$WORK/g711a-3s.pcap" 1-100
}

TCPDUMP=(tcpdump -n -U -s 0 -Z root)

# ---------------------------------------------------------------- scenarios
scn_basic() { # 1. basic-call.pcap: UDP call with RTP both ways (UAS echoes RTP).
	lan
	capture_start uac "$OUT/basic-call.pcap" "${TCPDUMP[@]}" -i eth0
	uas uas 10.99.0.2 uas_basic.xml -mi 10.99.0.2 -mp 6000 -rtp_echo
	uac uac 10.99.0.1 10.99.0.2:5060 uac_basic.xml -s bob -mi 10.99.0.1 -mp 6100
	uas_wait
	capture_stop
	cleanup
}

scn_failures() { # 2. failures.pcap: 486, 404, 403, CANCEL/487, 401 + retry; one Call-ID each.
	lan
	capture_start uac "$OUT/failures.pcap" "${TCPDUMP[@]}" -i eth0
	local c
	for c in "486 Busy Here busy" "404 Not Found nobody" "403 Forbidden blocked"; do
		set -- $c
		local code=$1 user=${!#}
		local reason=${c#"$code "}
		reason=${reason%" $user"}
		sed -e "s/@CODE@/$code/" -e "s/@REASON@/$reason/" "$SCN/uas_reject.xml" >"$WORK/uas_reject_$code.xml"
		uas uas 10.99.0.2 "$WORK/uas_reject_$code.xml"
		uac uac 10.99.0.1 10.99.0.2:5060 uac_reject.xml -s "$user"
		uas_wait
	done
	uas uas 10.99.0.2 uas_cancel.xml
	uac uac 10.99.0.1 10.99.0.2:5060 uac_cancel.xml -s bob
	uas_wait
	uas uas 10.99.0.2 uas_auth.xml
	uac uac 10.99.0.1 10.99.0.2:5060 uac_auth.xml -s bob -au alice -ap secret
	uas_wait
	capture_stop
	cleanup
}

scn_noanswer() { # 3. no-answer.pcap: INVITE never answered, UAC retransmits (Timer A).
	lan
	capture_start uac "$OUT/no-answer.pcap" "${TCPDUMP[@]}" -i eth0
	uas uas 10.99.0.2 uas_silent.xml -timeout 15s
	# sipp retransmits the INVITE at 0, 0.5, 1.5, 3.5 and 7.5 s; -timeout ends it at 9 s.
	uac uac 10.99.0.1 10.99.0.2:5060 uac_reject.xml -s bob -timeout 9s -max_invite_retrans 10 ||
		log "(expected: the no-answer UAC ends on its timeout)"
	stop "$UASPID"
	capture_stop
	cleanup
}

# kamailio NS LOGNAME NEXT_HOP LISTEN...: start the proxy in background.
kamailio_start() {
	local ns=$1 name=$2 next=$3 i
	shift 3
	local args=() l
	for l in "$@"; do args+=(-l "$l"); done
	mkdir -p "$WORK/kam-$name"
	bg "$NSP-$ns" "kam-$name" kamailio -f "$GEN_DIR/kamailio.cfg" -DD -E -m 32 -M 4 -n 1 \
		-Y "$WORK/kam-$name" -w "$WORK/kam-$name" -A "NEXT_HOP=\"$next\"" "${args[@]}"
	KAMPID=$BGPID
	for i in $(seq 1 50); do
		grep -q 'main_loop' "$WORK/kam-$name.out" 2>/dev/null && break
		kill -0 "$KAMPID" 2>/dev/null || { cat "$WORK/kam-$name.out" >&2; die "kamailio failed"; }
		sleep 0.1
	done
	sleep 0.5
}

scn_proxy() { # 4. proxy-call.pcap: UAC -> kamailio -> UAS, captured on the proxy's interface.
	lan
	capture_start px "$OUT/proxy-call.pcap" "${TCPDUMP[@]}" -i eth0
	kamailio_start px proxy 10.99.0.2:5060 udp:10.99.0.3:5060
	uas uas 10.99.0.2 uas_basic.xml -mi 10.99.0.2 -mp 6000 -rtp_echo
	uac uac 10.99.0.1 10.99.0.3:5060 uac_basic.xml -s bob -mi 10.99.0.1 -mp 6100
	uas_wait
	stop "$KAMPID"
	capture_stop
	cleanup
}

scn_tcp() { # 5. tcp-call.pcap: basic call, SIP over TCP (sipp -t t1).
	lan
	capture_start uac "$OUT/tcp-call.pcap" "${TCPDUMP[@]}" -i eth0
	uas uas 10.99.0.2 uas_basic.xml -t t1 -mi 10.99.0.2 -mp 6000 -rtp_echo
	uac uac 10.99.0.1 10.99.0.2:5060 uac_basic.xml -t t1 -s bob -mi 10.99.0.1 -mp 6100
	uas_wait
	capture_stop
	cleanup
}

scn_ipv6() { # 6. ipv6-call.pcap: basic call over IPv6 (fd00:99::/64).
	lan v6
	capture_start uac "$OUT/ipv6-call.pcap" "${TCPDUMP[@]}" -i eth0
	uas uas fd00:99::2 uas_basic.xml -mi fd00:99::2 -mp 6000 -rtp_echo
	uac uac fd00:99::1 '[fd00:99::2]:5060' uac_basic.xml -s bob -mi fd00:99::1 -mp 6100
	uas_wait
	capture_stop
	cleanup
}

scn_frag() { # 7. fragmented.pcap: ~3 kB INVITE over UDP, MTU 1500 -> IP fragments.
	lan
	capture_start uac "$OUT/fragmented.pcap" "${TCPDUMP[@]}" -i eth0
	uas uas 10.99.0.2 uas_basic.xml -mi 10.99.0.2 -mp 6000
	uac uac 10.99.0.1 10.99.0.2:5060 uac_bigsdp.xml -s bob -mi 10.99.0.1 -mp 6100
	uas_wait
	capture_stop
	cleanup
}

scn_sll2() { # 8. any-sll2.pcap: short call on a namespace's loopback, tcpdump -i any.
	mkns lo
	capture_start lo "$OUT/any-sll2.pcap" "${TCPDUMP[@]}" -i any -y LINUX_SLL2
	uas lo 127.0.0.1 uas_basic.xml -mi 127.0.0.1 -mp 6000 -rtp_echo
	uac lo 127.0.0.1 127.0.0.1:5060 uac_basic.xml -s bob -mi 127.0.0.1 -mp 6100
	uas_wait
	capture_stop
	cleanup
}

scn_pcapng() { # 9. pcapng-call.pcapng: proxied call captured by dumpcap on the proxy's 2 interfaces.
	routed
	capture_start px "$OUT/pcapng-call.pcapng" dumpcap -q -i eth1 -i eth2
	kamailio_start px pcapng 10.99.2.2:5060 udp:10.99.1.254:5060 udp:10.99.2.254:5060
	uas uas 10.99.2.2 uas_basic.xml -mi 10.99.2.2 -mp 6000 -rtp_echo
	uac uac 10.99.1.1 10.99.1.254:5060 uac_basic.xml -s bob -mi 10.99.1.1 -mp 6100
	uas_wait
	stop "$KAMPID"
	capture_stop
	cleanup
}

scn_sll2router() { # 8b. any-sll2-router.pcap: tcpdump -i any on the routing proxy -> real duplicates.
	routed
	capture_start px "$OUT/any-sll2-router.pcap" "${TCPDUMP[@]}" -i any -y LINUX_SLL2
	kamailio_start px sll2router 10.99.2.2:5060 udp:10.99.1.254:5060 udp:10.99.2.254:5060
	uas uas 10.99.2.2 uas_basic.xml -mi 10.99.2.2 -mp 6000 -rtp_echo
	uac uac 10.99.1.1 10.99.1.254:5060 uac_basic.xml -s bob -mi 10.99.1.1 -mp 6100
	uas_wait
	stop "$KAMPID"
	capture_stop
	cleanup
}

# ---------------------------------------------------------------- derived files
TRUNC_RECORD=120 # truncated.pcap ends 30 bytes into the data of this record (1-based)
derive() {
	local src="$OUT/basic-call.pcap"
	[ -s "$src" ] || { log "no basic-call.pcap in $OUT: derived files not made (run the basic scenario)"; return 0; }
	gzip -9 -n -c "$src" >"$OUT/basic-call.pcap.gz"
	if command -v zstd >/dev/null; then
		zstd -q -f -19 "$src" -o "$OUT/basic-call.pcap.zst"
	else
		log "zstd not installed (apt-get install zstd): basic-call.pcap.zst not made"
	fi
	# pcap: 24-byte file header, then per record a 16-byte header + captured bytes.
	local start
	start=$(tshark -r "$src" -T fields -e frame.cap_len 2>/dev/null |
		awk -v k="$TRUNC_RECORD" 'BEGIN { off = 24 } NR < k { off += 16 + $1 } END { print off }')
	TRUNC_OFFSET=$((start + 16 + 30))
	TRUNC_NOTE="truncated.pcap = head -c $TRUNC_OFFSET basic-call.pcap: record $TRUNC_RECORD starts at byte offset $start (16-byte record header, then data); the cut leaves its header and the first 30 bytes of its data"
	head -c "$TRUNC_OFFSET" "$src" >"$OUT/truncated.pcap"
	log "$TRUNC_NOTE"
}

# ---------------------------------------------------------------- references
FIELDS=(-Y sip -T fields -e frame.number -e ip.src -e ipv6.src -e ip.dst -e ipv6.dst
	-e sip.Call-ID -e sip.CSeq -e sip.Method -e sip.Status-Code)


ref() { # ref NAME: write captures/NAME.tshark.txt (commands run inside captures/).
	local f=$1
	(
		cd "$OUT"
		printf '# Reference output for %s, written by testdata/gen/gen.sh.\n' "$f"
		printf '# %s; %s\n' "$(tshark --version 2>/dev/null | head -n 1)" "$(capinfos --version 2>/dev/null | head -n 1)"
		printf '# Each "$ command" line (run in testdata/captures/) is followed by its output.\n'
		[ "$f" = truncated.pcap ] && printf '# %s\n' "$TRUNC_NOTE"
		run_ref capinfos -t -E -c -I "$f"
		run_ref tshark -r "$f" "${FIELDS[@]}"
		run_ref tshark -r "$f" -q -z sip,stat
		if [ "$f" = fragmented.pcap ]; then
			run_ref tshark -r "$f" -2 -Y 'ip.flags.mf == 1 || ip.frag_offset > 0' -T fields \
				-e frame.number -e ip.id -e ip.frag_offset -e ip.flags.mf -e ip.len -e ip.reassembled_in
		fi
	) >"$OUT/$f.tshark.txt"
}

ALL=(basic failures noanswer proxy tcp ipv6 frag sll2 sll2router pcapng)

main() {
	local todo=("$@") s f
	[ ${#todo[@]} -gt 0 ] || todo=("${ALL[@]}")
	cleanup # namespaces left by an interrupted earlier run
	mkdir -p "$OUT"
	OUT=$(cd "$OUT" && pwd)
	prepare_media
	for s in "${todo[@]}"; do
		declare -F "scn_$s" >/dev/null || die "unknown scenario $s (known: ${ALL[*]})"
		log "scenario $s"
		scn_"$s"
	done
	derive
	for f in "$OUT"/*.pcap "$OUT"/*.pcapng "$OUT"/*.gz "$OUT"/*.zst; do
		[ -e "$f" ] || continue
		chown "$(stat -c %u:%g "$OUT")" "$f"
		chmod 0644 "$f"
		ref "$(basename "$f")"
	done
	du -ch "$OUT"/* | tail -n 1 >&2
}

if [ "${BASH_SOURCE[0]}" = "$0" ]; then
	main "$@"
fi
