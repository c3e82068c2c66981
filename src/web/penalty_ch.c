/* The channel between the web processes and the master's per-source
 * penalties (penalty_ch.h). */
#include "web/penalty_ch.h"
#include "core/error.h"
#include "core/util.h"
#include "ssh/penalty.h"

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <poll.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#define ANSWER_WAIT_MS 1000

static bool numeric_ip(const char *s)
{
	unsigned char b[sizeof(struct in6_addr)];
	return inet_pton(AF_INET, s, b) == 1 || inet_pton(AF_INET6, s, b) == 1;
}

int gh_pench_serve(int fd, struct gh_penalty *p, int failures, int seconds,
		   char ret_ip[GH_PENCH_IP_MAX + 1])
{
	char msg[GH_PENCH_IP_MAX + 2], ip[GH_PENCH_IP_MAX + 1];
	ssize_t n = recv(fd, msg, sizeof msg, MSG_DONTWAIT | MSG_TRUNC);
	if (n < 0 && (errno == EAGAIN || errno == EINTR))
		return 0;
	if (n <= 0)
		return GH_EIO;
	/* a bad request is answered as "refused" and forgotten */
	unsigned char state = GH_PENALTY_REFUSED;
	bool started = false;
	if (n >= 2 && (size_t)n <= sizeof msg && (msg[0] == 'C' || msg[0] == 'F')) {
		memcpy(ip, msg + 1, (size_t)n - 1);
		ip[n - 1] = '\0';
		if (strlen(ip) == (size_t)n - 1 && numeric_ip(ip)) {
			int64_t now = gh_mono_ms();
			if (msg[0] == 'F')
				started = gh_penalty_fail(p, ip, now, failures, seconds);
			state = (unsigned char)gh_penalty_check(p, ip, now, seconds);
		}
	}
	if (send(fd, &state, 1, MSG_DONTWAIT | MSG_NOSIGNAL) != 1)
		return GH_EIO;
	if (started)
		memcpy(ret_ip, ip, strlen(ip) + 1);
	return started ? 1 : 0;
}

int gh_pench_ask(int *fd, char op, const char *ip)
{
	char msg[GH_PENCH_IP_MAX + 2];
	unsigned char state = 0;
	size_t len = strlen(ip);
	if (*fd < 0)
		return GH_EIO;
	if (len > GH_PENCH_IP_MAX)
		return GH_EINVAL;
	msg[0] = op;
	memcpy(msg + 1, ip, len);
	struct pollfd pf = { .fd = *fd, .events = POLLIN };
	if (send(*fd, msg, len + 1, MSG_NOSIGNAL) != (ssize_t)(len + 1) ||
	    poll(&pf, 1, ANSWER_WAIT_MS) != 1 || recv(*fd, &state, 1, MSG_DONTWAIT) != 1 ||
	    state > GH_PENALTY_REFUSED) {
		/* a late answer would be taken for the next one: the channel ends */
		close(*fd);
		*fd = -1;
		return GH_EIO;
	}
	return state;
}
