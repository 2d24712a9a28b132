#!/usr/bin/env bash
# Regenerates the RTP quality fixtures in testdata/media/ with real programs
# (sipp, tcpdump, nft, tshark). Run as root:
#
#   sudo bash testdata/media/gen.sh                # all captures
#   sudo bash testdata/media/gen.sh loss jitter    # only some of them
#   OUT_DIR=/tmp/x sudo -E bash testdata/media/gen.sh   # write elsewhere
#
# Scenarios: clean loss jitter oneway dtmf noaudio reinvite (each makes
# <name>.pcap). After them every <capture>.tshark.txt reference is rewritten.
# See testdata/media/README.md for what each file shows. Adapted from
# testdata/gen/gen.sh.
#
# Traffic only flows between two network namespaces this script creates
# (prefix "sfm-") over one veth pair, with addresses 10.98.0.1 and 10.98.0.2
# that exist only there. Every wait is bounded; every background process is
# started by this script and stopped by its pid; namespaces are removed on
# exit.
set -euo pipefail

MEDIA_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
SCN="$MEDIA_DIR/scenarios"
OUT=${OUT_DIR:-$MEDIA_DIR}
WORK=$(mktemp -d /tmp/sipflow-media.XXXXXX)
NSP=sfm
PIDS=()

log() { printf '[media] %s\n' "$*" >&2; }
die() { log "ERROR: $*"; exit 1; }

[ "$(id -u)" = 0 ] || die "must run as root (network namespaces, capture)"
for t in sipp tcpdump tshark capinfos editcap ip nft python3; do
	command -v "$t" >/dev/null || die "missing tool: $t (nft: apt-get install nftables)"
done
G711=/usr/share/sip-tester/g711a.pcap
[ -r "$G711" ] && [ -r /usr/share/sip-tester/dtmf_2833_1.pcap ] || die "sip-tester pcaps not found ($G711)"
. "$(dirname "$0")/../gen/netns.sh" # bg, stop, waitpid_bounded, cleanup, nsx, capture_start/stop, run_ref
trap 'cleanup; [ -n "${KEEP_WORK:-}" ] || rm -rf "$WORK"' EXIT

# ---------------------------------------------------------------- topology

mkns() { # mkns NAME: new namespace, lo up, IPv6 off.
	ip netns add "$NSP-$1"
	nsx "$1" ip link set lo up
	nsx "$1" sysctl -qw net.ipv6.conf.all.disable_ipv6=1 net.ipv6.conf.default.disable_ipv6=1
}

# pair: uac (eth0 10.98.0.1/24, MAC 02:98:00:00:00:01) <-veth-> uas (eth0
# 10.98.0.2/24, MAC 02:98:00:00:00:02), MTU 1500.
pair() {
	mkns uac
	mkns uas
	ip link add eth0 netns "$NSP-uac" address 02:98:00:00:00:01 mtu 1500 type veth \
		peer name eth0 netns "$NSP-uas" address 02:98:00:00:00:02 mtu 1500
	nsx uac ip addr add 10.98.0.1/24 dev eth0
	nsx uas ip addr add 10.98.0.2/24 dev eth0
	nsx uac ip link set eth0 up
	nsx uas ip link set eth0 up
	sleep 0.5
}

# ---------------------------------------------------------------- impairment
# The kernel here has no sch_netem ("tc qdisc add dev eth0 root netem ..." ->
# "Specified qdisc kind is unknown"), nor the tc gact action, so:
# * loss: an nftables rule on the UAS's eth0 egress hook (netdev family)
#   drops its RTP at random (numgen random mod 100 < PCT), i.e. on the far
#   side's egress, so the capture on the UAC's link sees the gaps. (An
#   "output" hook rule would make sendto() fail with EPERM, and sipp's
#   -rtp_echo stops echoing at the first such error; a drop at the device's
#   egress is silent for the sender, like a loss on the wire);
# * jitter: the UAS plays a copy of the audio whose pcap send times were
#   perturbed by pcapjitter.py (see there); sipp sends each packet at its
#   pcap time, so the jitter is on the wire.
nft_loss() { # nft_loss NS UDP_SPORT PCT
	local ns=$1 port=$2 pct=$3
	nsx "$ns" nft -f - <<-EOF
		table netdev sfm_loss {
			chain egress {
				type filter hook egress device eth0 priority 0; policy accept;
				udp sport $port numgen random mod 100 < $pct counter drop
			}
		}
	EOF
}

