# shellcheck shell=bash
# tests/e2e/lib/lib.sh - network-namespace lab for tunneld end-to-end tests and
# benchmarks.  Source it from a bash script (set -euo pipefail is fine), then
# call lab_init first.  Needs root; lab_init exits 77 (automake "skip") when
# not root or when a required tool is missing.
#
# Topology (P = short unique prefix: up to 4 letters of NAME + $$, e.g.
# "logi4242"):
#
#   client ns "${P}c1"        server ns "${P}s"                  lan ns "${P}l"
#  +------------------+     +------------------------------+    +-------------------+
#  | eth0             |     | br0 198.18.0.1/24            |    |                   |
#  | 198.18.0.10/24 --+-veth-+ vc0 (bridge port)           |    |                   |
#  | tun-c1 (VPN)     |     |                              |    |                   |
#  +------------------+     | lan0 198.18.1.1/24      -----+veth+ eth0              |
#  client ns "${P}c2"       |      fd00:1::1/64            |    |   198.18.1.2/24   |
#  | 198.18.0.11/24 --+-veth-+ vc1                         |    |   fd00:1::2/64    |
#         ...               | VPN server (tunneld/ocserv), |    | routes:           |
#                           | its tun devices, forwarding  |    | 198.18.100.0/24   |
#                           | on for IPv4 and IPv6         |    |   via 198.18.1.1  |
#                           +------------------------------+    | fd00:100::/64     |
#                                                               |   via fd00:1::1   |
#   VPN pools: 198.18.100.0/24, fd00:100::/64                   +-------------------+
#
# Client k (0-based, in order of lab_add_client) gets 198.18.0.(10+k).  Clients
# have no default route: the only way from a client to the lan is the VPN.
# Interfaces are created inside the namespaces, so their short names never
# collide between concurrent labs; namespace names carry the prefix.
#
# Contracts (all waits are bounded; nothing sends traffic outside the lab):
#   lab_init NAME            root check, prefix, LAB_DIR, cleanup trap, topology.
#   lab_need TOOL...         exit 77 unless every TOOL is in PATH.
#   lab_on_cleanup CMD...    run CMD (eval'd) at cleanup, before processes are
#                            killed.  Do not install your own EXIT trap.
#   lab_cleanup              kill every lab process, delete the namespaces,
#                            remove LAB_DIR unless LAB_KEEP=1.  Idempotent.
#   lab_ns WHO               namespace name: srv|lan|<client name>|<full ns>.
#   lab_add_client NAME      client ns "${P}NAME" on br0, tun "tun-NAME"
#                            (NAME: [a-z][a-z0-9]*, not "s"/"l"; "${P}NAME" at
#                            most 15 chars: names up to 4 chars always fit).
#   lab_make_cert            ECDSA P-256 (LAB_KEY_TYPE=rsa: RSA-2048, =ed25519: Ed25519 with
#                            certtool) self-signed cert: LAB_CERT, LAB_KEY,
#                            LAB_PIN (pin-sha256:... for --servercert).
#   lab_srv CMD... / lab_lan CMD... / lab_cli NAME CMD...   run in that ns.
#   lab_bg WHO LOGFILE CMD...   start CMD in background in ns WHO, stdout and
#                            stderr to LOGFILE, stdin /dev/null; tracked for
#                            cleanup; echoes the PID and sets LAB_BG_PID (call
#                            it outside $(...) to keep CMD a child you can wait).
#   lab_wait_listen WHO PORT [TIMEOUT=10] [tcp|udp]   wait for a listener.
#   lab_reflector LOAD SECS  start LOAD --reflect (bench/tunneld-load) on tun
#                            rfl0 in the lan for at most SECS, route
#                            198.18.2.0/24 from the server to it; sets
#                            LAB_REFLECT_PID, log LAB_DIR/reflect.log.
#   lab_alive PID            true while PID runs (and is not a zombie).
#   lab_srv_cpu              CPU seconds (user+system, "%.2f") used so far by
#                            the processes in the server ns.
#   lab_start_client NAME USER PASSWORD [openconnect args...]
#                            start openconnect in client NAME; returns at once.
#                            Log LAB_DIR/NAME.oc.log, PID in LAB_DIR/NAME.pid,
#                            exit code later in LAB_DIR/NAME.rc.
#   lab_wait_client NAME [TIMEOUT=20]   wait for connect/reconnect state with the
#                            address on the tun; else log tail, return 1.
#   lab_client_state NAME KEY    value of KEY in LAB_DIR/NAME.state.
#   lab_event_count NAME REASON  number of script calls with that reason.
#   lab_wait_event NAME REASON COUNT [TIMEOUT=20]  until count >= COUNT.
#   lab_client_signal NAME SIG   send SIG to the client's openconnect.
#   lab_client_exited NAME [TIMEOUT=10]  wait for exit, echo exit code.
#   lab_start_ocserv [WORKDIR]   Debian ocserv in the server ns (TLS only;
#                            LAB_OCSERV_DTLS=1: DTLS too), user alice /
#                            alice-pass; waits until it listens.
#   lab_ping_ok WHO ADDR [COUNT=3]  ping (v4/v6 by address), bounded; status.
#
# Variables set by the lib: LAB_P, LAB_DIR, LAB_NS_SRV, LAB_NS_LAN, LAB_SRV_IP
# (198.18.0.1), LAB_LAN_IP (198.18.1.2), LAB_LAN_IP6 (fd00:1::2), LAB_CERT,
# LAB_KEY, LAB_PIN, LAB_BG_PID, LAB_OCSERV_PID, LAB_OCSERV_DIR.
# Knobs (set before lab_init): LAB_PORT (4443), LAB_URL (https://IP:PORT/),
# LAB_SCRIPT (bash .../oc-script.sh), LAB_KEEP=1 (keep LAB_DIR),
# LAB_OC_RECONNECT_TIMEOUT (60), LAB_TERM_GRACE_MS (3000: TERM before KILL at
# cleanup), LAB_DEBUG=1, LAB_SCRIPT_ENVDUMP=1 (oc-script.sh saves each call's
# environment), LAB_OCSERV_ROUTES, LAB_OCSERV_PASSWD, LAB_OCSERV_POOL4,
# LAB_OCSERV_MAX_CLIENTS, LAB_OCSERV_EXTRA, LAB_OCSERV_DTLS (see lab_start_ocserv).

