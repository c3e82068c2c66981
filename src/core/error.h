/* Error codes shared by every module.
 *
 * Functions return 0 on success or a negative GH_E* value. gh_strerror()
 * gives a short, human description (static storage, never NULL). */
#pragma once

enum gh_err {
	GH_OK = 0,
	GH_ENOMEM = -1,     /* out of memory */
	GH_EINVAL = -2,     /* invalid argument or malformed input */
	GH_ENOENT = -3,     /* no such object */
	GH_EEXIST = -4,     /* object already exists */
	GH_EIO = -5,        /* file or socket error (see errno) */
	GH_ESTORE = -6,     /* database error */
	GH_ECRYPTO = -7,    /* decryption / authentication failure */
	GH_EPERM = -8,      /* not permitted */
	GH_EBUSY = -9,      /* resource busy, try later */
	GH_EKEY = -10,      /* master key missing or wrong */
	GH_ETIMEDOUT = -11, /* operation timed out */
	GH_ECONN = -12,     /* connection failed */
	GH_EHOSTKEY = -13,  /* remote host key mismatch */
	GH_EAUTH = -14,     /* authentication refused */
	GH_ELIMIT = -15,    /* configured limit reached */
};

const char *gh_strerror(int err);