# ---------------------------------------------------------------- capture
CAPTURE=(tcpdump -n -U -s 0 -Z root -i eth0)
# capture_start NS FILE TOOL ARGS... and capture_stop: in ../gen/netns.sh

# ---------------------------------------------------------------- sipp
SIPP_COMMON=(-nostdin -m 1 -l 1 -timeout 30s -timeout_error)

uas() { # uas SCENARIO [extra sipp args]: start the sipp UAS (10.98.0.2:5060, media 6000).
	local scn=$1
	shift
	bg "$NSP-uas" uas sipp -sf "$SCN/$scn" -i 10.98.0.2 -p 5060 -mi 10.98.0.2 -mp 6000 \
		"${SIPP_COMMON[@]}" "$@"
	UASPID=$BGPID
	sleep 0.5
}
uac() { # uac SCENARIO [extra]: run the sipp UAC (10.98.0.1:5070, media 6100) in foreground (bounded).
	local scn=$1 rc=0
	shift
	bg "$NSP-uac" uac sipp 10.98.0.2:5060 -sf "$SCN/$scn" -s bob -i 10.98.0.1 -p 5070 \
		-mi 10.98.0.1 -mp 6100 "${SIPP_COMMON[@]}" "$@"
	waitpid_bounded "$BGPID" 40 || rc=$?
	[ "$rc" = 0 ] || { log "uac exit code $rc"; tail -n 30 "$WORK/uac.out" >&2; }
	return "$rc"
}
uas_wait() {
	waitpid_bounded "$UASPID" 10 || { log "UAS failed"; tail -n 30 "$WORK/uas.out" >&2; return 1; }
}

JITTER_ARGS=(40 20 3) # pcapjitter.py MEAN_MS SD_MS SEED: "delay 40ms 20ms distribution normal"
LOSS_PCT=5

prepare_media() {
	# Cuts of sip-tester's G.711 A-law stream (236 packets, 20 ms each, PT 8,
	# SSRC 0xDEE0EE8F, 160-byte payloads; its pcap times have ~30 ms spacing).
	editcap -F pcap -r "$G711" "$WORK/g711a-5s.pcap" 1-167
	editcap -F pcap -r "$G711" "$WORK/g711a-3s.pcap" 1-100
	editcap -F pcap -r "$G711" "$WORK/g711a-2500a.pcap" 1-84
	editcap -F pcap -r "$G711" "$WORK/g711a-2500b.pcap" 85-168
	python3 "$MEDIA_DIR/pcapjitter.py" "$WORK/g711a-5s.pcap" "$WORK/g711a-5s-jitter.pcap" "${JITTER_ARGS[@]}"
}

# ---------------------------------------------------------------- scenarios
# call OUTFILE UAS_SCENARIO "UAS ARGS" UAC_SCENARIO: one call captured on uac's eth0.
call() {
	local out=$1 uscn=$2 uargs=$3 cscn=$4
	capture_start uac "$OUT/$out" "${CAPTURE[@]}"
	# shellcheck disable=SC2086
	uas "$uscn" $uargs
	uac "$cscn"
	uas_wait
	capture_stop
}