LAB_LIB_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
LAB_PORT=${LAB_PORT:-4443}
LAB_SRV_IP=198.18.0.1
LAB_LAN_IP=198.18.1.2
LAB_LAN_IP6=fd00:1::2
LAB_DIR=${LAB_DIR:-}
LAB_P=${LAB_P:-}
LAB_CLEANED=0
LAB_CLEANUP_HOOKS=()

# Milliseconds since the epoch, without a fork (bash >= 5).
lab__now_ms() {
	local t=${EPOCHREALTIME:-}
	t=${t//[!0-9]/}
	if [ -n "$t" ]; then echo $((10#$t / 1000)); else echo $(($(date +%s%N) / 1000000)); fi
}

lab_log() { printf '[lab %s] %s\n' "$(date +%T)" "$*" >&2; }

lab_need() {
	local t
	for t in "$@"; do
		if ! command -v "$t" >/dev/null 2>&1; then
			echo "SKIP: required tool '$t' not found" >&2
			exit 77
		fi
	done
}

# The start time of a process (in clock ticks since boot) tells a live PID
# from a recycled one.
lab__starttime() {
	local stat
	{ read -r stat <"/proc/$1/stat"; } 2>/dev/null || return 1
	stat=${stat##*) }
	# shellcheck disable=SC2086
	set -- $stat
	echo "${20}"
}

lab__track() {
	local st
	st=$(lab__starttime "$1") || st=0
	echo "$1 $st" >>"$LAB_DIR/pids"
}

lab_alive() {
	local s
	{ read -r s <"/proc/$1/stat"; } 2>/dev/null || return 1
	s=${s##*) }
	[ "${s%% *}" != Z ]
}

# lab_wait_gone PID SECONDS: wait until PID has exited (or SECONDS passed).
lab_wait_gone() {
	local deadline=$(($(lab__now_ms) + $2 * 1000))
	while lab_alive "$1" && [ "$(lab__now_ms)" -lt $deadline ]; do
		sleep 0.1
	done
}

lab_init() {
	local name=${1:-lab} short
	if [ "$(id -u)" != 0 ]; then
		echo "SKIP: end-to-end lab needs root" >&2
		exit 77
	fi
	lab_need ip ping ss mktemp timeout find awk
	short=$(printf '%s' "$name" | LC_ALL=C tr -cd '[:lower:]' | cut -c1-4)
	[ -n "$short" ] || short=lab
	LAB_P="$short$$"
	LAB_NS_SRV="${LAB_P}s"
	LAB_NS_LAN="${LAB_P}l"
	LAB_URL=${LAB_URL:-"https://$LAB_SRV_IP:$LAB_PORT/"}
	LAB_SCRIPT=${LAB_SCRIPT:-"bash $(printf '%q' "$LAB_LIB_DIR/oc-script.sh")"}
	LAB_DIR=$(mktemp -d "${TMPDIR:-/tmp}/lab-$LAB_P.XXXXXX")
	chmod 755 "$LAB_DIR"
	: >"$LAB_DIR/pids"
	: >"$LAB_DIR/netns"
	: >"$LAB_DIR/clients"
	LAB_CLEANED=0
	trap 'lab__exit_trap' EXIT
	trap 'exit 130' INT
	trap 'exit 143' TERM
	trap 'exit 129' HUP

	lab__netns_add "$LAB_NS_SRV"
	lab__netns_add "$LAB_NS_LAN"
	local S=(ip -n "$LAB_NS_SRV") L=(ip -n "$LAB_NS_LAN")
	# A bridge without an address of its own takes its ports' lowest, so
	# its MAC changed as clients were added, and a client whose ARP entry
	# still held the old one lost every datagram (its frames were for
	# another host).  Its own address never changes.
	"${S[@]}" link add br0 address 02:74:64:00:00:01 type bridge
	"${S[@]}" addr add "$LAB_SRV_IP/24" dev br0
	"${S[@]}" link set br0 up
	"${S[@]}" link add lan0 type veth peer name eth0 netns "$LAB_NS_LAN"
	"${S[@]}" addr add 198.18.1.1/24 dev lan0
	"${S[@]}" -6 addr add fd00:1::1/64 dev lan0 nodad
	"${S[@]}" link set lan0 up
	ip netns exec "$LAB_NS_SRV" sysctl -qw net.ipv4.ip_forward=1 \
		net.ipv6.conf.all.forwarding=1 >/dev/null
	"${L[@]}" addr add "$LAB_LAN_IP/24" dev eth0
	"${L[@]}" -6 addr add "$LAB_LAN_IP6/64" dev eth0 nodad
	"${L[@]}" link set eth0 up
	"${L[@]}" route add 198.18.100.0/24 via 198.18.1.1
	"${L[@]}" -6 route add fd00:100::/64 via fd00:1::1
	export LAB_P LAB_DIR LAB_NS_SRV LAB_NS_LAN LAB_PORT LAB_SRV_IP LAB_URL LAB_SCRIPT
}

lab__netns_add() {
	# A namespace with our exact name can only be left over from a dead
	# process that had our PID: remove it.
	if [ -e "/run/netns/$1" ]; then
		lab__kill_ns_pids "$1" KILL
		ip netns del "$1" 2>/dev/null || true
	fi
	ip netns add "$1"
	echo "$1" >>"$LAB_DIR/netns"
	ip -n "$1" link set lo up
}

lab_on_cleanup() { LAB_CLEANUP_HOOKS+=("$*"); }

lab__exit_trap() {
	local rc=$?
	lab_cleanup
	exit "$rc"
}

lab__kill_ns_pids() {
	local p
	for p in $(ip netns pids "$1" 2>/dev/null); do
		kill "-$2" "$p" 2>/dev/null || true
	done
}

lab__lab_pids() {
	# Tracked PIDs that still belong to the process we started, then every
	# process living in one of our namespaces (one scan of /proc for all).
	local pid st now stat files=() ns
	if [ -f "$LAB_DIR/pids" ]; then
		while read -r pid st; do
			{ read -r stat <"/proc/$pid/stat"; } 2>/dev/null || continue
			stat=${stat##*) }
			# shellcheck disable=SC2086
			now=$(set -- $stat && echo "${20}")
			[ "$now" = "$st" ] && echo "$pid"
		done <"$LAB_DIR/pids"
	fi
	if [ -f "$LAB_DIR/netns" ]; then
		while read -r ns; do
			[ -n "$ns" ] && [ -e "/run/netns/$ns" ] && files+=("/run/netns/$ns")
		done <"$LAB_DIR/netns"
	fi
	[ ${#files[@]} -gt 0 ] || return 0
	find /proc -mindepth 3 -maxdepth 3 -path '/proc/[0-9]*/ns/net' \
		-printf '%h %l\n' 2>/dev/null |
		awk -v want="$(stat -L -c 'net:[%i]' "${files[@]}" 2>/dev/null | tr '\n' ' ')" '
			BEGIN { n = split(want, w, " "); for (i = 1; i <= n; i++) ok[w[i]] = 1 }
			$2 in ok { split($1, a, "/"); print a[3] }' || true
}

lab_cleanup() {
	[ "${LAB_CLEANED:-0}" = 1 ] && return 0
	LAB_CLEANED=1
	[ -n "${LAB_DIR:-}" ] && [ -d "$LAB_DIR" ] || return 0
	set +e
	trap '' INT TERM HUP
	local h pids p ns deadline left
	for h in "${LAB_CLEANUP_HOOKS[@]+"${LAB_CLEANUP_HOOKS[@]}"}"; do
		eval "$h" >/dev/null 2>&1
	done
	# TERM first (clients say BYE, servers shut down), then KILL
	# whatever is left or was started meanwhile (e.g. a disconnect script).
	# LAB_TERM_GRACE_MS sets the grace time (default 3000).
	pids=$(lab__lab_pids | sort -u)
	for p in $pids; do kill -TERM "$p" 2>/dev/null; done
	deadline=$(($(lab__now_ms) + ${LAB_TERM_GRACE_MS:-3000}))
	while [ "$(lab__now_ms)" -lt $deadline ]; do
		left=0
		for p in $pids; do lab_alive "$p" && left=1 && break; done
		[ $left = 0 ] && break
		sleep 0.05
	done
	# Children first, so that a parent still alive can reap them (if it dies
	# first they become zombies until init gets to them), then the rest.
	local tracked gone=0
	tracked=" $(cut -d' ' -f1 "$LAB_DIR/pids" | tr '\n' ' ') "
	for p in $(lab__lab_pids | sort -u); do
		case $tracked in *" $p "*) continue ;; esac
		lab_alive "$p" && kill -KILL "$p" 2>/dev/null && gone=1
	done
	[ $gone = 0 ] || sleep 0.2
	for p in $(lab__lab_pids | sort -u); do
		if lab_alive "$p"; then
			[ "${LAB_DEBUG:-0}" = 1 ] &&
				lab_log "KILL $p $(tr '\0' ' ' </proc/"$p"/cmdline 2>/dev/null)"
			# Our own child: reap it here, quietly (bash would report
			# "Killed"); for other processes wait returns at once.
			{ kill -KILL "$p" && wait "$p"; } 2>/dev/null
		fi
	done
	# Reap the dead ones that are our own children (no-op for the others);
	# stderr off: bash would report "Killed" for them.
	if [ -f "$LAB_DIR/pids" ]; then
		while read -r p _; do
			lab_alive "$p" || wait "$p"
		done <"$LAB_DIR/pids" 2>/dev/null
	fi
	if [ -f "$LAB_DIR/netns" ]; then
		while read -r ns; do
			[ -n "$ns" ] || continue
			lab__kill_ns_pids "$ns" KILL
			ip netns del "$ns" 2>/dev/null
		done <"$LAB_DIR/netns"
	fi
	if [ "${LAB_KEEP:-0}" = 1 ]; then
		lab_log "kept $LAB_DIR"
	else
		rm -rf "$LAB_DIR"
	fi
	trap - INT TERM HUP
	set -e
	return 0
}

lab_ns() {
	case $1 in
	srv | server) echo "$LAB_NS_SRV" ;;
	lan) echo "$LAB_NS_LAN" ;;
	*)
		if grep -qxF "$1" "$LAB_DIR/netns" 2>/dev/null; then
			echo "$1"
		else
			echo "$LAB_P$1"
		fi
		;;
	esac
}

lab_srv() { ip netns exec "$LAB_NS_SRV" "$@"; }
lab_lan() { ip netns exec "$LAB_NS_LAN" "$@"; }
lab_cli() {
	local ns
	ns=$(lab_ns "$1")
	shift
	ip netns exec "$ns" "$@"
}

lab_add_client() {
	local name=$1 ns k
	# Starting with a letter keeps "<letters><pid><name>" unambiguous, so
	# two labs can never build the same namespace name.
	if ! [[ $name =~ ^[a-z][a-z0-9]{0,10}$ ]] || [ "$name" = s ] || [ "$name" = l ]; then
		echo "lab_add_client: bad client name '$name'" >&2
		return 1
	fi
	ns="$LAB_P$name"
	if [ ${#ns} -gt 15 ]; then
		echo "lab_add_client: namespace name '$ns' longer than 15 chars" >&2
		return 1
	fi
	if grep -qx "$name" "$LAB_DIR/clients"; then
		echo "lab_add_client: client '$name' exists" >&2
		return 1
	fi
	k=$(wc -l <"$LAB_DIR/clients")
	if [ "$k" -ge 200 ]; then
		echo "lab_add_client: at most 200 clients" >&2
		return 1
	fi
	lab__netns_add "$ns"
	echo "$name" >>"$LAB_DIR/clients"
	ip -n "$LAB_NS_SRV" link add "vc$k" type veth peer name eth0 netns "$ns"
	ip -n "$LAB_NS_SRV" link set "vc$k" master br0 up
	ip -n "$ns" addr add "198.18.0.$((10 + k))/24" dev eth0
	ip -n "$ns" link set eth0 up
}

lab_make_cert() {
	local tmpl="$LAB_DIR/cert.tmpl"
	LAB_CERT="$LAB_DIR/cert.pem"
	LAB_KEY="$LAB_DIR/key.pem"
	if command -v certtool >/dev/null 2>&1; then
		cat >"$tmpl" <<-EOF
			organization = "tunneld lab"
			cn = "$LAB_SRV_IP"
			ip_address = "$LAB_SRV_IP"
			dns_name = "tunneld-lab.invalid"
			serial = $(date +%s)
			expiration_days = 30
			signing_key
			tls_www_server
		EOF
		if [ "${LAB_KEY_TYPE:-ecdsa}" = rsa ]; then
			certtool --generate-privkey --key-type=rsa --bits=2048 \
				--no-text --outfile "$LAB_KEY" >/dev/null 2>&1
		elif [ "${LAB_KEY_TYPE:-ecdsa}" = ed25519 ]; then
			certtool --generate-privkey --key-type=ed25519 \
				--no-text --outfile "$LAB_KEY" >/dev/null 2>&1
		else
			certtool --generate-privkey --key-type=ecdsa --curve=secp256r1 \
				--no-text --outfile "$LAB_KEY" >/dev/null 2>&1
		fi
		certtool --generate-self-signed --load-privkey "$LAB_KEY" \
			--template "$tmpl" --no-text --outfile "$LAB_CERT" >/dev/null 2>&1
		LAB_PIN=$(certtool -i --infile "$LAB_CERT" |
			grep -o 'pin-sha256:[A-Za-z0-9+/=]*' | head -1)
	elif command -v openssl >/dev/null 2>&1; then
		openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 \
			-nodes -keyout "$LAB_KEY" -out "$LAB_CERT" -days 30 \
			-subj "/O=tunneld lab/CN=$LAB_SRV_IP" \
			-addext "subjectAltName=IP:$LAB_SRV_IP" >/dev/null 2>&1
		LAB_PIN="pin-sha256:$(openssl x509 -in "$LAB_CERT" -pubkey -noout |
			openssl pkey -pubin -outform der |
			openssl dgst -sha256 -binary | base64)"
	else
		echo "SKIP: neither certtool nor openssl found" >&2
		exit 77
	fi
	chmod 644 "$LAB_CERT" "$LAB_KEY"
	if [ ! -s "$LAB_CERT" ] || [ ! -s "$LAB_KEY" ] || [ -z "$LAB_PIN" ]; then
		echo "lab_make_cert: certificate generation failed" >&2
		return 1
	fi
	export LAB_CERT LAB_KEY LAB_PIN
}

lab_bg() {
	local ns log=$2 pid
	ns=$(lab_ns "$1")
	shift 2
	ip netns exec "$ns" "$@" >"$log" 2>&1 </dev/null &
	pid=$!
	LAB_BG_PID=$pid
	lab__track "$pid"
	echo "$pid"
}

lab_srv_cpu() {
	local tck total=0 p
	tck=$(getconf CLK_TCK)
	for p in $(ip netns pids "$LAB_NS_SRV"); do
		total=$((total + $(awk '{print $14 + $15}' "/proc/$p/stat" 2>/dev/null || echo 0)))
	done
	awk -v t="$total" -v c="$tck" 'BEGIN { printf "%.2f", t / c }'
}

lab_reflector() {
	local _
	lab_bg lan "$LAB_DIR/reflect.log" "$1" --reflect rfl0 --duration "$2" >/dev/null
	LAB_REFLECT_PID=$LAB_BG_PID
	for _ in $(seq 50); do
		grep -q 'reflect: rfl0 up' "$LAB_DIR/reflect.log" 2>/dev/null && break
		sleep 0.1
	done
	grep -q 'reflect: rfl0 up' "$LAB_DIR/reflect.log" 2>/dev/null || {
		echo "lab_reflector: not up: $(cat "$LAB_DIR/reflect.log")" >&2
		return 1
	}
	ip -n "$LAB_NS_LAN" route add 198.18.2.0/24 dev rfl0 &&
		ip netns exec "$LAB_NS_LAN" sysctl -qw net.ipv4.ip_forward=1 &&
		ip -n "$LAB_NS_SRV" route add 198.18.2.0/24 via "$LAB_LAN_IP"
}

lab_wait_listen() {
	local ns port=$2 timeout=${3:-10} proto=${4:-tcp} flag=-Hltn deadline
	ns=$(lab_ns "$1")
	[ "$proto" = udp ] && flag=-Hlun
	deadline=$(($(lab__now_ms) + timeout * 1000))
	while [ "$(lab__now_ms)" -lt $deadline ]; do
		if [ -n "$(ip netns exec "$ns" ss $flag "sport = :$port" 2>/dev/null)" ]; then
			return 0
		fi
		sleep 0.1
	done
	echo "lab_wait_listen: nothing listens on $proto/$port in $ns after ${timeout}s" >&2
	return 1
}

lab_start_client() {
	local name=$1 user=$2 pass=$3 ns tun deadline
	shift 3
	ns=$(lab_ns "$name")
	tun="tun-$name"
	rm -f "$LAB_DIR/$name".{state,events,pid,rc,oc.log,script.log}
	(
		ip netns exec "$ns" env LAB_DIR="$LAB_DIR" LAB_CLIENT="$name" \
			openconnect --non-inter --passwd-on-stdin -u "$user" \
			--servercert "$LAB_PIN" --script "$LAB_SCRIPT" -i "$tun" \
			--reconnect-timeout "${LAB_OC_RECONNECT_TIMEOUT:-60}" \
			"$@" "$LAB_URL" <<<"$pass" >"$LAB_DIR/$name.oc.log" 2>&1 &
		ocpid=$!
		echo "$ocpid" >"$LAB_DIR/$name.pid.tmp"
		mv "$LAB_DIR/$name.pid.tmp" "$LAB_DIR/$name.pid"
		wait "$ocpid" && rc=0 || rc=$?
		echo "$rc" >"$LAB_DIR/$name.rc.tmp"
		mv "$LAB_DIR/$name.rc.tmp" "$LAB_DIR/$name.rc"
	) &
	lab__track "$!"
	deadline=$(($(lab__now_ms) + 5000))
	while [ ! -s "$LAB_DIR/$name.pid" ]; do
		if [ "$(lab__now_ms)" -ge $deadline ]; then
			echo "lab_start_client: $name did not start" >&2
			return 1
		fi
		sleep 0.02
	done
	lab__track "$(cat "$LAB_DIR/$name.pid")"
}

lab_client_pid() { cat "$LAB_DIR/$1.pid"; }

lab_client_state() {
	local f="$LAB_DIR/$1.state"
	[ -f "$f" ] || return 1
	sed -n "s/^$2=//p" "$f"
}

lab_event_count() {
	local f="$LAB_DIR/$1.events"
	[ -f "$f" ] || { echo 0; return 0; }
	awk -v r="$2" '$1 == r { n++ } END { print n + 0 }' "$f"
}

lab__client_tail() {
	{
		echo "---- $1: openconnect log (tail) ----"
		tail -n "${2:-25}" "$LAB_DIR/$1.oc.log" 2>/dev/null
		if [ -s "$LAB_DIR/$1.script.log" ]; then
			echo "---- $1: oc-script log (tail) ----"
			tail -n 10 "$LAB_DIR/$1.script.log"
		fi
		echo "----"
	} >&2
}

# Connected: the script reported success for connect/reconnect and the tun
# carries the IPv4 address from the state file.
lab__client_up() {
	local name=$1 reason status ip4 ip6 tun
	reason=$(lab_client_state "$name" reason 2>/dev/null) || return 1
	status=$(lab_client_state "$name" status)
	case $reason in connect | reconnect) ;; *) return 1 ;; esac
	[ "$status" = ok ] || return 1
	ip4=$(lab_client_state "$name" ip4)
	ip6=$(lab_client_state "$name" ip6)
	tun=$(lab_client_state "$name" tundev)
	[ -n "$ip4$ip6" ] || return 1
	if [ -n "$ip4" ]; then
		ip -n "$(lab_ns "$name")" -4 addr show dev "$tun" 2>/dev/null |
			grep -q "inet $ip4/" || return 1
	fi
	if [ -n "$ip6" ]; then
		ip -n "$(lab_ns "$name")" -6 addr show dev "$tun" 2>/dev/null |
			grep -q "inet6 $ip6/" || return 1
	fi
	return 0
}

lab_wait_client() {
	local name=$1 timeout=${2:-20} deadline
	deadline=$(($(lab__now_ms) + timeout * 1000))
	while [ "$(lab__now_ms)" -lt $deadline ]; do
		lab__client_up "$name" && return 0
		if [ -f "$LAB_DIR/$name.rc" ]; then
			echo "lab_wait_client: $name: openconnect exited with $(cat "$LAB_DIR/$name.rc")" >&2
			lab__client_tail "$name"
			return 1
		fi
		sleep 0.1
	done
	echo "lab_wait_client: $name not connected after ${timeout}s" >&2
	lab__client_tail "$name"
	return 1
}

lab_wait_event() {
	local name=$1 reason=$2 count=$3 timeout=${4:-20} deadline
	deadline=$(($(lab__now_ms) + timeout * 1000))
	while [ "$(lab__now_ms)" -lt $deadline ]; do
		[ "$(lab_event_count "$name" "$reason")" -ge "$count" ] && return 0
		sleep 0.1
	done
	echo "lab_wait_event: $name: fewer than $count '$reason' events after ${timeout}s" >&2
	lab__client_tail "$name"
	return 1
}

lab_client_signal() {
	local pid
	pid=$(lab_client_pid "$1") || return 1
	kill "-$2" "$pid"
}

lab_client_exited() {
	local name=$1 timeout=${2:-10} deadline
	deadline=$(($(lab__now_ms) + timeout * 1000))
	while [ "$(lab__now_ms)" -lt $deadline ]; do
		if [ -s "$LAB_DIR/$name.rc" ]; then
			cat "$LAB_DIR/$name.rc"
			return 0
		fi
		sleep 0.1
	done
	echo "lab_client_exited: $name still running after ${timeout}s" >&2
	return 1
}

lab_ping_ok() {
	local ns addr=$2 count=${3:-3} fam=-4
	ns=$(lab_ns "$1")
	case $addr in *:*) fam=-6 ;; esac
	ip netns exec "$ns" timeout $((count + 5)) \
		ping "$fam" -n -q -c "$count" -i 0.2 -W 2 "$addr" >/dev/null 2>&1
}

# Debian's ocserv, TLS only (no udp-port: the client must not wait for DTLS).
# LAB_OCSERV_DTLS=1 adds DTLS on UDP LAB_PORT as ocserv 1.1.6 offers it to
# openconnect (PSK-NEGOTIATE, legacy mode kept for other clients, back to
# TCP after 25 s without UDP) and waits for the UDP listener too.
# User alice / alice-pass, or the users of LAB_OCSERV_PASSWD (an ocpasswd
# file).  LAB_OCSERV_ROUTES (default "198.18.1.0/255.255.255.0 fd00:1::/64";
# empty: no split routes, so clients route everything into the tunnel),
# LAB_OCSERV_POOL4 (198.18.100.0/24), LAB_OCSERV_MAX_CLIENTS (16) and
# LAB_OCSERV_EXTRA (config lines added at the end) adjust the config.  Sets
# LAB_OCSERV_PID and LAB_OCSERV_DIR.
lab_start_ocserv() {
	local wd=${1:-$LAB_DIR/ocserv} passwd=${LAB_OCSERV_PASSWD:-}
	lab_need ocserv
	[ -n "${LAB_CERT:-}" ] || lab_make_cert
	mkdir -p "$wd"
	chmod 755 "$wd"
	if [ -z "$passwd" ]; then
		lab_need ocpasswd
		passwd=$wd/passwd
		printf 'alice-pass\nalice-pass\n' | ocpasswd -c "$passwd" alice >/dev/null
	fi
	cat >"$wd/ocserv.conf" <<-EOF
		auth = "plain[passwd=$passwd]"
		tcp-port = $LAB_PORT
		server-cert = $LAB_CERT
		server-key = $LAB_KEY
		socket-file = $wd/ocserv.sock
		pid-file = $wd/ocserv.pid
		use-occtl = true
		occtl-socket-file = $wd/occtl.sock
		isolate-workers = false
		max-clients = ${LAB_OCSERV_MAX_CLIENTS:-16}
		max-same-clients = 0
		rate-limit-ms = 0
		max-ban-score = 0
		keepalive = 32400
		dpd = 90
		mobile-dpd = 1800
		try-mtu-discovery = false
		cookie-timeout = 300
		deny-roaming = false
		auth-timeout = 240
		tls-priorities = "NORMAL:%SERVER_PRECEDENCE:%COMPAT:-VERS-SSL3.0:-VERS-TLS1.0:-VERS-TLS1.1"
		device = vpns
		predictable-ips = true
		mtu = 1400
		ipv4-network = ${LAB_OCSERV_POOL4:-198.18.100.0/24}
		ipv6-network = fd00:100::/64
		log-level = 1
	EOF
	local r
	for r in ${LAB_OCSERV_ROUTES-198.18.1.0/255.255.255.0 fd00:1::/64}; do
		echo "route = $r" >>"$wd/ocserv.conf"
	done
	if [ "${LAB_OCSERV_DTLS:-0}" = 1 ]; then
		cat >>"$wd/ocserv.conf" <<-EOF
			udp-port = $LAB_PORT
			dtls-psk = true
			dtls-legacy = true
			switch-to-tcp-timeout = 25
		EOF
	fi
	[ -z "${LAB_OCSERV_EXTRA:-}" ] || printf '%s\n' "$LAB_OCSERV_EXTRA" >>"$wd/ocserv.conf"
	LAB_OCSERV_DIR=$wd
	# Not in $(...): ocserv stays our child, so lab_cleanup can reap it.
	lab_bg srv "$wd/ocserv.log" ocserv -f -c "$wd/ocserv.conf" >/dev/null
	LAB_OCSERV_PID=$LAB_BG_PID
	if ! lab_wait_listen srv "$LAB_PORT" 10 ||
		{ [ "${LAB_OCSERV_DTLS:-0}" = 1 ] && ! lab_wait_listen srv "$LAB_PORT" 10 udp; }; then
		tail -n 20 "$wd/ocserv.log" >&2
		return 1
	fi
	export LAB_OCSERV_PID LAB_OCSERV_DIR
}
