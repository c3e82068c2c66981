#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "core/error.h"
#include "vault/vault.h"

static char tmpdir[64];

static int setup(void **state)
{
	strcpy(tmpdir, "/tmp/ghvaultXXXXXX");
	assert_non_null(mkdtemp(tmpdir));
	unsetenv("GATEHOUSE_MASTER_KEY");
	return 0;
}

static int teardown(void **state)
{
	char path[128];
	snprintf(path, sizeof path, "%s/master.key", tmpdir);
	unlink(path);
	rmdir(tmpdir);
	return 0;
}

static void test_roundtrip_and_ad(void **state)
{
	uint8_t key[32] = { 1, 2, 3 };
	struct gh_vault *v = NULL;
	uint8_t *sealed = NULL;
	size_t n = 0, m = 0;
	char *pt = NULL;
	char ad[128], ad2[128];

	assert_int_equal(gh_vault_from_key(key, &v), 0);
	gh_vault_ad_account(ad, sizeof ad, 7, "deploy");
	gh_vault_ad_account(ad2, sizeof ad2, 8, "deploy");
	assert_int_equal(gh_vault_seal(v, "s3cret pass", 11, ad, &sealed, &n), 0);
	assert_int_equal(n, 1 + 24 + 11 + 16);
	assert_null(memmem(sealed, n, "s3cret", 6));
	assert_int_equal(gh_vault_unseal(v, sealed, n, ad, &pt, &m), 0);
	assert_int_equal(m, 11);
	assert_string_equal(pt, "s3cret pass");
	gh_secret_free(pt);
	pt = NULL;
	/* bound to its row */
	assert_int_equal(gh_vault_unseal(v, sealed, n, ad2, &pt, &m), GH_ECRYPTO);
	assert_null(pt);
	/* two seals of the same secret differ (random nonce) */
	uint8_t *sealed2 = NULL;
	size_t n2 = 0;
	assert_int_equal(gh_vault_seal(v, "s3cret pass", 11, ad, &sealed2, &n2), 0);
	assert_memory_not_equal(sealed, sealed2, n);
	free(sealed2);
	free(sealed);
	gh_vault_free(v);
}

static void test_tamper_detection(void **state)
{
	uint8_t key[32] = { 9 };
	struct gh_vault *v = NULL;
	uint8_t *sealed = NULL;
	size_t n = 0;
	char *pt = NULL;
	assert_int_equal(gh_vault_from_key(key, &v), 0);
	assert_int_equal(gh_vault_seal(v, "top", 3, "ad", &sealed, &n), 0);
	for (size_t i = 0; i < n; i++) {
		sealed[i] ^= 0x01;
		assert_int_equal(gh_vault_unseal(v, sealed, n, "ad", &pt, NULL), GH_ECRYPTO);
		sealed[i] ^= 0x01;
	}
	assert_int_equal(gh_vault_unseal(v, sealed, n - 1, "ad", &pt, NULL), GH_ECRYPTO);
	assert_int_equal(gh_vault_unseal(v, sealed, 5, "ad", &pt, NULL), GH_ECRYPTO);
	/* wrong key */
	uint8_t key2[32] = { 10 };
	struct gh_vault *w = NULL;
	assert_int_equal(gh_vault_from_key(key2, &w), 0);
	assert_int_equal(gh_vault_unseal(w, sealed, n, "ad", &pt, NULL), GH_ECRYPTO);
	char *check = NULL;
	assert_int_equal(gh_vault_keycheck_make(v, &check), 0);
	assert_int_equal(gh_vault_keycheck_verify(v, check), 0);
	assert_int_equal(gh_vault_keycheck_verify(w, check), GH_EKEY);
	assert_int_equal(gh_vault_keycheck_verify(w, "zz"), GH_EKEY);
	free(check);
	free(sealed);
	gh_vault_free(v);
	gh_vault_free(w);
}

