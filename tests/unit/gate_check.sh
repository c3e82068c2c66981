#!/bin/sh
# One way to a target account's secret: only the session core
# (src/session/authz.c, gh_authz_credential) unseals one, after its
# authorize decision. A door that unseals by itself would bypass the
# gate, so any other caller fails here. Allowed besides: the vault itself,
# the CLI that seals account secrets (gh_vault_ad_account only), and the
# login's TOTP step, which unseals the user's own seed (not an account's).
# Usage: gate_check.sh SOURCE_ROOT
root=${1:?source root}
bad=0
for f in $(grep -rl --include='*.[ch]' 'gh_vault_unseal' "$root/src"); do
	case "${f#$root/}" in
	src/session/authz.c | src/vault/*) ;;
	src/ssh/loginpolicy.c)
		if grep -q 'gh_vault_ad_account' "$f"; then
			echo "$f: unseals an account secret outside the session core"; bad=1
		fi ;;
	*) echo "$f: calls gh_vault_unseal outside the session core (use gh_authz_credential)"; bad=1 ;;
	esac
done
for f in $(grep -rl --include='*.[ch]' 'gh_vault_ad_account' "$root/src"); do
	case "${f#$root/}" in
	src/session/authz.c | src/vault/* | src/cli/account.c) ;;
	*) echo "$f: uses an account's sealing data outside the session core"; bad=1 ;;
	esac
done
[ "$bad" = 0 ] && echo "gate_check: only src/session/authz.c unseals account secrets"
exit "$bad"
