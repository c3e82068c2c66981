#!/bin/sh
# Tests that cannot silently pass (docs/TESTING.md):
#  - an end-to-end test waits on a condition (sshenv.wait_for, with a
#    deadline), never a bare sleep: sleep( appears in tests/e2e only inside
#    wait_for, or on a line marked "# sleep-ok: WHY" where the pause is the
#    thing under test;
#  - no test skips: pytest.skip, skipif, importorskip, mark.skip and xfail
#    appear nowhere in tests/e2e but in conftest.py (the hook that turns a
#    skip into a failure); no unit test calls cmocka's skip(). Measurements
#    that run only on request live in bench/.
# Usage: test_rules.sh SOURCE_ROOT
root=${1:?source root}
bad=0
e2e="$root/tests/e2e"
[ -d "$e2e" ] && [ -f "$e2e/sshenv.py" ] || { echo "test_rules: $e2e/sshenv.py missing"; exit 1; }

# every sleep( in the e2e tests, minus the marked ones and wait_for's own
hits=$(grep -rn --include='*.py' -E '(^|[^A-Za-z0-9_])sleep\(' "$e2e" | grep -v '# sleep-ok: ')
helper=$(printf '%s\n' "$hits" | grep -c "^$e2e/sshenv.py:")
others=$(printf '%s\n' "$hits" | grep -v "^$e2e/sshenv.py:" | grep .)
if [ -n "$others" ]; then
	printf '%s\n' "$others" | sed 's/$/   <- a bare sleep: wait_for(CONDITION, timeout=...) instead/'
	bad=1
fi
if [ "$helper" -ne 1 ]; then
	echo "$e2e/sshenv.py: $helper sleeps, wanted one (in wait_for)"
	bad=1
fi

skips=$(grep -rn --include='*.py' -E 'pytest\.skip|skipif|importorskip|mark\.skip|xfail' "$e2e" |
	grep -v "^$e2e/conftest.py:")
if [ -n "$skips" ]; then
	printf '%s\n' "$skips" | sed 's/$/   <- a test never skips: it fails with the reason (a measurement goes to bench\/)/'
	bad=1
fi
uskips=$(grep -n -E '(^|[^A-Za-z0-9_])skip\(\)' "$root"/tests/unit/*.c)
if [ -n "$uskips" ]; then
	printf '%s\n' "$uskips" | sed 's/$/   <- a unit test never skips: fail_msg with the reason/'
	bad=1
fi
[ "$bad" = 0 ] && echo "test_rules: no bare sleep, no skip"
exit "$bad"
