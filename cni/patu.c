/* SPDX-License-Identifier: Apache-2.0 */
/*
 * patu: the CNI executable.  It forwards one CNI call to the Patu agent over
 * a Unix socket and relays the answer; every decision is the agent's.
 *
 * Why C and not Java: the container runtime starts this program once per
 * CNI call, on the critical path of every pod start.  A JVM needs about
 * 40 ms and 32 MB just to start; the Go reference plugins about 3 ms and
 * 11 MB.  A forwarder in C costs well under both, and the agent, which is
 * long-lived, keeps all state and logic.
 *
 * Wire protocol (one connection per call):
 *   request:  "PATU1\0", then "NAME=VALUE\0" for every CNI_* variable, then
 *             "\0", then the length of stdin in decimal and "\n", then
 *             stdin verbatim.  The length tells the agent where the request
 *             ends, so the socket is never half-closed (the agent's Vert.x
 *             sockets close on a half-close).
 *   response: decimal exit status, "\n", then the payload for stdout until
 *             the agent closes.
 *
 * Shell mode, for operators: `patu --shell 'COMMAND LINE'` runs one Gogo
 * command line in the agent (patu:status, lb, ...) and prints its output.
 *   request:  "PATUSH1\0", then the length of the command line in decimal
 *             and "\n", then the command line (UTF-8).
 *   response: as above; the payload is the command's text output.
 * Errors of this program itself go to stderr as text, with exit status 1.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <sys/un.h>
#include <unistd.h>

#define DEFAULT_SOCKET      "/run/patu/patu.sock"
#define DEFAULT_TIMEOUT_S   120
/* CNI's well-known error code 11: "try again later". */
#define CNI_ERR_TRY_AGAIN   11
/* Code 50: "the plugin is not available"; what STATUS must say when no ADD could succeed. */
#define CNI_ERR_NOT_AVAILABLE 50
#define START_HINT          "; is the agent running? Start it with: patu run"
/*
 * The agent refuses a network configuration over 1 MiB (WireRequest in the
 * lifecycle bundle).  Reading one byte more than that is enough for it to
 * say so; the rest of a huge stdin is never read.
 */
#define STDIN_CAP           ((1 << 20) + 1)

extern char **environ;

static const char *sock_path;
static int shell_mode;
static struct timeval timeout = { .tv_sec = DEFAULT_TIMEOUT_S };
static char io_buf[64 * 1024];

/* write(2) until done: pipes and sockets may take less than asked. */
static int write_all(int fd, const char *p, size_t n)
{
	while (n > 0) {
		ssize_t w = write(fd, p, n);

		if (w < 0) {
			if (errno == EINTR)
				continue;
			return -1;
		}
		p += w;
		n -= (size_t)w;
	}
	return 0;
}

/*
 * Append s as the inside of a JSON string.  Quotes, backslashes and control
 * characters are escaped; bytes that are not valid UTF-8 (a path is just
 * bytes) become U+FFFD, so the runtime always gets parseable JSON.
 */
static size_t json_escape(char *out, size_t cap, const char *s)
{
	const unsigned char *p = (const unsigned char *)s;
	size_t n = 0;

	/* 6 bytes is the longest escape; stop early rather than overflow. */
	while (*p && n + 7 < cap) {
		unsigned char c = *p;
		int len = c < 0x80 ? 1 : c >= 0xc2 && c <= 0xdf ? 2 :
			  c >= 0xe0 && c <= 0xef ? 3 : c >= 0xf0 && c <= 0xf4 ? 4 : 0;
		int i, ok = len > 0;

		/* Continuation bytes, and the second-byte ranges that rule
		 * out overlong forms, surrogates and code points > U+10FFFF. */
		for (i = 1; ok && i < len; i++)
			ok = (p[i] & 0xc0) == 0x80;
		if (ok && len > 2)
			ok = !((c == 0xe0 && p[1] < 0xa0) || (c == 0xed && p[1] > 0x9f) ||
			       (c == 0xf0 && p[1] < 0x90) || (c == 0xf4 && p[1] > 0x8f));
		if (!ok) {
			n += (size_t)snprintf(out + n, cap - n, "\\ufffd");
			p++;
		} else if (len > 1) {
			memcpy(out + n, p, (size_t)len);
			n += (size_t)len;
			p += len;
		} else if (c == '"' || c == '\\') {
			out[n++] = '\\';
			out[n++] = (char)c;
			p++;
		} else if (c < 0x20 || c == 0x7f) {
			n += (size_t)snprintf(out + n, cap - n, "\\u%04x", c);
			p++;
		} else {
			out[n++] = (char)c;
			p++;
		}
	}
	out[n] = '\0';
	return n;
}

