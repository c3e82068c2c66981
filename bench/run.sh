#!/bin/sh
# Run every benchmark against the binaries in BUILD_DIR (default: build).
#   ./bench/run.sh [BUILD_DIR] [ssh_bench.py options...]
# e.g. ./bench/run.sh build --size 256M --json bench.json
# Environment (each adds options to one script, e.g. make bench BENCH_ARGS=...):
#   BENCH_ARGS        ssh_bench.py     (throughput, echo, login)
#   SFTP_BENCH_ARGS   sftp_bench.py    (sftp upload/download, ProxyJump)
#   CONC_BENCH_ARGS   concurrency.py   (N concurrent sessions: memory, latency)
#   SOAK_BENCH_ARGS   soak.py          (open/close loop: leaks)
#   HOSTILE_BENCH_ARGS hostile_bench.py (failed-login flood: legitimate login time)
#   JUMP_BENCH_ARGS   jump_throughput.py (recorded ProxyJump against OpenSSH -J)
#   WEB_BENCH_ARGS    web_bench.py     (REST asset list latency, web logins/s)
#   WEBTERM_BENCH_ARGS webterm_bench.py (web terminal vs SSH echo latency, cat throughput)
#   DB_BENCH_ARGS     db_bench.py      (pgbench -S and COPY through the database gateway)
#   STORE_BENCH_ARGS  store_bench.py   (events/s, logins/s: SQLite vs PostgreSQL)
#   ROUTE_BENCH_ARGS  route_bench.py   (an asset through a gateway against the same asset direct)
#   BENCH_ONLY        a space separated subset of: audit ssh sftp concurrency soak hostile jump web webterm
#                     db store route
set -eu

BUILD_DIR=${1:-build}
[ $# -gt 0 ] && shift
HERE=$(cd "$(dirname "$0")" && pwd)
PY=/usr/bin/python3
ONLY=${BENCH_ONLY:-audit ssh sftp concurrency soak hostile jump web webterm db store route}
STATUS=0

want() { case " $ONLY " in *" $1 "*) return 0 ;; esac; return 1; }

if [ -x "$BUILD_DIR/policy_bench" ]; then
	echo "== policy_bench"
	"$BUILD_DIR/policy_bench"
else
	echo "== policy_bench: not built in $BUILD_DIR, skipped"
fi

if want audit && [ -x "$BUILD_DIR/audit_bench" ]; then
	echo "== audit_bench (1,000,000 events; AUDIT_BENCH_ARGS adds options)"
	# shellcheck disable=SC2086
	"$BUILD_DIR/audit_bench" ${AUDIT_BENCH_ARGS:-} || STATUS=1
fi

# Each script needs root (it starts sshd on loopback) and cleans up after itself.
# shellcheck disable=SC2086
if want ssh; then
	echo "== ssh_bench"
	"$PY" "$HERE/ssh_bench.py" --gatehouse "$BUILD_DIR/gatehouse" ${BENCH_ARGS:-} "$@" || STATUS=1
fi
# shellcheck disable=SC2086
if want sftp; then
	echo "== sftp_bench"
	"$PY" "$HERE/sftp_bench.py" --gatehouse "$BUILD_DIR/gatehouse" ${SFTP_BENCH_ARGS:-} || STATUS=1
fi
# shellcheck disable=SC2086
if want concurrency; then
	echo "== concurrency"
	"$PY" "$HERE/concurrency.py" --gatehouse "$BUILD_DIR/gatehouse" ${CONC_BENCH_ARGS:-} || STATUS=1
fi
# shellcheck disable=SC2086
if want soak; then
	echo "== soak"
	"$PY" "$HERE/soak.py" --gatehouse "$BUILD_DIR/gatehouse" ${SOAK_BENCH_ARGS:-} || STATUS=1
fi
# shellcheck disable=SC2086
if want hostile; then
	echo "== hostile (failed-login flood)"
	"$PY" "$HERE/hostile_bench.py" --gatehouse "$BUILD_DIR/gatehouse" ${HOSTILE_BENCH_ARGS:-} || STATUS=1
fi
# shellcheck disable=SC2086
if want jump; then
	echo "== jump_throughput"
	"$PY" "$HERE/jump_throughput.py" --gatehouse "$BUILD_DIR/gatehouse" ${JUMP_BENCH_ARGS:-} || STATUS=1
fi
# shellcheck disable=SC2086
# shellcheck disable=SC2086
if want store; then
	echo "== store_bench"
	"$PY" "$HERE/store_bench.py" --gatehouse "$BUILD_DIR/gatehouse" ${STORE_BENCH_ARGS:-} || STATUS=1
fi
if want web; then
	echo "== web_bench"
	"$PY" "$HERE/web_bench.py" --gatehouse "$BUILD_DIR/gatehouse" ${WEB_BENCH_ARGS:-} || STATUS=1
fi
# shellcheck disable=SC2086
if want webterm; then
	echo "== webterm_bench"
	"$PY" "$HERE/webterm_bench.py" --gatehouse "$BUILD_DIR/gatehouse" ${WEBTERM_BENCH_ARGS:-} || STATUS=1
fi
# shellcheck disable=SC2086
if want db; then
	echo "== db_bench"
	"$PY" "$HERE/db_bench.py" --gatehouse "$BUILD_DIR/gatehouse" ${DB_BENCH_ARGS:-} || STATUS=1
fi
# shellcheck disable=SC2086
if want route; then
	echo "== route_bench"
	"$PY" "$HERE/route_bench.py" --gatehouse "$BUILD_DIR/gatehouse" ${ROUTE_BENCH_ARGS:-} || STATUS=1
fi
exit $STATUS
