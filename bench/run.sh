#!/usr/bin/env bash
# bench/run.sh: throughput and memory of sipflow against the zero-copy read
# ceiling and tshark, on one generated SIP trunk capture, in one run.
#
#   bench/run.sh [-s SIZE] [-n RUNS] [FILE]
#
#   -s SIZE   size of the generated capture (default 1GB; 200MB for a quick run)
#   -n RUNS   runs of each fast command, the best is kept (default 3)
#   FILE      measure this capture instead of generating one
#
# Environment:
#   BENCH_EXTRA   more commands to measure, separated by ';'. Each is a
#                 command to which FILE is appended, optionally followed by
#                 ':: TSHARK ARGS' for the tshark command it is compared with:
#                   BENCH_EXTRA='sipflow rtp :: -q -z rtp,streams'
#   TSHARK_MAX    largest file tshark reads whole (default 2GB); above it tshark
#                 reads a TSHARK_MAX capture made with the same generator and
#                 seed (or, for a FILE given, that file's first packets)
#   SEED          generator seed (default 1)
#
# Everything is built into and written to bench/out/ (gitignored); the
# table is also written as markdown to bench/out/results.md.
# The page cache is not dropped: the file is read once before measuring,
# so every command sees a warm cache.
set -u

cd "$(dirname "$0")/.." || exit 1
OUT=bench/out
mkdir -p "$OUT/logs"

SIZE=1GB
RUNS=3
while getopts "s:n:h" opt; do
	case $opt in
	s) SIZE=$OPTARG ;;
	n) RUNS=$OPTARG ;;
	*) sed -n '2,24p' "$0"; exit 2 ;;
	esac
done
shift $((OPTIND - 1))
SEED=${SEED:-1}
TSHARK_MAX=${TSHARK_MAX:-2GB}

say() { printf '%s\n' "$*" >&2; }

# bytes SIZE: "1GB" -> 1000000000 (powers of 1000, as gencap reads them).
bytes() {
	awk -v s="$1" 'BEGIN {
		u = toupper(s); m = 1
		if (u ~ /GB?$/) m = 1e9; else if (u ~ /MB?$/) m = 1e6; else if (u ~ /KB?$/) m = 1e3
		sub(/[KMG]?B?$/, "", u); printf "%d\n", u * m }'
}

if [ ! -x /usr/bin/time ]; then
	say "installing GNU time for peak RSS"
	apt-get install -y time >/dev/null 2>&1 || { say "need /usr/bin/time (apt-get install time)"; exit 1; }
fi

LOAD=$(cut -d' ' -f1-3 /proc/loadavg)

# --- build -------------------------------------------------------------
say "building gencap, ceiling and sipflow into $OUT/"
go build -o "$OUT/gencap" ./bench/gencap || exit 1
go build -o "$OUT/ceiling" ./bench/ceiling || exit 1
SIPFLOW_OK=1
if ! go build -o "$OUT/sipflow" ./cmd/sipflow 2>"$OUT/logs/sipflow-build.err"; then
	SIPFLOW_OK=0
	say "sipflow does not build (see $OUT/logs/sipflow-build.err); its rows are skipped:"
	head -5 "$OUT/logs/sipflow-build.err" >&2
fi
HAVE_TSHARK=0
command -v tshark >/dev/null 2>&1 && HAVE_TSHARK=1
[ $HAVE_TSHARK = 1 ] || say "tshark not found: no tshark rows, no speedup column"

