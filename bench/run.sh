#!/bin/sh
# Run every benchmark against the binaries in BUILD_DIR (default: build).
#   ./bench/run.sh [BUILD_DIR] [ssh_bench.py options...]
# e.g. ./bench/run.sh build --size 256M --json bench.json
# Environment: BENCH_ARGS adds options to ssh_bench.py (make bench BENCH_ARGS=...).
set -eu

BUILD_DIR=${1:-build}
[ $# -gt 0 ] && shift
HERE=$(cd "$(dirname "$0")" && pwd)
PY=/usr/bin/python3

if [ -x "$BUILD_DIR/policy_bench" ]; then
	echo "== policy_bench"
	"$BUILD_DIR/policy_bench"
else
	echo "== policy_bench: not built in $BUILD_DIR, skipped"
fi

if [ -x "$BUILD_DIR/audit_bench" ]; then
	echo "== audit_bench (1,000,000 events; AUDIT_BENCH_ARGS adds options)"
	# shellcheck disable=SC2086
	"$BUILD_DIR/audit_bench" ${AUDIT_BENCH_ARGS:-}
else
	echo "== audit_bench: not built in $BUILD_DIR, skipped"
fi

echo "== ssh_bench (needs root: starts sshd on loopback)"
# shellcheck disable=SC2086
exec "$PY" "$HERE/ssh_bench.py" --gatehouse "$BUILD_DIR/gatehouse" ${BENCH_ARGS:-} "$@"
