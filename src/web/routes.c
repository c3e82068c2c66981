/* Every route of the HTTPS server and the least role it needs: the one
 * table gh_web_dispatch enforces and openapi.json describes. */
#include "web/http.h"
#include "store/store.h"

#define ADMIN GH_ROLE_ADMIN
#define AUDITOR GH_ROLE_AUDITOR
#define USER GH_ROLE_USER
#define PUBLIC GH_WEB_PUBLIC

const struct gh_web_route gh_web_routes[] = {
	{ GH_GET, "/api/health", PUBLIC, gh_web_h_health, "Health for load balancers", false, false },
	{ GH_GET, "/api/v1/openapi.json", PUBLIC, gh_web_h_openapi, "This description", false, false },
	{ GH_GET, "/metrics", AUDITOR, gh_web_h_metrics,
	  "Prometheus counters: sessions, logins, bytes, recordings, events, export lag", false, false },
	{ GH_POST, "/api/v1/login", PUBLIC, gh_web_h_login,
	  "Sign in with user, password and totp: a session cookie and a CSRF token", true, false },
	{ GH_POST, "/api/v1/logout", USER, gh_web_h_logout, "End the cookie session", false, false },
	{ GH_GET, "/api/v1/me", USER, gh_web_h_me, "Who the caller is", false, false },
	{ GH_GET, "/api/v1/me/sessions", USER, gh_web_h_my_sessions,
	  "The caller's own sessions (active, limit)", false, false },
	{ GH_GET, "/api/v1/users", AUDITOR, gh_web_h_user_list, "Users", false, false },
	{ GH_GET, "/api/v1/users/{name}", AUDITOR, gh_web_h_user_get, "One user", false, false },
	{ GH_GET, "/api/v1/groups", AUDITOR, gh_web_h_group_list, "Groups with their members",
	  false, false },
	{ GH_GET, "/api/v1/groups/{name}", AUDITOR, gh_web_h_group_get, "One group", false, false },
	{ GH_GET, "/api/v1/sessions", AUDITOR, gh_web_h_session_list,
	  "Sessions, newest first (active, limit)", false, false },
	{ GH_GET, "/api/v1/sessions/{id}", AUDITOR, gh_web_h_session_get, "One session", false, false },
	{ GH_POST, "/api/v1/sessions/{id}/kill", ADMIN, gh_web_h_session_kill,
	  "End a live session ({reason} optional), as session kill", true, true },
	{ GH_GET, "/api/v1/sessions/{id}/recording", AUDITOR, gh_web_h_recording,
	  "The session's asciicast v2 recording (gzip as stored when accepted)", false, false },
	{ GH_GET, "/api/v1/assets", AUDITOR, gh_web_h_asset_list,
	  "Assets (limit, cursor): {items, next}", false, false },
	{ GH_POST, "/api/v1/assets", ADMIN, gh_web_h_asset_add, "Add an asset", true, false },
	{ GH_GET, "/api/v1/assets/{name}", AUDITOR, gh_web_h_asset_get, "One asset", false, false },
	{ GH_PATCH, "/api/v1/assets/{name}", ADMIN, gh_web_h_asset_patch, "Change an asset",
	  true, false },
	{ GH_DELETE, "/api/v1/assets/{name}", ADMIN, gh_web_h_asset_del, "Delete an asset", false, false },
	{ GH_GET, "/api/v1/assets/{name}/accounts", AUDITOR, gh_web_h_account_list,
	  "The asset's accounts (never their secrets)", false, false },
	{ GH_POST, "/api/v1/assets/{name}/accounts", ADMIN, gh_web_h_account_add,
	  "Add an account {username, password} (write-only secret)", true, false },
	{ GH_PUT, "/api/v1/assets/{name}/accounts/{username}", ADMIN, gh_web_h_account_set,
	  "Replace an account's secret {password}", true, false },
	{ GH_DELETE, "/api/v1/assets/{name}/accounts/{username}", ADMIN, gh_web_h_account_del,
	  "Delete an account", false, false },
	{ GH_GET, "/api/v1/permissions", AUDITOR, gh_web_h_perm_list, "Permissions", false, false },
	{ GH_POST, "/api/v1/permissions", ADMIN, gh_web_h_perm_add,
	  "Add a permission (the fields of perm show --json)", true, false },
	{ GH_GET, "/api/v1/permissions/{name}", AUDITOR, gh_web_h_perm_get, "One permission",
	  false, false },
	{ GH_DELETE, "/api/v1/permissions/{name}", ADMIN, gh_web_h_perm_del,
	  "Delete a permission", false, false },
	{ GH_POST, "/api/v1/permissions/check", AUDITOR, gh_web_h_perm_check,
	  "The gate's decision for {user, asset, account, action, protocol, at}", true, false },
	{ GH_POST, "/api/v1/access-requests", USER, gh_web_h_access_add,
	  "Ask for {asset, account, reason, ticket, minutes}", true, false },
	{ GH_GET, "/api/v1/access-requests", USER, gh_web_h_access_list,
	  "Access requests (users: their own)", false, false },
	{ GH_POST, "/api/v1/access-requests/{id}/approve", USER, gh_web_h_access_approve,
	  "Approve: a permission for the minutes asked", false, false },
	{ GH_POST, "/api/v1/access-requests/{id}/deny", USER, gh_web_h_access_deny,
	  "Deny", false, false },
	{ GH_GET, "/api/v1/audit/verify", AUDITOR, gh_web_h_audit_verify,
	  "Walk the event chain and every closed recording (audit verify --json)", false, false },
	{ GH_GET, "/api/v1/audit/{query}", AUDITOR, gh_web_h_audit,
	  "Audit queries logins|sessions|commands|files|changes (since, until, user, asset, "
	  "session, limit)", false, false },
	{ GH_GET, "/api/v1/terminal", USER, gh_web_h_terminal,
	  "WebSocket: a terminal on {asset} as {account} (cols, rows); docs/WEB.md", false, false },
	{ GH_GET, "/api/v1/tokens", ADMIN, gh_web_h_token_list, "API tokens", false, false },
	{ GH_POST, "/api/v1/tokens", ADMIN, gh_web_h_token_add,
	  "Add a token {name, user, expires}: the token is in the answer, once", true, false },
	{ GH_DELETE, "/api/v1/tokens/{name}", ADMIN, gh_web_h_token_del, "Delete a token", false, false },
};

const size_t gh_web_n_routes = sizeof gh_web_routes / sizeof gh_web_routes[0];
