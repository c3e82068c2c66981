/* Access requests: what the API, the SSH `request` command and
 * `gatehouse access` share. A user asks for ACCOUNT on ASSET for MINUTES
 * (with a reason and a ticket ID of an external ticketing system); an
 * admin approves it, which makes the permission "access-ID" for that
 * user, asset and account, valid from the approval for those minutes, or
 * denies it. */
#pragma once
#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct gh_store;
struct gh_access_req;

#define GH_ACCESS_MINUTES_MAX (7 * 24 * 60)

/* {"id","user","asset","account","reason","ticket","minutes","status",
 * "created_at","decided_at","decided_by","permission"}. */
json_t *gh_access_json(const struct gh_access_req *a);

/* Check and store a request of USER_ID. GH_EINVAL (WHY says which field),
 * GH_ENOENT (no such asset), or another GH_E*. */
int gh_access_request(struct gh_store *st, int64_t user_id, const char *asset,
		      const char *account, const char *reason, const char *ticket, int minutes,
		      int64_t *ret_id, char *why, size_t whylen);

/* Approve (APPROVE) or deny pending request ID as BY. Approval makes the
 * permission first, and takes it back when the request was decided
 * meanwhile. GH_ENOENT, GH_EBUSY (already decided), or another GH_E*. */
int gh_access_decide(struct gh_store *st, int64_t id, bool approve, const char *by);
