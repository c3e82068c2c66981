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

/* May user USER_ID of ROLE (enum gh_role) decide request ID? Admins
 * always; others when they are members of the approvers group of a node
 * holding the request's asset (at or above it: gatehouse node set
 * --approvers), and the request is not their own. 0 yes, GH_EPERM no,
 * GH_ENOENT no such request, or another GH_E*. */
int gh_access_may_decide(struct gh_store *st, int64_t id, int64_t user_id, int role);

/* Approve (APPROVE) or deny pending request ID as BY, who is user USER_ID
 * of ROLE (gh_access_may_decide first: GH_EPERM). Approval makes the
 * permission first, and takes it back when the request was decided
 * meanwhile. GH_ENOENT, GH_EBUSY (already decided), or another GH_E*. */
int gh_access_decide(struct gh_store *st, int64_t id, bool approve, const char *by,
		     int64_t user_id, int role);
