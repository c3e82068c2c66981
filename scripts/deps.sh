#!/bin/sh
# Install every build and test dependency of Gatehouse from Debian 12 packages.
# Idempotent: does nothing when everything is already present.
set -eu

PKGS="build-essential pkg-config meson ninja-build
libssh-dev libssl-dev libsqlite3-dev sqlite3 libpq-dev libsodium-dev libpcre2-dev
libvterm-dev liboath-dev libqrencode-dev zlib1g-dev libjansson-dev
libcmocka-dev openssh-server openssh-client clang libclang-rt-14-dev
python3-pytest python3-pexpect python3-paramiko asciinema procps iproute2 hyperfine
rsync git rsyslog ssh-audit libseccomp-dev oathtool xauth
libldap-dev slapd ldap-utils libwebsockets-dev python3-requests python3-pytest-xdist
chromium chromium-driver python3-selenium python3-websocket
mariadb-server mariadb-client postgresql postgresql-client redis-server redis-tools
python3-pymysql python3-psycopg2 python3-redis haproxy libtelnet-dev
inetutils-telnetd busybox libdeflate-dev socat"

missing=""
for p in $PKGS; do
	if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed"; then
		missing="$missing $p"
	fi
done

# The web front end is built with npm (web/package-lock.json); Debian's npm
# when the machine has no Node.js of its own.
command -v npm >/dev/null 2>&1 || missing="$missing nodejs npm"

[ -z "$missing" ] && exit 0

echo "deps: installing:$missing" >&2
SUDO=""
[ "$(id -u)" -ne 0 ] && SUDO="sudo"
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -qq || true
# shellcheck disable=SC2086
$SUDO apt-get install -y -qq --no-install-recommends $missing