scn_clean() { # clean.pcap: 5 s of PCMA both ways (UAS echoes), BYE.
	pair
	call clean.pcap uas_answer.xml -rtp_echo uac_audio.xml
	cleanup
}
scn_loss() { # loss.pcap: as clean, UAS->UAC RTP dropped at random (5%).
	pair
	nft_loss uas 6000 "$LOSS_PCT"
	call loss.pcap uas_answer.xml -rtp_echo uac_audio.xml
	nsx uas nft list table netdev sfm_loss >&2
	cleanup
}
scn_jitter() { # jitter.pcap: UAC plays clean audio, UAS plays the jittered copy.
	pair
	call jitter.pcap uas_play_jitter.xml "" uac_audio.xml
	cleanup
}
scn_oneway() { # oneway.pcap: UAC sends RTP, the UAS sends none.
	pair
	call oneway.pcap uas_answer.xml "" uac_audio.xml
	cleanup
}
scn_dtmf() { # dtmf.pcap: 3 s audio then RFC 2833 digits 1, 2, # (echoed).
	pair
	call dtmf.pcap uas_answer.xml -rtp_echo uac_dtmf.xml
	cleanup
}
scn_noaudio() { # noaudio.pcap: answered, no RTP at all, BYE after 3 s.
	pair
	call noaudio.pcap uas_answer.xml "" uac_silent.xml
	cleanup
}
scn_reinvite() { # reinvite.pcap: re-INVITE answered with a new UAS port; media moves.
	pair
	call reinvite.pcap uas_reinvite.xml -rtp_echo uac_reinvite.xml
	cleanup
}

# ---------------------------------------------------------------- references
SIPFIELDS=(-Y sip -T fields -e frame.number -e frame.time_relative -e ip.src -e ip.dst
	-e sip.Call-ID -e sip.CSeq -e sip.Method -e sip.Status-Code -e sdp.media)
RTPFIELDS=(-o rtp.heuristic_rtp:TRUE -Y rtp -T fields -e frame.number -e frame.time_relative
	-e ip.src -e udp.srcport -e ip.dst -e udp.dstport -e rtp.ssrc -e rtp.p_type -e rtp.seq
	-e rtp.timestamp -e rtp.marker)
EVFIELDS=(-o rtp.heuristic_rtp:TRUE -Y rtpevent -T fields -e frame.number -e frame.time_relative
	-e ip.src -e ip.dst -e rtp.ssrc -e rtp.seq -e rtp.timestamp -e rtp.marker
	-e rtpevent.event_id -e rtpevent.end_of_event -e rtpevent.volume -e rtpevent.duration)


ref() { # ref NAME: write NAME.tshark.txt (commands run inside testdata/media/).
	local f=$1
	(
		cd "$OUT"
		printf '# Reference output for %s, written by testdata/media/gen.sh.\n' "$f"
		printf '# %s; %s\n' "$(tshark --version 2>/dev/null | head -n 1)" "$(capinfos --version 2>/dev/null | head -n 1)"
		printf '# Each "$ command" line (run in testdata/media/) is followed by its output.\n'
		printf '# tshark 4.0 has no per-stream RTP analysis on the command line (-z help lists\n'
		printf '# only rtp,streams); the per-packet RTP fields below are given instead.\n'
		run_ref capinfos "$f"
		run_ref tshark -r "$f" -q -z rtp,streams
		run_ref tshark -r "$f" -o rtp.heuristic_rtp:TRUE -q -z rtp,streams
		run_ref tshark -r "$f" -q -z sip,stat
		run_ref tshark -r "$f" "${SIPFIELDS[@]}"
		run_ref tshark -r "$f" "${EVFIELDS[@]}"
		run_ref tshark -r "$f" "${RTPFIELDS[@]}"
	) >"$OUT/$f.tshark.txt"
}

ALL=(clean loss jitter oneway dtmf noaudio reinvite)

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
	for f in "$OUT"/*.pcap; do
		[ -e "$f" ] || continue
		chown "$(stat -c %u:%g "$OUT")" "$f"
		chmod 0644 "$f"
		ref "$(basename "$f")"
	done
	du -ch "$OUT"/*.pcap | tail -n 1 >&2
}

if [ "${BASH_SOURCE[0]}" = "$0" ]; then
	main "$@"
fi
