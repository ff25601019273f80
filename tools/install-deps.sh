#!/bin/sh
# Install everything tunneld needs to build, test and run its lab on
# Debian 12 (as root).  Only Debian's archive is used.
set -eu
PKGS="build-essential autoconf automake libtool pkg-config
  libgnutls28-dev libconfig-dev libsystemd-dev libseccomp-dev libmnl-dev libcrypt-dev check
  libnftables-dev
  gnutls-bin openssl iproute2 iputils-ping procps psmisc socat iperf3 openconnect ocserv
  clang-format systemd"
# Each part of the test suite that needs more lists it in tools/deps/*.list
# (one package per line, # comments).
for f in "$(dirname "$0")"/deps/*.list; do
	[ -f "$f" ] && PKGS="$PKGS $(sed 's/#.*//' "$f")"
done
missing=""
for p in $PKGS; do
	dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' ||
		missing="$missing $p"
done
if [ -n "$missing" ]; then
	if [ "$(id -u)" != 0 ]; then
		echo "install-deps: missing packages:$missing (run as root)" >&2
		exit 1
	fi
	export DEBIAN_FRONTEND=noninteractive
	apt-get update -qq
	# ocserv's package would start a system service where systemd runs;
	# the lab starts its own instance, so keep the packaged one off.
	printf '#!/bin/sh\nexit 101\n' >/usr/sbin/policy-rc.d
	chmod +x /usr/sbin/policy-rc.d
	apt-get install -y -qq --no-install-recommends $missing
	rm -f /usr/sbin/policy-rc.d
fi
