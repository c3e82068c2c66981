#include "core/error.h"

const char *gh_strerror(int err)
{
	switch (err) {
	case GH_OK: return "success";
	case GH_ENOMEM: return "out of memory";
	case GH_EINVAL: return "invalid argument";
	case GH_ENOENT: return "not found";
	case GH_EEXIST: return "already exists";
	case GH_EIO: return "input/output error";
	case GH_ESTORE: return "database error";
	case GH_ECRYPTO: return "decryption failed (wrong master key or tampered data)";
	case GH_EPERM: return "not permitted";
	case GH_EBUSY: return "busy";
	case GH_EKEY: return "master key missing or wrong";
	case GH_ETIMEDOUT: return "timed out";
	case GH_ECONN: return "connection failed";
	case GH_EHOSTKEY: return "host key mismatch";
	case GH_EAUTH: return "authentication failed";
	case GH_ELIMIT: return "limit reached";
	}
	return "unknown error";
}