/* Print a CNI error object on stdout, which is where runtimes look for it,
 * and exit 1.  details = "<op> <socket path>: <reason><hint>".  In shell
 * mode a person reads it: plain text on stderr. */
/*
 * Without the agent, STATUS has a definite answer (no ADD can succeed now: 50); every other verb is
 * asked to try again later (11).
 */
static int error_code(void)
{
	const char *command = getenv("CNI_COMMAND");

	return command && strcmp(command, "STATUS") == 0 ? CNI_ERR_NOT_AVAILABLE : CNI_ERR_TRY_AGAIN;
}

static void fail(const char *msg, const char *op, const char *reason, const char *hint)
{
	char details[2048], esc[4096 * 2];
	int n;

	snprintf(details, sizeof(details), "%s %s: %s%s", op, sock_path, reason, hint);
	if (shell_mode) {
		fprintf(stderr, "patu: %s (%s)\n", msg, details);
		exit(1);
	}
	json_escape(esc, sizeof(esc), details);
	n = snprintf(io_buf, sizeof(io_buf),
		     "{\"cniVersion\":\"1.0.0\",\"code\":%d,\"msg\":\"%s\",\"details\":\"%s\"}\n",
		     error_code(), msg, esc);
	write_all(STDOUT_FILENO, io_buf, (size_t)n);
	exit(1);
}

static void fail_io(const char *op, int err)
{
	/* SO_RCVTIMEO/SO_SNDTIMEO expiring shows up as EAGAIN. */
	if (err == EAGAIN || err == EWOULDBLOCK) {
		char reason[64];

		snprintf(reason, sizeof(reason), "no progress within %ld s", (long)timeout.tv_sec);
		fail("the Patu agent did not answer in time", op, reason, "");
	}
	/* Once connected, a failing read means the answer was cut off, not
	 * that the agent was never there. */
	if (strcmp(op, "read") == 0)
		fail("the Patu agent sent no valid answer", op, strerror(err), "");
	fail("cannot reach the Patu agent", op, strerror(err), START_HINT);
}

/*
 * The request goes out through io_buf so the header and small configs
 * leave in one write.  Once the agent has refused (it closed early, e.g.
 * because stdin is over its limit) sending stops; its answer explains.
 */
static size_t out_len;
static int peer_gone;

static void send_flush(int fd)
{
	if (!peer_gone && out_len > 0 && write_all(fd, io_buf, out_len) < 0) {
		if (errno != EPIPE && errno != ECONNRESET)
			fail_io("write", errno);
		peer_gone = 1;
	}
	out_len = 0;
}

static void send_bytes(int fd, const char *p, size_t n)
{
	while (n > 0) {
		size_t room = sizeof(io_buf) - out_len, k = n < room ? n : room;

		memcpy(io_buf + out_len, p, k);
		out_len += k;
		p += k;
		n -= k;
		if (out_len == sizeof(io_buf))
			send_flush(fd);
	}
}

/* Reads stdin whole (up to STDIN_CAP): its length goes before it on the wire. */
static char *read_stdin(size_t *len)
{
	size_t cap = 4096, n = 0;
	char *buf = malloc(cap);
	ssize_t r;

	if (!buf)
		fail("the Patu CNI plugin is out of memory", "read", strerror(ENOMEM), "");
	while (n < STDIN_CAP) {
		if (n == cap) {
			char *bigger;

			cap = cap * 2 > STDIN_CAP ? STDIN_CAP : cap * 2;
			bigger = realloc(buf, cap);
			if (!bigger)
				fail("the Patu CNI plugin is out of memory", "read", strerror(ENOMEM), "");
			buf = bigger;
		}
		r = read(STDIN_FILENO, buf + n, cap - n);
		if (r < 0 && errno == EINTR)
			continue;
		if (r <= 0)	/* a read error ends input; the agent rejects a cut config */
			break;
		n += (size_t)r;
	}
	*len = n;
	return buf;
}

static void send_request(int fd)
{
	char **e, length[24];
	size_t stdin_len;
	char *stdin_buf = read_stdin(&stdin_len);

	send_bytes(fd, "PATU1", sizeof("PATU1"));	/* with its NUL */
	for (e = environ; *e; e++)
		if (strncmp(*e, "CNI_", 4) == 0)
			send_bytes(fd, *e, strlen(*e) + 1);
	send_bytes(fd, "", 1);				/* end of environment */
	send_bytes(fd, length, (size_t)snprintf(length, sizeof(length), "%zu\n", stdin_len));
	send_bytes(fd, stdin_buf, stdin_len);
	send_flush(fd);
	free(stdin_buf);
}

