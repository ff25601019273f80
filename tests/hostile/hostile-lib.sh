# shellcheck shell=bash
# tests/hostile/hostile-lib.sh - shared by the hostile-client tests: sources
# the e2e lab (tests/e2e/lib/lib.sh, td.sh) and adds what these tests need.
# Source it from a bash test after "set -euo pipefail".
#
#   hl_init NAME            lab_init, cert, the hostile tool and tunnelctl
#                           checked (HL_TOOL, HL_CTL), jq needed.
#   hl_users USER:PASS...   like td_users, with cheap SHA-512 hashes (fast
#                           logins: the hashing processes are few).
#   hl_config KEY=VALUE...  td_config with extra settings: "limits.queue-bytes=65536"
#                           becomes limits = { queue-bytes = 65536; }; ...
#   hl CLIENT ARGS...       run the tool in CLIENT's namespace; its output goes
#                           to stdout and to LAB_DIR/hostile.log.
#   hl_bg CLIENT LOG ARGS...  the same in the background (LAB_BG_PID).
#   hl_ctl ARGS...          tunnelctl on the lab's control socket.
#   hl_addrs CLIENT A.B.C.D-E  add addresses D..E (/24) to CLIENT's eth0.
#   hl_rss                  kB of RSS of the master and its workers (from /proc).
#   hl_worker_rss           kB of RSS of the workers only.
#   hl_held [SRC_RE]        established TCP connections the server accepted on
#                           its port (ss in the server namespace), optionally
#                           only from addresses matching the extended regex.
#   hl_value KEY FILE       the value of KEY=... in the last line of FILE
#                           that has it.
#   hl_elapsed              seconds since hl_init, for the closing line.
#   hl_worker_fds           open fds of worker 0 (one per connection it holds).
#   hl_queue_check C Q ARGS a never-read flood (hostile flood ARGS --no-read) from
#                           C: the server queued at most Q bytes for it (below).
#   hl_log_wait_new RE T N  wait (T s) until more than N log lines match RE;
#                           echoes the milliseconds it took.

HL_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
# shellcheck source=../e2e/lib/lib.sh
. "$HL_DIR/../e2e/lib/lib.sh"
# shellcheck source=../e2e/lib/td.sh
. "$HL_DIR/../e2e/lib/td.sh"

HL_TOOL=${HL_TOOL:-$TD_TOP/tests/hostile/hostile}
HL_CTL=${HL_CTL:-$TD_TOP/tunnelctl}
HL_T0=0

hl_init() {
	lab_init "$1"
	lab_need jq
	HL_T0=$(lab__now_ms)
	[ -x "$HL_TOOL" ] || td_fail "$HL_TOOL not built (make check builds it)"
	[ -x "$HL_CTL" ] || td_fail "$HL_CTL not built"
	lab_make_cert
}

hl_users() {
	local up
	rm -f "$LAB_DIR/passwd"
	for up in "$@"; do
		printf '%s\n' "${up#*:}" |
			"$TD_PASSWD" -m sha512 -f "$LAB_DIR/passwd" "${up%%:*}" >/dev/null
	done
}

