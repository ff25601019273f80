#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
# tests/fleet/tcp-flow.sh HOST PORT: one TCP connection to an echo server,
# a numbered line every 0.5 s, each echo logged as "MS N" (milliseconds of
# the epoch); exits, logging "broken N WHY", when the connection fails or
# an echo takes longer than 120 s.  The failover test reads the log.
exec 3<>"/dev/tcp/$1/$2" || { echo "broken 0 connect"; exit 1; }
n=0
while :; do
	n=$((n + 1))
	printf '%s\n' "$n" >&3 || { echo "broken $n write"; exit 1; }
	if ! read -r -t 120 line <&3; then
		echo "broken $n read"
		exit 1
	fi
	[ "$line" = "$n" ] || { echo "broken $n echo '$line'"; exit 1; }
	t=${EPOCHREALTIME/./}
	echo "$((10#$t / 1000)) $n"
	sleep 0.5
done
