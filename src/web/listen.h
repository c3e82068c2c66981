/* The web processes' listening sockets (no libwebsockets here).
 *
 * The first web process binds web_listen (and metrics_listen) itself,
 * as root, before it forks its siblings; every web process then makes its
 * own libwebsockets context with no listener of its own and accepts from
 * these shared sockets (server.c). A context made before the fork would
 * share its internal fds with the siblings: libwebsockets' wake-up eventfd
 * was read by one process, the other's read then failed, it closed the fd
 * and later wrote its wake-up value into the connection that reused it. */
#pragma once

/* A listening TCP socket (SOCK_CLOEXEC, non-blocking) on HOSTPORT
 * ("HOST:PORT"; 0.0.0.0 or * for every IPv4 address) into *RET_FD
 * (caller closes). 0 or a negative GH_E*. */
int gh_web_listen_socket(const char *hostport, int *ret_fd);
