#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
# tests/fleet/connect-loop.sh DIR USER URL PIN: new connects, one after the
# other, until DIR/stop exists: a stock openconnect logs in and CONNECTs;
# the tunnel being up (its script called with reason=connect) is a success,
# then the client quits (SIGINT: it says goodbye).  Anything else within
# 30 s is a failure.  Each attempt appends "ok MS" or "fail MS REASON" to
# DIR/USER.results (MS: milliseconds it took).
dir=$1 user=$2 url=$3 pin=$4
now() { local t=${EPOCHREALTIME/./}; echo $((10#$t / 1000)); }
n=0
while [ ! -e "$dir/stop" ]; do
	n=$((n + 1))
	rm -f "$dir/$user.up"
	t0=$(now)
	openconnect --non-inter --passwd-on-stdin -u "$user" --servercert "$pin" \
		--reconnect-timeout 30 \
		--script "sh -c 'case \$reason in connect) touch $dir/$user.up ;; esac'" \
		"$url" <<<"$user-pass" >"$dir/$user.oc.$n.log" 2>&1 &
	pid=$!
	result=""
	while [ -z "$result" ]; do
		if [ -e "$dir/$user.up" ]; then
			result="ok"
		elif ! kill -0 "$pid" 2>/dev/null; then
			result="fail exited: $(tail -n 1 "$dir/$user.oc.$n.log")"
		elif [ $(($(now) - t0)) -gt 30000 ]; then
			result="fail no tunnel within 30 s"
		else
			sleep 0.05
		fi
	done
	kill -INT "$pid" 2>/dev/null
	wait "$pid" 2>/dev/null
	case $result in
	ok) echo "ok $(($(now) - t0))" && rm -f "$dir/$user.oc.$n.log" ;;
	*) echo "fail $(($(now) - t0)) $result" ;;
	esac >>"$dir/$user.results"
done