# Settings grouped by section into libconfig groups, appended to td.sh's
# config through TD_EXTRA (td.sh writes no limits or auth group of its own
# beyond auth.password-file, so auth settings are merged into it).
hl_config() {
	local kv sec key extra="" groups=() g body
	declare -A sect=()
	for kv in "$@"; do
		sec=${kv%%.*}
		key=${kv#*.}
		[ -n "${sect[$sec]+x}" ] || groups+=("$sec")
		sect[$sec]+="${key%%=*} = ${key#*=}; "
	done
	for g in "${groups[@]+"${groups[@]}"}"; do
		body=${sect[$g]}
		[ "$g" = auth ] && continue
		extra+="$g = { $body};"$'\n'
	done
	TD_EXTRA="$extra" td_config
	if [ -n "${sect[auth]+x}" ]; then
		sed -i "s|^auth = { password-file = \"$LAB_DIR/passwd\"; };|auth = { password-file = \"$LAB_DIR/passwd\"; ${sect[auth]}};|" \
			"$LAB_DIR/tunneld.conf"
		grep -qF "${sect[auth]}" "$LAB_DIR/tunneld.conf" ||
			td_fail "hl_config: could not add the auth settings"
	fi
}

hl() {
	local who=$1
	shift
	lab_cli "$who" "$HL_TOOL" "$@" 2>&1 | tee -a "$LAB_DIR/hostile.log"
	return "${PIPESTATUS[0]}"
}

hl_bg() {
	local who=$1 log=$2
	shift 2
	lab_bg "$who" "$log" "$HL_TOOL" "$@" >/dev/null
}

hl_ctl() { "$HL_CTL" -s "$LAB_DIR/control.sock" "$@"; }

hl_addrs() {
	local ns base first last i
	ns=$(lab_ns "$1")
	base=${2%.*}
	first=${2##*.}
	last=${first#*-}
	first=${first%-*}
	for ((i = first; i <= last; i++)); do
		ip -n "$ns" addr add "$base.$i/24" dev eth0
	done
}

hl__pids() {
	local p
	echo "$TD_PID"
	for p in $(hl_ctl --json status | jq -r '.workers[].pid'); do
		[ "$p" -gt 0 ] && echo "$p"
	done
}

hl__rss_of() {
	local p sum=0 kb
	for p in "$@"; do
		kb=$(awk '/^VmRSS:/ { print $2 }' "/proc/$p/status" 2>/dev/null) || kb=0
		sum=$((sum + ${kb:-0}))
	done
	echo "$sum"
}

# A sanitizer build (--enable-sanitizers): ASan keeps freed memory in its
# quarantine (up to 256 MB) to catch use after free, so RSS bounds say
# nothing there; the flows still run, under ASan's eyes.
hl_sanitized() {
	grep -q '^#define TUNNELD_SANITIZERS 1' "$TD_TOP/config.h" 2>/dev/null
}

hl_rss() {
	# shellcheck disable=SC2046
	hl__rss_of $(hl__pids)
}

hl_worker_rss() {
	# shellcheck disable=SC2046
	hl__rss_of $(hl_ctl --json status | jq -r '.workers[].pid')
}

hl_held() {
	local re=${1:-.*}
	# Connections still in the kernel's accept queue have no socket file
	# yet (ino:0): the server does not hold them.
	lab_srv ss -Htne state established "( sport = :$LAB_PORT )" 2>/dev/null |
		awk -v re="^($re):[0-9]+$" '$4 ~ re && $5 != "ino:0" { n++ } END { print n + 0 }'
}

hl_value() {
	grep -o "$1=[^ ]*" "$2" | tail -n 1 | cut -d= -f2
}

hl_elapsed() {
	echo $((($(lab__now_ms) - HL_T0) / 1000))
}

# Open file descriptors of the (single) worker: its fixed set plus one per
# connection it holds.  Exact, unlike ss, which also counts connections
# still waiting in the kernel's accept queue.
hl_worker_fds() {
	local pid
	pid=$(hl_ctl --json status | jq -r '.workers[0].pid')
	find "/proc/$pid/fd" -mindepth 1 -maxdepth 1 2>/dev/null | wc -l
}

# Wait until the server log has a line matching REGEX that was not there
# before (lines counted before the wait); echo the milliseconds it took.
hl_log_wait_new() {
	local re=$1 timeout=${2:-10} before=$3 t0 deadline
	t0=$(lab__now_ms)
	deadline=$((t0 + timeout * 1000))
	while [ "$(lab__now_ms)" -lt $deadline ]; do
		if [ "$(td_log_count "$re")" -gt "$before" ]; then
			echo $(($(lab__now_ms) - t0))
			return 0
		fi
		sleep 0.02
	done
	return 1
}

# hl_queue_check CLIENT QUEUE FLOOD-ARGS...: as user bob from CLIENT, flood
# a tunnel for 4 s without ever reading (hostile flood FLOOD-ARGS --no-read),
# and while the tool holds still, read what waits for it: the server's
# socket send queue and the client's receive queue (ss, both sides), and
# the worker's RSS.  Then the tool drains its socket: what it reads beyond
# the two kernel queues sat in the server's own queue, which must be
# filled (the flood was enough to hit the limit) but not beyond QUEUE
# bytes.  Sets HL_QC_SUMMARY and HL_QC_LOG; td_fail on a broken promise.
# HL_QC_WHILE_PAUSED (a command) runs while the tool holds still.
hl_queue_check() {
	local who=$1 queue=$2 log pid deadline sendq recvq rss0 rss1 drained inq obuf grow addr
	shift 2
	addr=$(ip -n "$(lab_ns "$who")" -4 -o addr show dev eth0 | awk '{ print $4; exit }')
	addr=${addr%/*}
	log=$LAB_DIR/qc.$(date +%s%N).log
	HL_QC_LOG=$log
	rss0=$(hl_worker_rss)
	hl_bg "$who" "$log" -u bob -p bob-pass -t 4 flood "$@" --no-read --rcvbuf 65536
	pid=$LAB_BG_PID
	deadline=$(($(lab__now_ms) + 30000))
	until grep -q '^flood: paused' "$log"; do
		lab_alive "$pid" || { cat "$log"; td_fail "the flood ended early"; }
		[ "$(lab__now_ms)" -lt $deadline ] || td_fail "the flood did not pause"
		sleep 0.1
	done
	sendq=$(lab_srv ss -Htn state established "( sport = :$LAB_PORT )" |
		awk -v a="$addr:" 'index($4, a) == 1 { s += $2 } END { print s + 0 }')
	recvq=$(lab_cli "$who" ss -Htn state established "( dport = :$LAB_PORT )" |
		awk '{ s += $1 } END { print s + 0 }')
	rss1=$(hl_worker_rss)
	if [ -n "${HL_QC_WHILE_PAUSED:-}" ]; then
		eval "$HL_QC_WHILE_PAUSED"
	fi
	kill -USR1 "$pid"
	# The tool drains; once the server's send queue is empty (or after
	# 25 s) a second signal lets it finish.
	deadline=$(($(lab__now_ms) + 25000))
	while [ "$(lab__now_ms)" -lt $deadline ] &&
		[ "$(lab_srv ss -Htn state established "( sport = :$LAB_PORT )" |
			awk -v a="$addr:" 'index($4, a) == 1 { s += $2 } END { print s + 0 }')" != 0 ]; do
		sleep 0.2
	done
	kill -USR1 "$pid"
	wait "$pid" || { cat "$log"; td_fail "the flood tool failed"; }
	cat "$log"
	drained=$(hl_value drained_bytes "$log")
	inq=$(hl_value recvq_at_drain "$log")
	obuf=$((drained - recvq - sendq))
	grow=$((rss1 - rss0))
	echo "never-read flood: server send queue $sendq B, client receive queue $recvq B" \
		"(tool: $inq B), drained $drained B => server queue $obuf B (limit $queue);" \
		"worker RSS $rss0 -> $rss1 kB"
	[ "$obuf" -le "$queue" ] || td_fail "$obuf bytes were queued by the server, limit $queue"
	[ "$obuf" -ge $((queue / 2)) ] ||
		td_fail "only $obuf bytes were queued by the server: the flood did not fill the queue"
	if hl_sanitized; then
		echo "sanitizer build: RSS bound not checked (ASan quarantine)"
	else
		[ "$grow" -le 2048 ] || td_fail "the worker's RSS grew by $grow kB during the flood"
	fi
	HL_QC_SUMMARY="server queue held $obuf B (limit $queue), kernel buffers $((sendq + recvq)) B, worker RSS +$grow kB"
}