# --- the capture -----------------------------------------------------------
NOTES=()
if [ $# -ge 1 ]; then
	FILE=$1
	GENERATED=0
else
	if [ "$SIZE" = 1GB ]; then FILE=$OUT/trunk.pcap; else FILE=$OUT/trunk-$SIZE.pcap; fi
	GENERATED=1
	if [ ! -s "$FILE" ]; then
		say "generating $FILE ($SIZE, seed $SEED)"
		"$OUT/gencap" -o "$FILE" -size "$SIZE" -seed "$SEED" >&2 || exit 1
	fi
fi
[ -r "$FILE" ] || { say "cannot read $FILE"; exit 1; }
FSIZE=$(stat -c %s "$FILE")

# Warm the page cache, and count packets on the way.
say "warming the page cache with one read of $FILE"
WARM=$("$OUT/ceiling" "$FILE") || { say "ceiling failed on $FILE"; exit 1; }
PACKETS=$(printf '%s\n' "$WARM" | sed -n 's/.*packets=\([0-9]*\).*/\1/p')

# tshark reads the whole file unless it is larger than TSHARK_MAX: then a
# smaller capture of the same traffic (same generator and seed) or, for a
# file given on the command line, its first packets.
TFILE=$FILE
if [ $HAVE_TSHARK = 1 ] && [ "$FSIZE" -gt "$(bytes "$TSHARK_MAX")" ]; then
	if [ $GENERATED = 1 ]; then
		TFILE=$OUT/trunk-$TSHARK_MAX.pcap
		[ -s "$TFILE" ] || "$OUT/gencap" -o "$TFILE" -size "$TSHARK_MAX" -seed "$SEED" >&2 || exit 1
		NOTES+=("tshark read $TFILE ($TSHARK_MAX of the same traffic, seed $SEED), not the whole file: its ratio is per MB/s.")
	else
		TFILE=$OUT/prefix-$TSHARK_MAX.pcap
		K=$(awk -v p="$PACKETS" -v a="$(bytes "$TSHARK_MAX")" -v b="$FSIZE" 'BEGIN { printf "%d", p * a / b }')
		editcap -F pcap -r "$FILE" "$TFILE" "1-$K" || exit 1
		NOTES+=("tshark read the first $K packets of the file ($TFILE), not the whole file: its ratio is per MB/s.")
	fi
	"$OUT/ceiling" "$TFILE" >/dev/null
fi
TSIZE=$(stat -c %s "$TFILE")

# --- what to measure -----------------------------------------------------------
# Rows: label, command (file appended), file, runs, baseline label.
LABELS=() CMDS=() FILES=() NRUNS=() BASE=()
idx() { local l; for l in "${!LABELS[@]}"; do [ "${LABELS[$l]}" = "$1" ] && { echo "$l"; return; }; done; }
add() { LABELS+=("$1"); CMDS+=("$2"); FILES+=("$3"); NRUNS+=("$4"); BASE+=("$5"); }

add "ceiling (zero-copy read)" "$OUT/ceiling" "$FILE" "$RUNS" ""
pair() { # pair "sipflow calls" "-q -z sip,stat"
	local cmd=$1 targs=$2 tlabel=""
	if [ -n "$targs" ] && [ $HAVE_TSHARK = 1 ]; then
		tlabel="tshark $(printf '%s' "$targs" | sed 's/-q//; s/-z//; s/^ *//; s/  */ /g')"
	fi
	local bin=${cmd%% *} rest=""
	[ "$bin" != "$cmd" ] && rest=" ${cmd#* }"
	if [ "$bin" = sipflow ]; then
		if [ $SIPFLOW_OK = 1 ]; then add "$cmd" "$OUT/sipflow$rest" "$FILE" "$RUNS" "$tlabel"; else NOTES+=("$cmd: not measured, sipflow does not build."); fi
	else
		add "$cmd" "$cmd" "$FILE" "$RUNS" "$tlabel"
	fi
	# A tshark command shared by several rows is measured once.
	[ -n "$tlabel" ] && [ -z "$(idx "$tlabel")" ] && add "$tlabel" "tshark $targs -r" "$TFILE" 1 ""
}
pair "sipflow calls" "-q -z sip,stat"
IFS=';' read -r -a EXTRA <<<"${BENCH_EXTRA:-}"
for e in "${EXTRA[@]}"; do
	[ -z "${e// /}" ] && continue
	c=${e%%::*} t=""
	[ "$c" != "$e" ] && t=${e#*::}
	c=$(echo "$c" | sed 's/^ *//; s/ *$//') t=$(echo "$t" | sed 's/^ *//; s/ *$//')
	pair "$c" "$t"
done

# Targets: label -> "min % of ceiling, min speedup vs tshark, max RSS MB"
# ("-" where there is none).
declare -A TARGET=(
	["sipflow calls"]="50 20 200"
	["sipflow rtp"]="40 - 300"
)

# --- measure ---------------------------------------------------------------
# Rounds: each round runs every row once (tshark rows only in the first), so
# the load from other work on the machine falls on all rows alike; the best
# round of each row is kept. The wall time is taken around the command with
# nanosecond clocks (GNU time's %e has 10 ms steps); CPU time (user + system)
# and peak RSS come from GNU time.
SECS=() CPUS=() RSS=() STATUS=()
for i in "${!LABELS[@]}"; do SECS+=(""); CPUS+=(""); RSS+=(0); STATUS+=(ok); done
for ((r = 1; r <= RUNS; r++)); do
	for i in "${!LABELS[@]}"; do
		[ "$r" -gt "${NRUNS[$i]}" ] && continue
		[ "${STATUS[$i]}" = ok ] || continue
		label=${LABELS[$i]} f=${FILES[$i]}
		log=$OUT/logs/$(printf '%s' "$label" | tr -c 'a-zA-Z0-9' '_').err
		say "measuring: ${CMDS[$i]} $f (run $r/${NRUNS[$i]})"
		t0=$(date +%s%N)
		# shellcheck disable=SC2086 # CMDS holds a command line
		/usr/bin/time -f '%e %M %U %S' -o "$OUT/logs/time.txt" ${CMDS[$i]} "$f" >/dev/null 2>"$log"
		rc=$?
		t1=$(date +%s%N)
		if [ $rc -ne 0 ]; then
			STATUS[i]="failed (exit $rc, see $log)"
			say "  ${STATUS[$i]}:"
			tail -3 "$log" >&2
			continue
		fi
		s=$(awk -v a="$t0" -v b="$t1" 'BEGIN { printf "%.3f", (b - a) / 1e9 }')
		read -r _ m u y <"$OUT/logs/time.txt"
		c=$(awk -v u="$u" -v y="$y" 'BEGIN { printf "%.2f", u + y }')
		say "  ${s}s wall, ${c}s CPU, ${m} KB peak RSS"
		if [ -z "${SECS[$i]}" ] || awk -v a="$s" -v b="${SECS[$i]}" 'BEGIN { exit !(a < b) }'; then
			SECS[i]=$s CPUS[i]=$c
		fi
		[ "$m" -gt "${RSS[$i]}" ] && RSS[i]=$m
	done
done

# --- report ------------------------------------------------------------------
mbps() { awk -v b="$1" -v s="$2" 'BEGIN { if (s > 0) printf "%.1f", b / 1e6 / s }'; }

CEIL_MBPS=""
[ "${STATUS[0]}" = ok ] && CEIL_MBPS=$(mbps "$(stat -c %s "${FILES[0]}")" "${SECS[0]}")

ROWS=() VERDICTS=()
for i in "${!LABELS[@]}"; do
	label=${LABELS[$i]}
	if [ "${STATUS[$i]}" != ok ]; then
		ROWS+=("$label|${STATUS[$i]}|||||")
		continue
	fi
	size=$(stat -c %s "${FILES[$i]}")
	rate=$(mbps "$size" "${SECS[$i]}")
	ratio="" speed=""
	[ -n "$CEIL_MBPS" ] && ratio=$(awk -v a="$rate" -v c="$CEIL_MBPS" 'BEGIN { printf "%.0f%%", 100 * a / c }')
	b=${BASE[$i]}
	if [ -n "$b" ]; then
		j=$(idx "$b")
		if [ -n "$j" ] && [ "${STATUS[$j]}" = ok ]; then
			speed=$(awk -v a="$rate" -v t="$(mbps "$(stat -c %s "${FILES[$j]}")" "${SECS[$j]}")" 'BEGIN { printf "%.1fx", a / t }')
		fi
	fi
	rss=$(awk -v k="${RSS[$i]}" 'BEGIN { printf "%.0f", k / 1024 }')
	ROWS+=("$label|${SECS[$i]}|${CPUS[$i]}|$rate|$ratio|$speed|$rss")
	if [ -n "${TARGET[$label]:-}" ]; then
		read -r tr ts tm <<<"${TARGET[$label]}"
		v="$label:"
		ok=1
		r=${ratio%\%}
		if [ -n "$r" ]; then
			if [ "$r" -ge "$tr" ]; then v+=" ceiling ${r}% >= ${tr}% pass"; else v+=" ceiling ${r}% < ${tr}% FAIL"; ok=0; fi
			# CPU time is less disturbed by other work on the machine: say
			# what the ratio is by CPU time too, for information.
			cr=$(awk -v c="${CPUS[0]}" -v x="${CPUS[$i]}" 'BEGIN { if (c > 0 && x > 0) printf "%.0f", 100 * c / x }')
			[ -n "$cr" ] && v+=" (by CPU time: ${cr}%)"
			v+=";"
		fi
		if [ "$ts" != - ]; then
			if [ -z "$speed" ]; then v+=" speedup vs tshark not measured;"
			elif awk -v a="${speed%x}" -v t="$ts" 'BEGIN { exit !(a >= t) }'; then v+=" ${speed} vs tshark >= ${ts}x pass;"
			else v+=" ${speed} vs tshark < ${ts}x FAIL;"; ok=0; fi
		fi
		if [ "$rss" -lt "$tm" ]; then v+=" RSS ${rss} MB < ${tm} MB pass"; else v+=" RSS ${rss} MB >= ${tm} MB FAIL"; ok=0; fi
		[ $ok = 1 ] && v+=" => MET" || v+=" => NOT MET"
		VERDICTS+=("$v")
	fi
done

CPU=$(sed -n 's/^model name[[:space:]]*: //p' /proc/cpuinfo | head -1)
TSV=""
[ $HAVE_TSHARK = 1 ] && TSV=$(tshark --version 2>/dev/null | awk 'NR == 1 { print "tshark " $3 }')
{
	echo "# sipflow benchmark"
	echo
	echo "- date: $(date -u '+%Y-%m-%d %H:%M UTC')"
	echo "- machine: $(nproc) cores, ${CPU:-unknown CPU}; $(go version | awk '{ print $3 }')${TSV:+; $TSV}"
	origin=""
	[ $GENERATED = 1 ] && origin=" (bench/gencap, seed $SEED)"
	echo "- capture: \`$FILE\`, $FSIZE bytes, $PACKETS packets$origin"
	echo "- load average before the run: $LOAD (on $(nproc) cores; other work on the machine makes the figures noisy)"
	echo "- warm page cache; seconds is wall clock, CPU s is user + system of that run, best of $RUNS interleaved runs (tshark: one run); MB/s = file bytes / 10^6 / seconds"
	echo
	echo "| command | seconds | CPU s | MB/s | of ceiling | vs tshark | peak RSS MB |"
	echo "| --- | ---: | ---: | ---: | ---: | ---: | ---: |"
	for row in "${ROWS[@]}"; do echo "| ${row//|/ | } |"; done
	if [ ${#VERDICTS[@]} -gt 0 ]; then
		echo
		echo "Targets:"
		echo
		for v in "${VERDICTS[@]}"; do echo "- $v"; done
	fi
	if [ ${#NOTES[@]} -gt 0 ]; then
		echo
		for n in "${NOTES[@]}"; do echo "- note: $n"; done
	fi
} >"$OUT/results.md"

# Plain table on stdout.
echo
printf '%-28s %9s %7s %9s %11s %10s %12s\n' command seconds "CPU s" MB/s "of ceiling" "vs tshark" "peak RSS MB"
for row in "${ROWS[@]}"; do
	IFS='|' read -r a b c d e f g <<<"$row"
	printf '%-28s %9s %7s %9s %11s %10s %12s\n' "$a" "$b" "$c" "$d" "$e" "$f" "$g"
done
for v in "${VERDICTS[@]}"; do echo "target  $v"; done
for n in "${NOTES[@]}"; do echo "note: $n"; done
echo
echo "capture: $FILE ($FSIZE bytes, $PACKETS packets); markdown in $OUT/results.md"
