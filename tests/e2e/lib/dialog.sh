# SPDX-License-Identifier: GPL-2.0-or-later
# shellcheck shell=bash
# tests/e2e/lib/dialog.sh - the stock client in login dialogues: run
# interactively under expect(1) (a pseudo-terminal, as a user types), and
# NetworkManager's two steps.  Source after lib.sh and td.sh.
#
#   dlg_expect NAME BODY [openconnect args...]
#       start openconnect in client NAME under expect, in the background;
#       BODY is Tcl run after the spawn (expect/send the prompts); after it
#       the client runs until it exits.  Transcript LAB_DIR/NAME.oc.log,
#       openconnect's exit status in LAB_DIR/NAME.rc (as lab_start_client).
#       No --passwd-on-stdin, no --non-inter: every answer is typed.
#   dlg_nm_auth NAME USER PASS [args...]
#       NetworkManager's first step: openconnect --authenticate; sets
#       DLG_COOKIE, DLG_HOST, DLG_FINGERPRINT; status of openconnect.
#       Answers come from PASS (stdin, one line each: "a\nb").
#   dlg_nm_connect NAME [args...]
#       the second step: --cookie-on-stdin with DLG_COOKIE, in the
#       background like lab_start_client.

dlg_expect() {
	local name=$1 body=$2 ns tun a
	shift 2
	ns=$(lab_ns "$name")
	tun="tun-$name"
	rm -f "$LAB_DIR/$name".{state,events,pid,rc,oc.log,script.log}
	{
		echo 'set timeout 30'
		echo 'log_user 1'
		printf 'spawn openconnect --servercert %s --script {%s} -i %s --reconnect-timeout %s' \
			"$LAB_PIN" "$LAB_SCRIPT" "$tun" "${LAB_OC_RECONNECT_TIMEOUT:-60}"
		for a in "$@"; do printf ' {%s}' "$a"; done
		printf ' {%s}\n' "$LAB_URL"
		echo "set f [open {$LAB_DIR/$name.pid.tmp} w]; puts \$f [exp_pid]; close \$f"
		echo "file rename {$LAB_DIR/$name.pid.tmp} {$LAB_DIR/$name.pid}"
		printf '%s\n' "$body"
		echo 'set timeout -1'
		echo 'expect eof'
		echo 'set r [wait]'
		echo "set f [open {$LAB_DIR/$name.rc.tmp} w]; puts \$f [lindex \$r 3]; close \$f"
		echo "file rename {$LAB_DIR/$name.rc.tmp} {$LAB_DIR/$name.rc}"
	} >"$LAB_DIR/$name.exp"
	lab_bg "$name" "$LAB_DIR/$name.oc.log" env LAB_DIR="$LAB_DIR" LAB_CLIENT="$name" \
		expect -f "$LAB_DIR/$name.exp" >/dev/null
	local deadline=$(($(lab__now_ms) + 10000))
	while [ ! -s "$LAB_DIR/$name.pid" ]; do
		[ "$(lab__now_ms)" -lt $deadline ] || { echo "dlg_expect: $name did not start" >&2; return 1; }
		sleep 0.05
	done
	lab__track "$(cat "$LAB_DIR/$name.pid")"
}

dlg_nm_auth() {
	local name=$1 user=$2 pass=$3 out rc=0
	shift 3
	out=$(printf '%b\n' "$pass" | ip netns exec "$(lab_ns "$name")" timeout 60 \
		openconnect --authenticate --non-inter --passwd-on-stdin -u "$user" \
		--servercert "$LAB_PIN" "$@" "$LAB_URL" 2>"$LAB_DIR/$name.auth.log") || rc=$?
	printf '%s\n' "$out" >"$LAB_DIR/$name.auth.out"
	DLG_COOKIE=$(sed -n "s/^COOKIE='\(.*\)'$/\1/p" <<<"$out")
	DLG_HOST=$(sed -n "s/^HOST='\(.*\)'$/\1/p" <<<"$out")
	DLG_FINGERPRINT=$(sed -n "s/^FINGERPRINT='\(.*\)'$/\1/p" <<<"$out")
	return $rc
}

dlg_nm_connect() {
	local name=$1 ns deadline
	shift
	ns=$(lab_ns "$name")
	rm -f "$LAB_DIR/$name".{state,events,pid,rc,oc.log,script.log}
	# What NetworkManager's openconnect service runs: the cookie on
	# stdin, the server pinned by the fingerprint the first step printed.
	(
		ip netns exec "$ns" env LAB_DIR="$LAB_DIR" LAB_CLIENT="$name" \
			openconnect --non-inter --cookie-on-stdin --servercert "$DLG_FINGERPRINT" \
			--script "$LAB_SCRIPT" -i "tun-$name" \
			--reconnect-timeout "${LAB_OC_RECONNECT_TIMEOUT:-60}" "$@" "$LAB_URL" \
			<<<"$DLG_COOKIE" >"$LAB_DIR/$name.oc.log" 2>&1 &
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
		[ "$(lab__now_ms)" -lt $deadline ] || { echo "dlg_nm_connect: $name did not start" >&2; return 1; }
		sleep 0.02
	done
	lab__track "$(cat "$LAB_DIR/$name.pid")"
}
