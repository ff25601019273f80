#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-or-later
# A TUN device of the configured name that exists already (another
# instance, or one made beforehand for some user) is refused, never
# joined: joined, its other queues would get a share of the clients'
# traffic.  tunneld must exit with an error naming the device; once the
# device is gone it starts.
#
#   tunneld --x--> vpns0 (multi_queue, user nobody, made by "someone else")
set -euo pipefail
. "$(dirname "$0")/lib/lib.sh"
. "$(dirname "$0")/lib/td.sh"
lab_init tunex
lab_make_cert
td_users alice:alice-pass
td_config
lab_srv ip tuntap add vpns0 mode tun multi_queue user nobody
rc=0
lab_srv timeout 20 "$TD_BIN" -f -c "$LAB_DIR/tunneld.conf" >"$LAB_DIR/refused.log" 2>&1 || rc=$?
if [ $rc = 0 ] || [ $rc = 124 ]; then
	tail -n 20 "$LAB_DIR/refused.log" >&2
	td_fail "tunneld started on an existing TUN device (status $rc)"
fi
grep -q "TUN device vpns0 exists already" "$LAB_DIR/refused.log" || {
	cat "$LAB_DIR/refused.log" >&2
	td_fail "no error naming the device"
}
lab_srv ip link show vpns0 >/dev/null || td_fail "the existing device was removed"
td_pass "refused the existing vpns0 (status $rc): $(grep -m1 'TUN device vpns0' "$LAB_DIR/refused.log")"

lab_srv ip link del vpns0
td_start
td_pass "started once vpns0 was gone"
td_stop || td_fail "unclean stop"
