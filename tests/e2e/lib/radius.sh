# SPDX-License-Identifier: GPL-2.0-or-later
# shellcheck shell=bash
# tests/e2e/lib/radius.sh - Debian's FreeRADIUS in the lab of lib.sh, for the
# RADIUS tests.  Source after lib.sh and td.sh.  Functions prefixed rad_.
#
#   server ns (tunneld)                      lan ns (FreeRADIUS, radclient)
#   lan0 198.18.1.1  -- auth/acct (1812/1813) -->  eth0 198.18.1.2
#                    <-- Disconnect/CoA (3799) --
#
# FreeRADIUS runs as a plain process (freeradius -X: one thread, debug log)
# with its own raddb in $RAD_DIR (LAB_DIR/rad), never the system one:
# a users file (rad_start's argument), PAP, the sqlippool module on SQLite
# (pool "main": 198.18.100.100-149, inside tunneld's pool, keyed by
# Acct-Session-Id), a detail file of every Access-Request (auth-detail) and
# one of every Accounting-Request (detail): the records the tests check.
#
#   rad_start USERS         write the raddb (USERS: the users file), start
#                           FreeRADIUS in the lan ns, wait until it listens.
#                           RAD_AUTHORIZE: the authorize section's body in
#                           place of "auth_log files pap" (unlang);
#                           RAD_MODULES: more modules (e.g. "always").
#   rad_stop_server         SIGTERM it and wait (the lab kills it anyway).
#   rad_td_extra [KEYS]     the radius group for TD_EXTRA: servers (RAD_SERVER,
#                           198.18.1.2), secret file, nas-identifier (RAD_NAS_ID,
#                           "tunneld-lab"), coa-listen (RAD_COA), timeout
#                           RAD_TIMEOUT (3 s), one retry; KEYS are more lines
#                           for the group.
#   rad_records [FILE]      one line per record of the detail file (default:
#                           the accounting one): "| Attr = value | ..."
#   rad_acct_count TYPE SID records of Acct-Status-Type TYPE for that session.
#   rad_acct_attr TYPE SID ATTR  values of ATTR in those records, one a line.
#   rad_wait_acct TYPE SID N [T]  until at least N such records (T s, 20).
#   rad_auth_attr USER ATTR values of ATTR in the user's Access-Requests.
#   rad_sid_of USER         the Acct-Session-Id of the user's last Access-Request.
#   rad_client KIND ATTRS [SECRET]  radclient from the lan ns to the CoA port:
#                           KIND disconnect|coa; prints radclient's output.
# Variables: RAD_DIR, RAD_SECRET, RAD_PID, RAD_COA (198.18.1.1:3799), RAD_NAS
# (the NAS clients FreeRADIUS answers: 198.18.1.1, or a network such as
# 198.18.3.0/24 for the nodes of a fleet).

RAD_SECRET=${RAD_SECRET:-lab-Secret-4711}
RAD_COA=198.18.1.1:3799

rad__config() {
	local raddb=$RAD_DIR/raddb
	mkdir -p "$raddb/mods-config/sql/ippool/sqlite" "$RAD_DIR/log" "$RAD_DIR/acct" "$RAD_DIR/run"
	# Debian 12's shipped SQLite allocate_find lacks an AND before
	# expiry_time (a syntax error): the copy gets it back.
	sed 's/^\(\s*\)expiry_time < datetime/\1AND expiry_time < datetime/' \
		/etc/freeradius/3.0/mods-config/sql/ippool/sqlite/queries.conf \
		>"$raddb/mods-config/sql/ippool/sqlite/queries.conf"
	cat >"$raddb/radiusd.conf" <<EOF
prefix = /usr
exec_prefix = /usr
sysconfdir = /etc
localstatedir = $RAD_DIR
sbindir = /usr/sbin
logdir = $RAD_DIR/log
raddbdir = $raddb
radacctdir = $RAD_DIR/acct
name = freeradius
confdir = \${raddbdir}
modconfdir = \${confdir}/mods-config
run_dir = $RAD_DIR/run
db_dir = $RAD_DIR
libdir = /usr/lib/freeradius
pidfile = \${run_dir}/freeradius.pid
correct_escapes = true
max_request_time = 30
cleanup_delay = 5
max_requests = 16384
hostname_lookups = no
log {
	destination = files
	file = \${logdir}/radius.log
	auth = yes
}
security {
	allow_core_dumps = no
	max_attributes = 200
	reject_delay = 0
	status_server = yes
}
thread pool {
	start_servers = 2
	max_servers = 4
	min_spare_servers = 1
	max_spare_servers = 2
	max_requests_per_server = 0
}
client tunneld {
	ipaddr = ${RAD_NAS:-198.18.1.1}
	secret = $RAD_SECRET
	require_message_authenticator = no
	nas_type = other
}
modules {
	files {
		filename = $RAD_DIR/users
	}
	pap {
	}
	detail auth_log {
		filename = $RAD_DIR/acct/auth-detail
		permissions = 0600
		header = "%t"
		locking = no
	}
	detail {
		filename = $RAD_DIR/acct/detail
		permissions = 0600
		header = "%t"
		locking = no
	}
	sql {
		dialect = "sqlite"
		driver = "rlm_sql_sqlite"
		sqlite {
			filename = "$RAD_DIR/radius.db"
			busy_timeout = 2000
		}
		read_clients = no
		read_groups = no
		pool {
			start = 1
			min = 1
			max = 2
			spare = 1
			uses = 0
			retry_delay = 1
			lifetime = 0
			idle_timeout = 0
		}
	}
	sqlippool {
		sql_module_instance = "sql"
		dialect = "sqlite"
		pool_name = "Pool-Name"
		ippool_table = "radippool"
		lease_duration = 3600
		allocate_clear_timeout = 1
		attribute_name = Framed-IP-Address
		req_attribute_name = Framed-IP-Address
		pool_key = "%{Acct-Session-Id}"
		messages {
			exists = "Existing IP: %{reply:Framed-IP-Address} (key %{Acct-Session-Id})"
			success = "Allocated IP: %{reply:Framed-IP-Address} (key %{Acct-Session-Id})"
			clear = "Released IP %{request:Framed-IP-Address} (key %{Acct-Session-Id})"
			failed = "IP Allocation FAILED (key %{Acct-Session-Id})"
			nopool = "No Pool-Name defined (key %{Acct-Session-Id})"
		}
		\$INCLUDE \${modconfdir}/sql/ippool/\${dialect}/queries.conf
	}
${RAD_MODULES:-}
}
server default {
	listen {
		type = auth
		ipaddr = *
		port = 1812
	}
	listen {
		type = acct
		ipaddr = *
		port = 1813
	}
	authorize {
${RAD_AUTHORIZE:-		auth_log
		files
		pap}
	}
	authenticate {
		Auth-Type PAP {
			pap
		}
	}
	post-auth {
		sqlippool
	}
	# A session whose address came from the users file has no lease:
	# sqlippool's "notfound" must not cost the Accounting-Response.
	accounting {
		detail
		sqlippool {
			notfound = 1
		}
	}
}
EOF
}