static void send_shell_request(int fd, const char *line)
{
	char length[24];
	size_t len = strlen(line);

	send_bytes(fd, "PATUSH1", sizeof("PATUSH1"));	/* with its NUL */
	send_bytes(fd, length, (size_t)snprintf(length, sizeof(length), "%zu\n", len));
	send_bytes(fd, line, len);
	send_flush(fd);
}

/*
 * The whole answer is read before anything is printed: if the agent dies or
 * stalls halfway, stdout carries one clean error instead of half a result.
 * Answers are CNI results or a shell command's output, a few KiB.
 */
static void relay_response(int fd)
{
	char *buf = io_buf, *nl, *end;
	size_t cap = sizeof(io_buf), len = 0;
	ssize_t r;
	long status;

	for (;;) {
		if (len == cap) {
			char *bigger = malloc(cap * 2);

			if (!bigger)
				fail("the Patu agent sent no valid answer", "read",
				     strerror(ENOMEM), "");
			memcpy(bigger, buf, len);
			if (buf != io_buf)
				free(buf);
			buf = bigger;
			cap *= 2;
		}
		r = read(fd, buf + len, cap - len);
		if (r < 0 && errno == EINTR)
			continue;
		/* An agent that answers and closes without reading all of stdin
		 * (the early refusal) leaves us ECONNRESET once its answer has
		 * been read: that is its end of answer, like EOF. */
		if (r == 0 || (r < 0 && errno == ECONNRESET))
			break;
		if (r < 0)
			fail_io("read", errno);
		len += (size_t)r;
	}

	nl = memchr(buf, '\n', len < 4 ? len : 4);	/* at most "255\n" */
	if (!nl || nl == buf)
		fail("the Patu agent sent no valid answer", "read",
		     len ? "the answer has no status line" : "the agent closed without answering",
		     "");
	errno = 0;
	status = strtol(buf, &end, 10);
	if (end != nl || buf[0] < '0' || buf[0] > '9' || status > 255)
		fail("the Patu agent sent no valid answer", "read",
		     "the status line is not a number from 0 to 255", "");

	if (write_all(STDOUT_FILENO, nl + 1, len - (size_t)(nl + 1 - buf)) < 0)
		exit(1);	/* nobody to tell: stdout itself is gone */
	exit((int)status);
}

int main(int argc, char **argv)
{
	struct sockaddr_un addr = { .sun_family = AF_UNIX };
	const char *s;
	int fd, i;

	/* A runtime that starts us with 0, 1 or 2 closed would otherwise hand
	 * that number to the socket, and we would talk to ourselves. */
	for (i = 0; i <= 2; i++)
		if (fcntl(i, F_GETFD) < 0 && open("/dev/null", O_RDWR) != i)
			return 1;

	/* Runtimes start a CNI plugin without arguments; only an operator
	 * passes --shell. */
	if (argc > 1 && strcmp(argv[1], "--shell") == 0) {
		if (argc != 3) {
			fprintf(stderr, "usage: %s --shell 'COMMAND LINE'   (e.g. 'patu:status', 'lb')\n"
				"       %s                          (CNI plugin: CNI_* environment, config on stdin)\n",
				argv[0], argv[0]);
			return 2;
		}
		shell_mode = 1;
	}

	/* A dying agent must turn into an error answer, not a silent kill. */
	signal(SIGPIPE, SIG_IGN);

	s = getenv("PATU_SOCKET");
	sock_path = s && *s ? s : DEFAULT_SOCKET;
	s = getenv("PATU_TIMEOUT_SECONDS");
	if (s && *s) {
		char *end;
		long t = strtol(s, &end, 10);

		if (*end == '\0' && t > 0)
			timeout.tv_sec = t;
	}

	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		fail_io("socket", errno);
	if (strlen(sock_path) >= sizeof(addr.sun_path))
		fail("cannot reach the Patu agent", "connect", strerror(ENAMETOOLONG), START_HINT);
	strcpy(addr.sun_path, sock_path);

	/* The timeout bounds each read of the answer; the send side gets it
	 * too, so an agent that stops reading cannot hang the runtime (and a
	 * full listen backlog cannot hang connect). */
	setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &timeout, sizeof(timeout));
	setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &timeout, sizeof(timeout));

	if (connect(fd, (struct sockaddr *)&addr, sizeof(addr)) < 0)
		fail("cannot reach the Patu agent", "connect", strerror(errno), START_HINT);

	if (shell_mode)
		send_shell_request(fd, argv[2]);
	else
		send_request(fd);
	relay_response(fd);
	return 0;
}