static void test_master_key_file(void **state)
{
	struct gh_vault *v = NULL, *w = NULL;
	char err[256];
	char path[128];
	struct stat st;
	uint8_t *sealed = NULL;
	size_t n = 0;
	char *pt = NULL;

	snprintf(path, sizeof path, "%s/master.key", tmpdir);
	assert_int_equal(gh_vault_open(tmpdir, false, &v, err), GH_EKEY);
	assert_non_null(strstr(err, "master.key does not exist"));
	assert_int_equal(gh_vault_open(tmpdir, true, &v, err), 0);
	assert_true(gh_vault_is_new(v));
	assert_int_equal(stat(path, &st), 0);
	assert_int_equal(st.st_mode & 0777, 0600);
	assert_int_equal(gh_vault_seal(v, "x", 1, "a", &sealed, &n), 0);
	/* reopen: same key */
	assert_int_equal(gh_vault_open(tmpdir, true, &w, err), 0);
	assert_false(gh_vault_is_new(w));
	assert_int_equal(gh_vault_unseal(w, sealed, n, "a", &pt, NULL), 0);
	gh_secret_free(pt);
	gh_vault_free(w);
	w = NULL;
	/* a world-readable key file is refused */
	chmod(path, 0644);
	assert_int_equal(gh_vault_open(tmpdir, true, &w, err), GH_EKEY);
	assert_non_null(strstr(err, "chmod 600"));
	chmod(path, 0600);
	/* environment variable wins; malformed is a clear error */
	setenv("GATEHOUSE_MASTER_KEY", "not-a-key", 1);
	assert_int_equal(gh_vault_open(tmpdir, true, &w, err), GH_EKEY);
	assert_non_null(strstr(err, "GATEHOUSE_MASTER_KEY is malformed"));
	setenv("GATEHOUSE_MASTER_KEY",
	       "0000000000000000000000000000000000000000000000000000000000000000", 1);
	assert_int_equal(gh_vault_open(tmpdir, true, &w, err), 0);
	assert_int_equal(gh_vault_unseal(w, sealed, n, "a", &pt, NULL), GH_ECRYPTO);
	unsetenv("GATEHOUSE_MASTER_KEY");
	gh_vault_free(w);
	gh_vault_free(v);
	free(sealed);
}

static void test_argon2id(void **state)
{
	char *h = NULL;
	assert_int_equal(gh_password_hash("correct horse", 0, &h), 0);
	assert_true(strncmp(h, "$argon2id$", 10) == 0);
	assert_int_equal(gh_password_verify(h, "correct horse"), 0);
	assert_int_equal(gh_password_verify(h, "correct hors"), GH_EAUTH);
	assert_int_equal(gh_password_verify(h, ""), GH_EAUTH);
	assert_int_equal(gh_password_verify("plain", "plain"), GH_EAUTH);
	assert_int_equal(gh_password_verify(NULL, "x"), GH_EAUTH);
	char *h2 = NULL;
	assert_int_equal(gh_password_hash("correct horse", 0, &h2), 0);
	assert_string_not_equal(h, h2); /* salted */
	free(h);
	free(h2);
	char *p = gh_password_random(20);
	assert_non_null(p);
	assert_int_equal(strlen(p), 20);
	gh_secret_free(p);
}

/* The dummy hash a password attempt for a user without a password is
 * checked against has the parameters of a real hash of each strength (the
 * part of the string before the salt), so both cost the same. Strength 2
 * (1 GiB) is compared without hashing. */
static void test_dummy_hash_parameters(void **state)
{
	(void)state;
	for (int strength = 0; strength < 2; strength++) {
		char *h = NULL;
		assert_int_equal(gh_password_hash("x", strength, &h), 0);
		const char *d = gh_password_dummy_hash(strength);
		size_t params = (size_t)(strrchr(h, '$') - h);
		params = (size_t)((const char *)memrchr(h, '$', params) - h);
		assert_memory_equal(h, d, params + 1);
		assert_int_equal(gh_password_verify(d, "x"), GH_EAUTH);
		free(h);
	}
	assert_string_equal(gh_password_dummy_hash(7), gh_password_dummy_hash(0));
	assert_non_null(strstr(gh_password_dummy_hash(2), "$m=1048576,t=4,p=1$"));
}

static void test_secret_read_fd(void **state)
{
	int fds[2];
	char *s = NULL;
	size_t n = 0;
	assert_int_equal(pipe(fds), 0);
	assert_int_equal(write(fds[1], "pw1\r\nignored\n", 13), 13);
	close(fds[1]);
	assert_int_equal(gh_secret_read_fd(fds[0], false, &s, &n), 0);
	assert_string_equal(s, "pw1");
	assert_int_equal(n, 3);
	gh_secret_free(s);
	close(fds[0]);
	assert_int_equal(pipe(fds), 0);
	assert_int_equal(write(fds[1], "a\nb\n", 4), 4);
	close(fds[1]);
	assert_int_equal(gh_secret_read_fd(fds[0], true, &s, &n), 0);
	assert_string_equal(s, "a\nb\n");
	gh_secret_free(s);
	close(fds[0]);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_roundtrip_and_ad),
		cmocka_unit_test(test_tamper_detection),
		cmocka_unit_test_setup_teardown(test_master_key_file, setup, teardown),
		cmocka_unit_test(test_argon2id),
		cmocka_unit_test(test_secret_read_fd),
		cmocka_unit_test(test_dummy_hash_parameters),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
