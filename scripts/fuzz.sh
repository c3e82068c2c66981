#!/bin/sh
# Run every libFuzzer target in BUILD_DIR for SECONDS on its seed corpus
# (fuzz/corpus/NAME without the fuzz_ prefix). Fails on the first crash.
set -eu
build=${1:-build-fuzz}
secs=${2:-20}
found=0
for bin in "$build"/fuzz_*; do
	[ -f "$bin" ] && [ -x "$bin" ] || continue
	found=1
	name=$(basename "$bin")
	seeds="fuzz/corpus/${name#fuzz_}"
	work=$(mktemp -d)
	[ -d "$seeds" ] && cp -r "$seeds"/. "$work"/ 2>/dev/null || true
	echo "fuzz: $name for ${secs}s"
	"$bin" -max_total_time="$secs" -timeout=10 -rss_limit_mb=2048 -print_final_stats=1 \
		-artifact_prefix="$build/$name-" "$work" 2>"$build/$name.log" || {
		tail -40 "$build/$name.log"; rm -rf "$work"; exit 1; }
	grep -E 'stat::number_of_executed_units' "$build/$name.log" || true
	rm -rf "$work"
done
[ "$found" = 1 ] || { echo "fuzz: no targets in $build" >&2; exit 1; }