# The pool: radippool (Debian's schema), 198.18.100.100-149.
rad__db() {
	local i
	{
		cat /etc/freeradius/3.0/mods-config/sql/ippool/sqlite/schema.sql
		echo "BEGIN;"
		for i in $(seq 100 149); do
			echo "INSERT INTO radippool (id, pool_name, framedipaddress, expiry_time)" \
				"VALUES ($i, 'main', '198.18.100.$i', datetime('now', '-1 hour'));"
		done
		echo "COMMIT;"
	} | sqlite3 "$RAD_DIR/radius.db"
}

rad_start() {
	lab_need freeradius radclient sqlite3
	RAD_DIR=$LAB_DIR/rad
	mkdir -p "$RAD_DIR"
	printf '%s\n' "$1" >"$RAD_DIR/users"
	printf '%s\n' "$RAD_SECRET" >"$RAD_DIR/secret"
	chmod 600 "$RAD_DIR/secret"
	rad__config
	rad__db
	RAD_PID=$(lab_bg lan "$RAD_DIR/freeradius.out" freeradius -X -d "$RAD_DIR/raddb")
	lab_wait_listen lan 1812 15 udp || {
		tail -n 30 "$RAD_DIR/freeradius.out" >&2
		echo "rad_start: FreeRADIUS did not start" >&2
		return 1
	}
	lab_wait_listen lan 1813 5 udp
}

rad_stop_server() {
	[ -n "${RAD_PID:-}" ] || return 0
	kill -TERM "$RAD_PID" 2>/dev/null || true
	local deadline=$(($(lab__now_ms) + 5000))
	while lab_alive "$RAD_PID" && [ "$(lab__now_ms)" -lt $deadline ]; do sleep 0.05; done
	RAD_PID=""
}

rad_td_extra() {
	cat <<EOF
radius = {
  auth-servers = ["${RAD_SERVER:-198.18.1.2}:1812"];
  secret-file = "$RAD_DIR/secret";
  nas-identifier = "${RAD_NAS_ID:-tunneld-lab}";
  timeout = ${RAD_TIMEOUT:-3};
  retries = 1;
  min-interim-interval = 1;
  stop-wait = 10;
  coa-listen = ["$RAD_COA"];
${1:-}
};
EOF
}

rad_records() {
	local f=${1:-$RAD_DIR/acct/detail}
	[ -f "$f" ] || return 0
	awk 'BEGIN { RS = "" } { gsub(/\n\t/, " | "); gsub(/\n/, ""); print $0 " |" }' "$f"
}

rad_acct_count() {
	rad_records | grep -F "| Acct-Status-Type = $1 |" |
		grep -cF "| Acct-Session-Id = \"$2\" |" || true
}

rad_acct_attr() {
	rad_records | grep -F "| Acct-Status-Type = $1 |" | grep -F "| Acct-Session-Id = \"$2\" |" |
		grep -o "| $3 = [^|]*" | sed "s/^| $3 = //; s/ *$//; s/^\"//; s/\"$//"
}

rad_wait_acct() {
	local deadline=$(($(lab__now_ms) + ${4:-20} * 1000))
	while [ "$(rad_acct_count "$1" "$2")" -lt "$3" ]; do
		[ "$(lab__now_ms)" -lt $deadline ] || return 1
		sleep 0.1
	done
}

rad_auth_attr() {
	rad_records "$RAD_DIR/acct/auth-detail" | grep -F "| User-Name = \"$1\" |" |
		grep -o "| $2 = [^|]*" | sed "s/^| $2 = //; s/ *$//; s/^\"//; s/\"$//"
}

rad_sid_of() {
	rad_auth_attr "$1" Acct-Session-Id | tail -n 1
}

rad_client() {
	local kind=$1 attrs=$2 secret=${3:-$RAD_SECRET}
	printf '%s\n' "$attrs" | lab_lan timeout 20 radclient -r 1 -t 2 -x "$RAD_COA" "$kind" "$secret" 2>&1
}
