/* The service manager's readiness protocol (systemd's sd_notify, without
 * libsystemd): one datagram "KEY=VALUE\n..." to the unix socket named by
 * $NOTIFY_SOCKET (a path, or "@name" for the abstract namespace). Nothing
 * happens without $NOTIFY_SOCKET. */
#pragma once

/* Sends STATE ("READY=1", "RELOADING=1", "STOPPING=1"); RELOADING also
 * carries MONOTONIC_USEC as systemd 253 wants it. 0, or a negative GH_E*
 * (GH_ENOENT: no socket configured). Never blocks. */
int gh_notify(const char *state);
