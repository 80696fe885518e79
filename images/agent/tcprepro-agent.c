/*
 * tcprepro-agent — the small static program that runs inside every tcprepro node.
 *
 *   hold     PID 1 of a container: waits for SIGTERM/SIGINT, reaps children.
 *   serve    a TCP server whose accept() behaviour is exact (normal, never, one per N ms)
 *            and whose close behaviour is chosen (echo, close first, close with unread data).
 *   connect  a traffic generator: N attempts, C in flight, R per second, one epoll loop,
 *            one JSON line per attempt.
 *
 * The contract with the harness (flags and JSON-lines shapes) is src/agent/protocol.ts.
 * stdout carries only those JSON lines, always whole lines; diagnostics go to stderr.
 *
 * Build: gcc -O2 -Wall -Wextra -static -o build/tcprepro-agent images/agent/tcprepro-agent.c
 * Linux only (epoll, signalfd, accept4).
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <inttypes.h>
#include <limits.h>
#include <math.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/resource.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define PROG "tcprepro-agent"

#define USAGE                                                                                  \
    "usage:\n"                                                                                 \
    "  " PROG " hold\n"                                                                        \
    "  " PROG " serve --port P --backlog B --accept normal|never|delay [--delay-ms N]\n"       \
    "        [--no-reply] [--close-first] [--reset-on-close] [--never-close]\n"                \
    "        [--request-bytes N] [--ipv6]\n"                                                  \
    "  " PROG " connect --host IPv4|IPv6 --port P --connections N --concurrency C --rate R\n"       \
    "        --connect-timeout-ms T --payload-bytes B [--expect-reply] --reply-timeout-ms T\n" \
    "        --hold-ms H --close client|server --max-ms M\n"                                  \
    "        [--udp [--recverr]] [--nodelay] [--split-writes] [--requests K] [--half-close]\n" \
    "        [--keepalive IDLE,INTVL,CNT]\n"                                                 \
    "  " PROG " synflood --host IPv6 --port P --count N\n"

/*
 * One buffer for all socket I/O: the payload we send, the bytes we read and discard, the
 * bytes the server echoes. Its contents never matter (the payload is "any bytes"), so
 * reading into it while it is also the payload source is fine.
 */
#define IO_BUF 65536

static char io_buf[IO_BUF];

/* ------------------------------------------------------------------------------------------ */
/* Small utilities                                                                            */
/* ------------------------------------------------------------------------------------------ */

static void usage_error(const char *fmt, ...) __attribute__((noreturn, format(printf, 1, 2)));
static void usage_error(const char *fmt, ...)
{
    va_list ap;
    fprintf(stderr, PROG ": ");
    va_start(ap, fmt);
    vfprintf(stderr, fmt, ap);
    va_end(ap);
    fprintf(stderr, "\n" USAGE);
    exit(2);
}

/* A setup step failed (bind, epoll_create, …): nothing sensible to do but say so and stop. */
static void fatal(const char *what) __attribute__((noreturn));
static void fatal(const char *what)
{
    fprintf(stderr, PROG ": %s: %s\n", what, strerror(errno));
    exit(1);
}

static void *xrealloc(void *p, size_t n)
{
    void *q = realloc(p, n);
    if (q == NULL && n != 0) {
        fprintf(stderr, PROG ": out of memory\n");
        exit(1);
    }
    return q;
}

/* The port of an AF_INET or AF_INET6 address, host order. */
static int sockaddr_port(const struct sockaddr_storage *ss)
{
    return ntohs(ss->ss_family == AF_INET6 ? ((const struct sockaddr_in6 *)ss)->sin6_port
                                           : ((const struct sockaddr_in *)ss)->sin_port);
}

static int64_t mono_us(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}

static int64_t realtime_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* epoll_wait timeout for an absolute deadline, rounded up so we never wake before it. */
static int wait_ms(int64_t now, int64_t until)
{
    if (until == INT64_MAX)
        return -1;
    if (until <= now)
        return 0;
    int64_t ms = (until - now + 999) / 1000;
    return ms > INT_MAX ? INT_MAX : (int)ms;
}

/*
 * Errno names as the kernel spells them: they are the attempt outcomes, and the diagnosis
 * matches on them. Only the ones a TCP client can plausibly see; anything else is "E<num>".
 */
static const char *errno_name(int e)
{
    static const struct {
        int num;
        const char *name;
    } names[] = {
        {EPERM, "EPERM"},               /* netfilter REJECT/DROP on output, or a BPF hook */
        {ENOENT, "ENOENT"},
        {EINTR, "EINTR"},
        {EIO, "EIO"},
        {EAGAIN, "EAGAIN"},             /* old kernels: no free ephemeral port */
        {ENOMEM, "ENOMEM"},
        {EACCES, "EACCES"},
        {EBUSY, "EBUSY"},
        {EINVAL, "EINVAL"},
        {ENFILE, "ENFILE"},
        {EMFILE, "EMFILE"},
        {ENOSPC, "ENOSPC"},
        {EPIPE, "EPIPE"},
        {EPROTO, "EPROTO"},
        {EMSGSIZE, "EMSGSIZE"},
        {ENOPROTOOPT, "ENOPROTOOPT"},
        {EPROTONOSUPPORT, "EPROTONOSUPPORT"},
        {EOPNOTSUPP, "EOPNOTSUPP"},
        {EAFNOSUPPORT, "EAFNOSUPPORT"},
        {EADDRINUSE, "EADDRINUSE"},
        {EADDRNOTAVAIL, "EADDRNOTAVAIL"}, /* connect(): no free local port for this 4-tuple */
        {ENETDOWN, "ENETDOWN"},
        {ENETUNREACH, "ENETUNREACH"},   /* no route, or ICMP net unreachable */
        {ENETRESET, "ENETRESET"},
        {ECONNABORTED, "ECONNABORTED"},
        {ECONNRESET, "ECONNRESET"},     /* RST on an established connection */
        {ENOBUFS, "ENOBUFS"},
        {EISCONN, "EISCONN"},
        {ENOTCONN, "ENOTCONN"},
        {ESHUTDOWN, "ESHUTDOWN"},
        {ETIMEDOUT, "ETIMEDOUT"},       /* the kernel gave up retransmitting (SYN or data) */
        {ECONNREFUSED, "ECONNREFUSED"}, /* RST in answer to our SYN: nobody listening */
        {EHOSTDOWN, "EHOSTDOWN"},
        {EHOSTUNREACH, "EHOSTUNREACH"}, /* ARP/neighbour failure, or ICMP host unreachable */
        {EALREADY, "EALREADY"},
        {EINPROGRESS, "EINPROGRESS"},
    };
    static char fallback[24];
    for (size_t k = 0; k < sizeof names / sizeof names[0]; k++)
        if (names[k].num == e)
            return names[k].name;
    snprintf(fallback, sizeof fallback, "E%d", e);
    return fallback;
}

/*
 * Every connection is a file descriptor, and container runtimes often start us with a soft
 * RLIMIT_NOFILE of 1024. Raise the soft limit to the hard limit so thousands of sockets fit.
 */
static void raise_nofile(void)
{
    struct rlimit rl;
    if (getrlimit(RLIMIT_NOFILE, &rl) != 0 || rl.rlim_cur == rl.rlim_max)
        return;
    rlim_t want = rl.rlim_max;
    rl.rlim_cur = want;
    if (setrlimit(RLIMIT_NOFILE, &rl) == 0)
        return;
    /* An "unlimited" hard limit still cannot exceed fs.nr_open (default 1048576). */
    if (want == RLIM_INFINITY || want > (1u << 20)) {
        rl.rlim_cur = 1u << 20;
        if (setrlimit(RLIMIT_NOFILE, &rl) == 0)
            return;
    }
    fprintf(stderr, PROG ": warning: cannot raise RLIMIT_NOFILE: %s\n", strerror(errno));
}

/*
 * Block SIGTERM/SIGINT and return a signalfd for them, so a stop request is just another
 * epoll event. Blocking (rather than a handler) also works when we are PID 1 of a container:
 * the kernel discards signals sent to a namespace's init only when their disposition is the
 * default and they are not blocked.
 */
static int stop_signalfd(void)
{
    sigset_t set;
    sigemptyset(&set);
    sigaddset(&set, SIGTERM);
    sigaddset(&set, SIGINT);
    if (sigprocmask(SIG_BLOCK, &set, NULL) != 0)
        fatal("sigprocmask");
    int fd = signalfd(-1, &set, SFD_NONBLOCK | SFD_CLOEXEC);
    if (fd < 0)
        fatal("signalfd");
    return fd;
}

/* ------------------------------------------------------------------------------------------ */
/* Flags                                                                                      */
/* ------------------------------------------------------------------------------------------ */

struct flag {
    const char *name; /* without the leading "--" */
    bool takes_value;
    bool required;
    bool seen;
    const char *value;
};

static void parse_flags(const char *cmd, int argc, char **argv, struct flag *flags, size_t n)
{
    for (int k = 2; k < argc; k++) {
        const char *a = argv[k];
        if (strncmp(a, "--", 2) != 0)
            usage_error("%s: unexpected argument \"%s\"", cmd, a);
        struct flag *f = NULL;
        for (size_t j = 0; j < n; j++)
            if (strcmp(a + 2, flags[j].name) == 0)
                f = &flags[j];
        if (f == NULL)
            usage_error("%s: unknown flag \"%s\"", cmd, a);
        if (f->seen)
            usage_error("%s: flag %s given twice", cmd, a);
        f->seen = true;
        if (f->takes_value) {
            if (k + 1 >= argc)
                usage_error("%s: flag %s needs a value", cmd, a);
            f->value = argv[++k];
        }
    }
    for (size_t j = 0; j < n; j++)
        if (flags[j].required && !flags[j].seen)
            usage_error("%s: missing --%s", cmd, flags[j].name);
}

static struct flag *flag_get(struct flag *flags, size_t n, const char *name)
{
    for (size_t j = 0; j < n; j++)
        if (strcmp(flags[j].name, name) == 0)
            return &flags[j];
    abort(); /* a typo in this file, not in the caller's argv */
}

static long long parse_int(const char *name, const char *s, long long min, long long max)
{
    char *end;
    errno = 0;
    long long v = strtoll(s, &end, 10);
    if (errno != 0 || end == s || *end != '\0' || v < min || v > max)
        usage_error("--%s: expected an integer in [%lld, %lld], got \"%s\"", name, min, max, s);
    return v;
}

/* ------------------------------------------------------------------------------------------ */
/* Buffered JSON-lines output                                                                 */
/* ------------------------------------------------------------------------------------------ */

/*
 * Our own buffer rather than stdio's, so that a write() always ends on a line boundary: the
 * harness may read a partial pipe buffer, but it never sees half a JSON object from us.
 * Flushed when 64 KiB are pending or the oldest pending line is 50 ms old, and at exit.
 */
#define OUT_CAP (256 * 1024)
#define OUT_FLUSH_BYTES (64 * 1024)
#define OUT_FLUSH_US 50000
#define OUT_LINE_MAX 512

static struct {
    char buf[OUT_CAP];
    size_t len;
    int64_t oldest; /* mono_us of the oldest unflushed line */
} out;

static void out_flush(void)
{
    size_t off = 0;
    while (off < out.len) {
        ssize_t w = write(STDOUT_FILENO, out.buf + off, out.len - off);
        if (w >= 0) {
            off += (size_t)w;
        } else if (errno == EAGAIN) {
            /* Someone handed us a non-blocking stdout: wait for room. */
            struct pollfd p = {.fd = STDOUT_FILENO, .events = POLLOUT};
            poll(&p, 1, -1);
        } else if (errno != EINTR) {
            /* The reader is gone (EPIPE): our output is the only product, so stop. */
            fprintf(stderr, PROG ": writing stdout: %s\n", strerror(errno));
            exit(1);
        }
    }
    out.len = 0;
}

static void out_line(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static void out_line(const char *fmt, ...)
{
    if (OUT_CAP - out.len < OUT_LINE_MAX)
        out_flush();
    if (out.len == 0)
        out.oldest = mono_us();
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(out.buf + out.len, OUT_LINE_MAX - 1, fmt, ap);
    va_end(ap);
    if (n < 0 || n >= OUT_LINE_MAX - 1)
        abort(); /* our lines are short and fixed-shape */
    out.len += (size_t)n;
    out.buf[out.len++] = '\n';
}

static void out_maybe_flush(int64_t now)
{
    if (out.len > 0 && (out.len >= OUT_FLUSH_BYTES || now - out.oldest >= OUT_FLUSH_US))
        out_flush();
}

/* When the event loop must wake up to honour the 50 ms flush promise. */
static int64_t out_deadline(void)
{
    return out.len > 0 ? out.oldest + OUT_FLUSH_US : INT64_MAX;
}

/* ------------------------------------------------------------------------------------------ */
/* Timers: an indexed binary min-heap                                                         */
/* ------------------------------------------------------------------------------------------ */

/*
 * One deadline per id (a connection slot or an fd). Setting, moving and cancelling are
 * O(log n), and the next deadline is O(1), so the event loop never scans all connections.
 */
struct theap {
    struct tentry {
        int64_t at;
        int id;
    } *e;
    int n, cap;
    int *pos; /* pos[id] = index in e, or -1 when id has no deadline */
    int pos_cap;
};

static void theap_reserve_id(struct theap *h, int id)
{
    if (id < h->pos_cap)
        return;
    int cap = h->pos_cap ? h->pos_cap : 64;
    while (cap <= id)
        cap *= 2;
    h->pos = xrealloc(h->pos, (size_t)cap * sizeof *h->pos);
    for (int k = h->pos_cap; k < cap; k++)
        h->pos[k] = -1;
    h->pos_cap = cap;
}

static void theap_place(struct theap *h, int k, struct tentry t)
{
    h->e[k] = t;
    h->pos[t.id] = k;
}

static void theap_up(struct theap *h, int k)
{
    struct tentry t = h->e[k];
    while (k > 0) {
        int parent = (k - 1) / 2;
        if (h->e[parent].at <= t.at)
            break;
        theap_place(h, k, h->e[parent]);
        k = parent;
    }
    theap_place(h, k, t);
}

static void theap_down(struct theap *h, int k)
{
    struct tentry t = h->e[k];
    for (;;) {
        int c = 2 * k + 1;
        if (c >= h->n)
            break;
        if (c + 1 < h->n && h->e[c + 1].at < h->e[c].at)
            c++;
        if (t.at <= h->e[c].at)
            break;
        theap_place(h, k, h->e[c]);
        k = c;
    }
    theap_place(h, k, t);
}

static void theap_set(struct theap *h, int id, int64_t at)
{
    theap_reserve_id(h, id);
    int k = h->pos[id];
    if (k < 0) {
        if (h->n == h->cap) {
            h->cap = h->cap ? 2 * h->cap : 64;
            h->e = xrealloc(h->e, (size_t)h->cap * sizeof *h->e);
        }
        k = h->n++;
    }
    theap_place(h, k, (struct tentry){.at = at, .id = id});
    theap_up(h, k);
    theap_down(h, h->pos[id]);
}

static void theap_del(struct theap *h, int id)
{
    if (id >= h->pos_cap || h->pos[id] < 0)
        return;
    int k = h->pos[id];
    h->pos[id] = -1;
    h->n--;
    if (k == h->n)
        return;
    /* Fill the hole with the last entry, which may belong above or below it. */
    int moved = h->e[h->n].id;
    theap_place(h, k, h->e[h->n]);
    theap_up(h, k);
    theap_down(h, h->pos[moved]);
}

/* The earliest deadline, or INT64_MAX. */
static int64_t theap_next(const struct theap *h, int *id)
{
    if (h->n == 0)
        return INT64_MAX;
    *id = h->e[0].id;
    return h->e[0].at;
}

/* ------------------------------------------------------------------------------------------ */
/* hold                                                                                       */
/* ------------------------------------------------------------------------------------------ */

/*
 * PID 1 of a container. As init of a PID namespace we inherit every orphan, so we must reap
 * them or they stay zombies; and the kernel drops SIGTERM/SIGINT sent to init unless init
 * handles them, so `docker stop` would otherwise wait out its timeout and SIGKILL us.
 * Blocking the signals and taking them with sigwaitinfo() does both without handler races.
 */
static int cmd_hold(int argc, char **argv)
{
    (void)argv;
    if (argc > 2)
        usage_error("hold: takes no flags");
    sigset_t set;
    sigemptyset(&set);
    sigaddset(&set, SIGTERM);
    sigaddset(&set, SIGINT);
    sigaddset(&set, SIGCHLD);
    if (sigprocmask(SIG_BLOCK, &set, NULL) != 0)
        fatal("sigprocmask");
    for (;;) {
        /* Several children exiting together raise one SIGCHLD: reap until none is left. */
        while (waitpid(-1, NULL, WNOHANG) > 0)
            ;
        int sig = sigwaitinfo(&set, NULL);
        if (sig < 0) {
            if (errno == EINTR)
                continue;
            fatal("sigwaitinfo");
        }
        if (sig == SIGTERM || sig == SIGINT)
            return 0;
    }
}

/* ------------------------------------------------------------------------------------------ */
/* serve                                                                                      */
/* ------------------------------------------------------------------------------------------ */

enum accept_mode { ACCEPT_NORMAL, ACCEPT_NEVER, ACCEPT_DELAY };

enum sstate {
    S_FREE,
    S_ECHO,       /* reading; echoing what arrives unless --no-reply */
    S_FLUSH,      /* the socket send buffer was full: finish the echo before reading more */
    S_WAIT_RESET, /* --reset-on-close: waiting for data, to close with it unread */
    S_LEAKED,     /* --never-close: the peer closed, we never will (CLOSE_WAIT for good) */
};

/* How long --reset-on-close waits for data before closing anyway (a plain FIN then). */
#define RESET_WAIT_US 2000000
/* How long to stop accepting after EMFILE/ENFILE/ENOBUFS before trying again. */
#define ACCEPT_BACKOFF_US 100000

struct sconn {
    uint32_t gen; /* bumped on close: stale events for a reused fd number are ignored */
    uint8_t state;
    bool replied;
    uint64_t have; /* --request-bytes: bytes of the current request received so far */
    char *pend;    /* echo bytes the kernel did not take yet */
    uint32_t pend_len, pend_off;
};

static struct {
    enum accept_mode mode;
    int64_t delay_us;
    bool reply, close_first, reset_on_close, never_close;
    uint64_t request_bytes; /* 0: echo as data arrives; N: reply N bytes per N received */
    int ep, lfd, sfd;
    bool armed;        /* the listen socket is in the epoll interest set */
    int64_t resume_at; /* when to re-arm it (delay mode, or after EMFILE) */
    struct sconn *c;   /* indexed by fd */
    int ccap;
    struct theap timers; /* --reset-on-close deadlines, by fd */
    int64_t last_warn;
} S;

static void srv_ctl(int op, int fd, uint32_t events)
{
    struct epoll_event ev = {.events = events};
    ev.data.u64 = fd == S.lfd || fd == S.sfd ? (uint64_t)fd
                                              : ((uint64_t)S.c[fd].gen << 32) | (uint32_t)fd;
    if (epoll_ctl(S.ep, op, fd, &ev) != 0)
        fatal("epoll_ctl");
}

static void srv_arm(bool on, int64_t resume_at)
{
    if (S.armed != on)
        srv_ctl(EPOLL_CTL_MOD, S.lfd, on ? EPOLLIN : 0);
    S.armed = on;
    S.resume_at = on ? INT64_MAX : resume_at;
}

static void srv_close(int fd)
{
    struct sconn *c = &S.c[fd];
    free(c->pend);
    c->pend = NULL;
    c->state = S_FREE;
    c->gen++;
    theap_del(&S.timers, fd);
    close(fd); /* also removes fd from the epoll set: nobody else holds it */
}

/*
 * Close so the peer sees a FIN. Linux turns close() into an RST when unread data sits in the
 * receive queue (tcp_close: "data was lost"), so discard whatever has already arrived first.
 * This is the close that leaves *this* side in FIN_WAIT → TIME_WAIT.
 */
static void srv_close_graceful(int fd)
{
    for (int k = 0; k < 64; k++)
        if (recv(fd, io_buf, sizeof io_buf, MSG_DONTWAIT) <= 0)
            break;
    srv_close(fd);
}

/* Returns 1 when all was sent, 0 when the rest waits for EPOLLOUT, -1 when fd was closed. */
static int srv_send(int fd, const char *data, size_t len)
{
    struct sconn *c = &S.c[fd];
    ssize_t w;
    do
        w = send(fd, data, len, MSG_NOSIGNAL);
    while (w < 0 && errno == EINTR);
    if (w < 0) {
        if (errno != EAGAIN) {
            srv_close(fd);
            return -1;
        }
        w = 0;
    }
    if ((size_t)w == len)
        return 1;
    /* The peer is not reading fast enough: keep the rest, stop reading (back-pressure). */
    c->pend_len = (uint32_t)(len - (size_t)w);
    c->pend_off = 0;
    c->pend = xrealloc(NULL, c->pend_len);
    memcpy(c->pend, data + w, c->pend_len);
    c->state = S_FLUSH;
    srv_ctl(EPOLL_CTL_MOD, fd, EPOLLOUT);
    return 0;
}

static void srv_read(int fd)
{
    struct sconn *c = &S.c[fd];
    for (int k = 0; k < 16; k++) { /* bounded, so one busy peer cannot starve the others */
        ssize_t n = recv(fd, io_buf, sizeof io_buf, 0);
        if (n > 0) {
            if (!S.reply)
                continue;
            size_t len = (size_t)n;
            if (S.request_bytes > 0) {
                /*
                 * A request/response app: answer only once the whole request is in. A client
                 * that writes its request in two pieces then waits for the answer is the
                 * write-write-read pattern that meets Nagle and delayed ACK.
                 */
                c->have += (uint64_t)n;
                if (c->have < S.request_bytes)
                    continue;
                c->have -= S.request_bytes;
                len = S.request_bytes < IO_BUF ? (size_t)S.request_bytes : IO_BUF;
            }
            if (srv_send(fd, io_buf, len) <= 0)
                return;
            c->replied = true;
            continue;
        }
        if (n == 0) { /* the client's FIN: it closed first, we close after */
            if (S.never_close) {
                /*
                 * A leaking app: it never calls close(), so the kernel keeps the socket in
                 * CLOSE_WAIT (and the fd open) until the process exits.
                 */
                srv_ctl(EPOLL_CTL_DEL, fd, 0);
                c->state = S_LEAKED;
                return;
            }
            srv_close(fd);
            return;
        }
        if (errno == EINTR)
            continue;
        if (errno == EAGAIN)
            break;
        srv_close(fd); /* ECONNRESET and friends */
        return;
    }
    if (S.close_first && c->replied)
        srv_close_graceful(fd);
}

static void srv_flush(int fd)
{
    struct sconn *c = &S.c[fd];
    ssize_t w = send(fd, c->pend + c->pend_off, c->pend_len - c->pend_off, MSG_NOSIGNAL);
    if (w < 0) {
        if (errno != EAGAIN && errno != EINTR)
            srv_close(fd);
        return;
    }
    c->pend_off += (uint32_t)w;
    if (c->pend_off < c->pend_len)
        return;
    free(c->pend);
    c->pend = NULL;
    c->replied = true;
    if (S.close_first) {
        srv_close_graceful(fd);
        return;
    }
    c->state = S_ECHO;
    srv_ctl(EPOLL_CTL_MOD, fd, EPOLLIN | EPOLLRDHUP);
}

static void srv_new_conn(int fd, int64_t now)
{
    if (fd >= S.ccap) {
        int cap = S.ccap ? S.ccap : 1024;
        while (cap <= fd)
            cap *= 2;
        S.c = xrealloc(S.c, (size_t)cap * sizeof *S.c);
        memset(S.c + S.ccap, 0, (size_t)(cap - S.ccap) * sizeof *S.c);
        S.ccap = cap;
    }
    struct sconn *c = &S.c[fd];
    c->replied = false;
    c->have = 0;
    if (S.reset_on_close) {
        /* Any readiness — data, FIN or RST — ends the wait; see srv_on_conn. */
        c->state = S_WAIT_RESET;
        srv_ctl(EPOLL_CTL_ADD, fd, EPOLLIN | EPOLLRDHUP);
        theap_set(&S.timers, fd, now + RESET_WAIT_US);
    } else if (S.close_first && !S.reply) {
        srv_close_graceful(fd);
    } else {
        c->state = S_ECHO;
        srv_ctl(EPOLL_CTL_ADD, fd, EPOLLIN | EPOLLRDHUP);
    }
}

static void srv_accept(int64_t now)
{
    /* Delay mode takes exactly one; normal mode drains the queue (bounded per wake-up). */
    int limit = S.mode == ACCEPT_DELAY && S.delay_us > 0 ? 1 : 1024;
    for (int k = 0; k < limit; k++) {
        int fd = accept4(S.lfd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
        if (fd < 0) {
            int e = errno;
            if (e == EAGAIN)
                return;
            /* The connection died in the queue (RST before accept): just take the next. */
            if (e == EINTR || e == ECONNABORTED || e == EPROTO || e == EPERM)
                continue;
            /*
             * Out of fds or memory. The listen socket stays readable, so retrying at once
             * would spin; pause accepting instead and let the accept queue back up, exactly
             * as it does for a real server in this state.
             */
            if (now - S.last_warn >= 1000000) {
                fprintf(stderr, PROG ": accept: %s (pausing accept for %d ms)\n", strerror(e),
                        ACCEPT_BACKOFF_US / 1000);
                S.last_warn = now;
            }
            srv_arm(false, now + ACCEPT_BACKOFF_US);
            return;
        }
        srv_new_conn(fd, now);
        if (limit == 1) {
            srv_arm(false, now + S.delay_us);
            return;
        }
    }
}

static void srv_on_conn(int fd, uint32_t gen)
{
    if (fd >= S.ccap || S.c[fd].gen != gen || S.c[fd].state == S_FREE)
        return; /* closed earlier in this batch, possibly reused by a newer connection */
    switch (S.c[fd].state) {
    case S_WAIT_RESET:
        /*
         * Data arrived and we close without reading it: tcp_close() sees unread data and
         * sends RST instead of FIN (TcpExtTCPAbortOnClose). If this was only a FIN or RST,
         * there is nothing unread and the close is ordinary.
         */
        srv_close(fd);
        break;
    case S_FLUSH:
        srv_flush(fd);
        break;
    case S_ECHO:
        srv_read(fd);
        break;
    }
}

static int cmd_serve(int argc, char **argv)
{
    struct flag flags[] = {
        {"port", true, true, false, NULL},      {"backlog", true, true, false, NULL},
        {"accept", true, true, false, NULL},    {"delay-ms", true, false, false, NULL},
        {"no-reply", false, false, false, NULL}, {"close-first", false, false, false, NULL},
        {"reset-on-close", false, false, false, NULL},
        {"never-close", false, false, false, NULL},
        {"request-bytes", true, false, false, NULL},
        {"ipv6", false, false, false, NULL},
    };
    const size_t nf = sizeof flags / sizeof flags[0];
    parse_flags("serve", argc, argv, flags, nf);

    int port = (int)parse_int("port", flag_get(flags, nf, "port")->value, 0, 65535);
    int backlog = (int)parse_int("backlog", flag_get(flags, nf, "backlog")->value, 0, INT_MAX);
    const char *mode = flag_get(flags, nf, "accept")->value;
    if (strcmp(mode, "normal") == 0)
        S.mode = ACCEPT_NORMAL;
    else if (strcmp(mode, "never") == 0)
        S.mode = ACCEPT_NEVER;
    else if (strcmp(mode, "delay") == 0)
        S.mode = ACCEPT_DELAY;
    else
        usage_error("--accept: expected normal, never or delay, got \"%s\"", mode);
    struct flag *delay = flag_get(flags, nf, "delay-ms");
    if (S.mode == ACCEPT_DELAY && !delay->seen)
        usage_error("--accept delay needs --delay-ms");
    if (S.mode != ACCEPT_DELAY && delay->seen)
        usage_error("--delay-ms only applies to --accept delay");
    if (delay->seen)
        S.delay_us = parse_int("delay-ms", delay->value, 0, INT64_MAX / 1000000) * 1000;
    S.reply = !flag_get(flags, nf, "no-reply")->seen;
    S.close_first = flag_get(flags, nf, "close-first")->seen;
    S.reset_on_close = flag_get(flags, nf, "reset-on-close")->seen;
    S.never_close = flag_get(flags, nf, "never-close")->seen;
    struct flag *req = flag_get(flags, nf, "request-bytes");
    if (req->seen)
        S.request_bytes = (uint64_t)parse_int("request-bytes", req->value, 1, IO_BUF);

    raise_nofile();
    signal(SIGPIPE, SIG_IGN);
    S.sfd = stop_signalfd();

    /*
     * --ipv6: one dual-stack socket (IPV6_V6ONLY off) serves both families, so a node on an
     * IPv6 or dual-stack network needs no second listener. Without it the socket is AF_INET as
     * it always was: IPv4-only runs keep their listener in /proc/net/tcp.
     */
    int family = flag_get(flags, nf, "ipv6")->seen ? AF_INET6 : AF_INET;
    S.lfd = socket(family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (S.lfd < 0)
        fatal("socket");
    /* A restarted server must be able to bind while old connections sit in TIME_WAIT. */
    int one = 1, zero = 0;
    if (setsockopt(S.lfd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one) != 0)
        fatal("setsockopt(SO_REUSEADDR)");
    struct sockaddr_storage ss = {0};
    socklen_t slen;
    if (family == AF_INET6) {
        if (setsockopt(S.lfd, IPPROTO_IPV6, IPV6_V6ONLY, &zero, sizeof zero) != 0)
            fatal("setsockopt(IPV6_V6ONLY)");
        struct sockaddr_in6 *s6 = (struct sockaddr_in6 *)&ss;
        s6->sin6_family = AF_INET6;
        s6->sin6_port = htons((uint16_t)port);
        s6->sin6_addr = in6addr_any;
        slen = sizeof *s6;
    } else {
        struct sockaddr_in *s4 = (struct sockaddr_in *)&ss;
        s4->sin_family = AF_INET;
        s4->sin_port = htons((uint16_t)port);
        s4->sin_addr.s_addr = htonl(INADDR_ANY);
        slen = sizeof *s4;
    }
    if (bind(S.lfd, (struct sockaddr *)&ss, slen) != 0)
        fatal("bind");
    /*
     * The backlog bounds the accept queue of *completed* handshakes at
     * min(backlog, net.core.somaxconn); Linux admits one more than that (ss shows Recv-Q
     * backlog+1 when full). Beyond it, the kernel drops the client's final ACK (or SYN) and
     * counts TcpExtListenOverflows / ListenDrops.
     */
    if (listen(S.lfd, backlog) != 0)
        fatal("listen");
    slen = sizeof ss;
    if (getsockname(S.lfd, (struct sockaddr *)&ss, &slen) == 0)
        port = sockaddr_port(&ss); /* --port 0: report the port the kernel chose */

    S.ep = epoll_create1(EPOLL_CLOEXEC);
    if (S.ep < 0)
        fatal("epoll_create1");
    srv_ctl(EPOLL_CTL_ADD, S.sfd, EPOLLIN);
    /*
     * --accept never: the listen socket is never watched and accept() never called. The
     * kernel still completes handshakes on its own and parks them in the accept queue until
     * it is full — which is the failure being reproduced.
     */
    if (S.mode != ACCEPT_NEVER)
        srv_ctl(EPOLL_CTL_ADD, S.lfd, EPOLLIN);
    S.armed = S.mode != ACCEPT_NEVER;
    S.resume_at = INT64_MAX;
    S.last_warn = INT64_MIN / 2;

    out_line("{\"ev\":\"listening\",\"port\":%d,\"backlog\":%d,\"pid\":%d}", port, backlog,
             (int)getpid());
    out_flush();

    struct epoll_event evs[512];
    for (;;) {
        int64_t now = mono_us();
        if (!S.armed && S.mode != ACCEPT_NEVER && now >= S.resume_at)
            srv_arm(true, 0);
        int id = -1;
        while (theap_next(&S.timers, &id) <= now)
            srv_close(id); /* --reset-on-close waited 2 s with nothing to leave unread */

        int64_t until = theap_next(&S.timers, &id);
        if (!S.armed && S.mode != ACCEPT_NEVER && S.resume_at < until)
            until = S.resume_at;
        int n = epoll_wait(S.ep, evs, (int)(sizeof evs / sizeof evs[0]), wait_ms(now, until));
        if (n < 0) {
            if (errno == EINTR)
                continue;
            fatal("epoll_wait");
        }
        now = mono_us();
        for (int k = 0; k < n; k++) {
            int fd = (int)(uint32_t)evs[k].data.u64;
            if (fd == S.sfd)
                return 0; /* SIGTERM/SIGINT: the kernel cleans up every socket at exit */
            if (fd == S.lfd) {
                if (S.armed)
                    srv_accept(now);
            } else {
                srv_on_conn(fd, (uint32_t)(evs[k].data.u64 >> 32));
            }
        }
    }
}

/* ------------------------------------------------------------------------------------------ */
/* connect                                                                                    */
/* ------------------------------------------------------------------------------------------ */

enum cstate {
    C_FREE,
    C_CONNECTING, /* SYN sent, waiting for the handshake (EPOLLOUT) */
    C_ACTIVE,     /* connected: sending the payload and/or waiting for the reply */
    C_HOLD,       /* outcome decided; keeping the connection open --hold-ms */
    C_CLOSEWAIT,  /* --close server: waiting for the server's FIN before closing */
};

struct cslot {
    int fd;
    uint32_t gen;    /* bumped when the slot is freed: stale epoll events are ignored */
    uint8_t state;
    uint32_t events; /* current epoll interest; 0 = not in the epoll set */
    long long i;     /* attempt index */
    int64_t start;   /* mono_us when the attempt started */
    int64_t connect_us, reply_us; /* durations from start, -1 = not reached */
    int local_port;  /* -1 = the kernel never assigned one */
    long long sent, got; /* of the current request */
    long long round;     /* --requests: requests answered so far on this connection */
    int64_t round_start; /* mono_us when the current request's first byte was written */
    int64_t *lat;        /* --requests: each answered request's round trip, µs */
    bool shut;           /* --half-close: our FIN is sent (shutdown(SHUT_WR)) */
};

static struct {
    struct sockaddr_storage addr; /* AF_INET or AF_INET6, from --host */
    socklen_t addr_len;
    long long connections;
    int concurrency;
    double rate;
    int64_t connect_timeout_us, reply_timeout_us, hold_us, max_us; /* 0 = none */
    long long payload;
    bool expect_reply;
    bool close_server;
    bool udp, recverr, nodelay, split, half_close;
    long long requests;   /* request/reply rounds per connection (1 unless --requests) */
    bool requests_given;  /* report requestUs (only then: older output stays byte-identical) */
    bool keepalive;
    int ka_idle, ka_intvl, ka_cnt; /* seconds, seconds, probes */

    int ep, sfd;
    int64_t t0;
    struct cslot *s;
    int nslots;
    int *free_ids;
    int nfree;
    long long started, reported;
    int inflight;
    struct theap timers; /* one deadline per slot, whatever its state */
} C;

static int cmp_i64(const void *a, const void *b)
{
    int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;
    return (x > y) - (x < y);
}

/* Median of n round trips (sorts them in place; the upper one of the middle two). */
static int64_t median_us(int64_t *v, long long n)
{
    qsort(v, (size_t)n, sizeof *v, cmp_i64);
    return v[n / 2];
}

static void cli_interest(struct cslot *c, int id, uint32_t events)
{
    if (c->events == events)
        return;
    struct epoll_event ev = {.events = events};
    ev.data.u64 = ((uint64_t)c->gen << 32) | (uint32_t)id;
    int op = events == 0 ? EPOLL_CTL_DEL : c->events == 0 ? EPOLL_CTL_ADD : EPOLL_CTL_MOD;
    if (epoll_ctl(C.ep, op, c->fd, &ev) != 0)
        fatal("epoll_ctl");
    c->events = events;
}

/*
 * The attempt ends: report it, close the socket, free the slot. `drain` is for sockets that
 * connected: Linux sends RST instead of FIN when closing with unread data, and an echo we did
 * not ask for must not turn our ordinary close into a reset.
 */
static void cli_finish(int id, const char *outcome, const char *phase, bool drain)
{
    struct cslot *c = &C.s[id];
    char extra[128];
    int n = 0;
    extra[0] = '\0';
    if (c->connect_us >= 0)
        n += snprintf(extra + n, sizeof extra - (size_t)n, ",\"connectUs\":%" PRId64,
                      c->connect_us);
    if (c->reply_us >= 0)
        n += snprintf(extra + n, sizeof extra - (size_t)n, ",\"replyUs\":%" PRId64, c->reply_us);
    if (c->local_port > 0)
        n += snprintf(extra + n, sizeof extra - (size_t)n, ",\"localPort\":%d", c->local_port);
    if (C.requests_given && c->round > 0)
        snprintf(extra + n, sizeof extra - (size_t)n, ",\"requestUs\":%" PRId64,
                 median_us(c->lat, c->round));
    out_line("{\"ev\":\"attempt\",\"i\":%lld,\"startUs\":%" PRId64
             ",\"outcome\":\"%s\",\"phase\":\"%s\"%s}",
             c->i, c->start - C.t0, outcome, phase, extra);
    C.reported++;

    if (c->fd >= 0) {
        if (drain)
            for (int k = 0; k < 64; k++)
                if (recv(c->fd, io_buf, sizeof io_buf, MSG_DONTWAIT) <= 0)
                    break;
        /*
         * close() also leaves the epoll set. Closing a socket still in SYN_SENT just drops
         * it (no packet); closing a connected one sends FIN and — since we close first —
         * leaves it in TIME_WAIT on our side for 60 s, holding its local port.
         */
        close(c->fd);
    }
    theap_del(&C.timers, id);
    c->state = C_FREE;
    c->gen++;
    c->fd = -1;
    c->events = 0;
    C.free_ids[C.nfree++] = id;
    C.inflight--;
}

static void cli_begin_close(int id, int64_t now)
{
    struct cslot *c = &C.s[id];
    if (!C.close_server) {
        cli_finish(id, "connected", "done", true);
        return;
    }
    /*
     * Let the server close first: wait for its FIN (read returns 0), then close. The side
     * that sends the first FIN is the one that ends in TIME_WAIT — here, the server.
     */
    c->state = C_CLOSEWAIT;
    cli_interest(c, id, EPOLLIN | EPOLLRDHUP);
    if (C.reply_timeout_us > 0)
        theap_set(&C.timers, id, now + C.reply_timeout_us);
    else
        theap_del(&C.timers, id);
}

/* Payload sent and reply (if any) received: the attempt succeeded. Hold, then close. */
static void cli_done(int id, int64_t now)
{
    struct cslot *c = &C.s[id];
    if (C.hold_us > 0) {
        /*
         * Out of the epoll set while held: a level-triggered EPOLLHUP/EPOLLIN from a peer
         * that closes or resets meanwhile would otherwise wake us in a loop.
         */
        cli_interest(c, id, 0);
        c->state = C_HOLD;
        theap_set(&C.timers, id, now + C.hold_us);
        return;
    }
    cli_begin_close(id, now);
}

/* Push the payload and pull the reply as far as the socket allows without blocking. */
static void cli_progress(int id, int64_t now)
{
    struct cslot *c = &C.s[id];
next_request:
    while (c->sent < C.payload) {
        /*
         * --split-writes: the request goes out as two send() calls, its first half and then
         * the rest. With Nagle on, the second small write waits until the first is ACKed.
         */
        long long upto = C.split && c->sent < C.payload / 2 ? C.payload / 2 : C.payload;
        long long left = upto - c->sent;
        ssize_t w = send(c->fd, io_buf, left < IO_BUF ? (size_t)left : IO_BUF, MSG_NOSIGNAL);
        if (w > 0) {
            c->sent += w;
        } else if (errno == EAGAIN) {
            break;
        } else if (errno != EINTR) {
            cli_finish(id, errno_name(errno), "reply", false); /* EPIPE, ECONNRESET, … */
            return;
        }
    }
    long long need = C.payload > 0 ? C.payload : 1;
    while (C.expect_reply && c->got < need) {
        ssize_t r = recv(c->fd, io_buf, IO_BUF, 0);
        if (r > 0) {
            c->got += r;
        } else if (r == 0) {
            cli_finish(id, "EOF", "reply", false); /* the server closed before replying */
            return;
        } else if (errno == EAGAIN) {
            break;
        } else if (errno != EINTR) {
            cli_finish(id, errno_name(errno), "reply", false);
            return;
        }
    }
    bool sent_all = c->sent >= C.payload;
    bool have_reply = !C.expect_reply || c->got >= need;
    if (C.expect_reply && have_reply && c->reply_us < 0)
        c->reply_us = now - c->start;
    bool last = c->round + 1 >= C.requests;
    if (sent_all && last && C.half_close && !c->shut) {
        /* Our FIN goes out now; the peer can still send (its half stays open). */
        shutdown(c->fd, SHUT_WR);
        c->shut = true;
    }
    if (sent_all && have_reply) {
        /*
         * The clock now, not `now`: a later round's reply can arrive within this same call
         * (the peer answered on the other core while we looped), after `now` was taken.
         */
        if (C.requests_given)
            c->lat[c->round] = mono_us() - c->round_start;
        c->round++;
        if (!last) {
            c->sent = c->got = 0;
            c->round_start = now = mono_us();
            goto next_request;
        }
        cli_done(id, now);
        return;
    }
    cli_interest(c, id, (sent_all ? 0 : EPOLLOUT) | (have_reply ? 0 : EPOLLIN | EPOLLRDHUP));
}

static void cli_connected(int id, int64_t now)
{
    struct cslot *c = &C.s[id];
    c->connect_us = now - c->start;
    theap_del(&C.timers, id);
    if (C.payload == 0 && !C.expect_reply) {
        cli_done(id, now);
        return;
    }
    c->state = C_ACTIVE;
    c->round_start = now;
    if (C.reply_timeout_us > 0)
        theap_set(&C.timers, id, now + C.reply_timeout_us);
    cli_progress(id, now);
}

/*
 * --udp: one datagram of the payload per attempt, on a connected UDP socket. There is no
 * handshake: an output firewall's DROP comes back from send() at once as EPERM — where TCP
 * would retransmit and time out. A datagram dropped further down (no neighbour entry could be
 * created) fails send() with EINVAL before Linux 6.5 (and its stable backports); since then it
 * is ENOBUFS, which UDP swallows unless the socket asked for errors with IP_RECVERR (--recverr,
 * as ping does): without it send() succeeds and the datagram is gone (UdpSndbufErrors).
 */
static void cli_udp_send(int id, int64_t now)
{
    struct cslot *c = &C.s[id];
    long long len = C.payload < IO_BUF ? C.payload : IO_BUF;
    ssize_t w;
    do
        w = send(c->fd, io_buf, (size_t)len, MSG_NOSIGNAL);
    while (w < 0 && errno == EINTR);
    if (w < 0) {
        cli_finish(id, errno_name(errno), "connect", false);
        return;
    }
    c->connect_us = mono_us() - c->start;
    (void)now;
    cli_finish(id, "connected", "done", false);
}

/* --recverr, --nodelay, --keepalive: socket options set before connect(). 0, or the errno. */
static int cli_sockopts(int fd)
{
    int one = 1;
    if (C.udp)
        return C.recverr && (C.addr.ss_family == AF_INET6
                                 ? setsockopt(fd, IPPROTO_IPV6, IPV6_RECVERR, &one, sizeof one)
                                 : setsockopt(fd, IPPROTO_IP, IP_RECVERR, &one, sizeof one)) != 0
                   ? errno
                   : 0;
    if (C.nodelay && setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one) != 0)
        return errno;
    if (!C.keepalive)
        return 0;
    /*
     * Idle this many seconds, then a probe every intvl seconds; after cnt unanswered probes
     * the kernel aborts the connection with ETIMEDOUT (TcpExtTCPKeepAlive counts the probes).
     */
    if (setsockopt(fd, SOL_SOCKET, SO_KEEPALIVE, &one, sizeof one) != 0 ||
        setsockopt(fd, IPPROTO_TCP, TCP_KEEPIDLE, &C.ka_idle, sizeof C.ka_idle) != 0 ||
        setsockopt(fd, IPPROTO_TCP, TCP_KEEPINTVL, &C.ka_intvl, sizeof C.ka_intvl) != 0 ||
        setsockopt(fd, IPPROTO_TCP, TCP_KEEPCNT, &C.ka_cnt, sizeof C.ka_cnt) != 0)
        return errno;
    return 0;
}

static void cli_start(int64_t now)
{
    int id = C.free_ids[--C.nfree];
    struct cslot *c = &C.s[id];
    c->state = C_CONNECTING;
    c->events = 0;
    c->i = C.started++;
    c->start = now;
    c->connect_us = c->reply_us = -1;
    c->local_port = -1;
    c->sent = c->got = 0;
    c->round = 0;
    c->shut = false;
    C.inflight++;

    c->fd = socket(C.addr.ss_family, (C.udp ? SOCK_DGRAM : SOCK_STREAM) | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (c->fd < 0) {
        cli_finish(id, errno_name(errno), "connect", false); /* EMFILE, ENFILE, ENOBUFS */
        return;
    }
    int opt_err = cli_sockopts(c->fd);
    if (opt_err != 0) {
        cli_finish(id, errno_name(opt_err), "connect", false);
        return;
    }
    /*
     * A non-blocking connect() picks the local port and sends the SYN before returning
     * EINPROGRESS. Errors that need no packet come back right here: EADDRNOTAVAIL when every
     * ephemeral port to this destination is taken (TIME_WAIT included), ENETUNREACH with no
     * route, EPERM when an output firewall rule rejects it.
     */
    if (connect(c->fd, (struct sockaddr *)&C.addr, C.addr_len) == 0) {
        struct sockaddr_storage la;
        socklen_t len = sizeof la;
        if (getsockname(c->fd, (struct sockaddr *)&la, &len) == 0)
            c->local_port = sockaddr_port(&la);
        if (C.udp) {
            cli_udp_send(id, now);
            return;
        }
        c->state = C_ACTIVE;
        cli_connected(id, now);
        return;
    }
    if (errno != EINPROGRESS) {
        cli_finish(id, errno_name(errno), "connect", false);
        return;
    }
    /* The port is bound now: record it even if the handshake never completes. */
    struct sockaddr_storage la;
    socklen_t len = sizeof la;
    if (getsockname(c->fd, (struct sockaddr *)&la, &len) == 0)
        c->local_port = sockaddr_port(&la);
    /* EPOLLOUT fires when the handshake completes; EPOLLERR when it fails. */
    cli_interest(c, id, EPOLLOUT);
    if (C.connect_timeout_us > 0)
        theap_set(&C.timers, id, now + C.connect_timeout_us);
}

static void cli_on_event(int id, uint32_t gen, int64_t now)
{
    if (id >= C.nslots || C.s[id].gen != gen)
        return; /* the attempt ended earlier in this batch */
    struct cslot *c = &C.s[id];
    switch (c->state) {
    case C_CONNECTING: {
        /* The handshake's result: 0, or what the kernel saw (RST → ECONNREFUSED, ICMP, …). */
        int err = 0;
        socklen_t len = sizeof err;
        if (getsockopt(c->fd, SOL_SOCKET, SO_ERROR, &err, &len) != 0)
            err = errno;
        if (err != 0)
            cli_finish(id, errno_name(err), "connect", false);
        else
            cli_connected(id, now);
        break;
    }
    case C_ACTIVE:
        cli_progress(id, now);
        break;
    case C_CLOSEWAIT:
        for (int k = 0; k < 64; k++) {
            ssize_t r = recv(c->fd, io_buf, IO_BUF, 0);
            if (r > 0)
                continue; /* unexpected data: discard, keep waiting for the FIN */
            if (r < 0 && (errno == EAGAIN || errno == EINTR))
                return;
            /* FIN (0) or reset: the server has closed; our close now completes it. */
            cli_finish(id, "connected", "done", false);
            return;
        }
        break;
    default:
        break;
    }
}

static void cli_on_timer(int id, int64_t now)
{
    struct cslot *c = &C.s[id];
    theap_del(&C.timers, id);
    switch (c->state) {
    case C_CONNECTING:
        /* Our own deadline, not the kernel's: it was still retransmitting the SYN. */
        cli_finish(id, "timeout", "connect", false);
        break;
    case C_ACTIVE:
        cli_finish(id, C.expect_reply ? "noReply" : "timeout", "reply", true);
        break;
    case C_HOLD:
        cli_begin_close(id, now);
        break;
    case C_CLOSEWAIT:
        cli_finish(id, "connected", "done", true); /* no FIN in time: close anyway */
        break;
    default:
        break;
    }
}

/* --max-ms (or SIGTERM): end everything still in flight. */
static void cli_truncate(void)
{
    for (int id = 0; id < C.nslots; id++) {
        switch (C.s[id].state) {
        case C_CONNECTING:
            cli_finish(id, "timeout", "connect", false);
            break;
        case C_ACTIVE:
            cli_finish(id, "timeout", "reply", true);
            break;
        case C_HOLD:
        case C_CLOSEWAIT: /* already succeeded; only the hold/close was cut short */
            cli_finish(id, "connected", "done", true);
            break;
        default:
            break;
        }
    }
}

/* Attempts started per loop pass, and events taken per epoll_wait (see the loop). */
#define START_BATCH 16
#define MAX_EVENTS 128

/* How much start-schedule credit may pile up while concurrency is the bottleneck. */
#define RATE_BURST_US 2000.0

static int cmd_connect(int argc, char **argv)
{
    struct flag flags[] = {
        {"host", true, true, false, NULL},
        {"port", true, true, false, NULL},
        {"connections", true, true, false, NULL},
        {"concurrency", true, true, false, NULL},
        {"rate", true, true, false, NULL},
        {"connect-timeout-ms", true, true, false, NULL},
        {"payload-bytes", true, true, false, NULL},
        {"expect-reply", false, false, false, NULL},
        {"reply-timeout-ms", true, true, false, NULL},
        {"hold-ms", true, true, false, NULL},
        {"close", true, true, false, NULL},
        {"max-ms", true, true, false, NULL},
        {"udp", false, false, false, NULL},
        {"recverr", false, false, false, NULL},
        {"nodelay", false, false, false, NULL},
        {"split-writes", false, false, false, NULL},
        {"requests", true, false, false, NULL},
        {"half-close", false, false, false, NULL},
        {"keepalive", true, false, false, NULL},
    };
    const size_t nf = sizeof flags / sizeof flags[0];
    parse_flags("connect", argc, argv, flags, nf);

    const long long ms_max = INT64_MAX / 1000000;
    const char *host = flag_get(flags, nf, "host")->value;
    uint16_t dport =
        htons((uint16_t)parse_int("port", flag_get(flags, nf, "port")->value, 1, 65535));
    struct sockaddr_in *a4 = (struct sockaddr_in *)&C.addr;
    struct sockaddr_in6 *a6 = (struct sockaddr_in6 *)&C.addr;
    if (inet_pton(AF_INET, host, &a4->sin_addr) == 1) {
        a4->sin_family = AF_INET;
        a4->sin_port = dport;
        C.addr_len = sizeof *a4;
    } else if (inet_pton(AF_INET6, host, &a6->sin6_addr) == 1) {
        a6->sin6_family = AF_INET6;
        a6->sin6_port = dport;
        C.addr_len = sizeof *a6;
    } else
        usage_error("--host: expected an IPv4 or IPv6 address, got \"%s\"", host);
    C.connections =
        parse_int("connections", flag_get(flags, nf, "connections")->value, 0, LLONG_MAX);
    C.concurrency = (int)parse_int("concurrency", flag_get(flags, nf, "concurrency")->value, 1,
                                   INT_MAX / 4);
    const char *rate = flag_get(flags, nf, "rate")->value;
    char *end;
    C.rate = strtod(rate, &end);
    if (end == rate || *end != '\0' || !isfinite(C.rate) || C.rate < 0)
        usage_error("--rate: expected a number >= 0, got \"%s\"", rate);
    C.connect_timeout_us =
        parse_int("connect-timeout-ms", flag_get(flags, nf, "connect-timeout-ms")->value, 0,
                  ms_max) *
        1000;
    C.payload = parse_int("payload-bytes", flag_get(flags, nf, "payload-bytes")->value, 0,
                          LLONG_MAX);
    C.expect_reply = flag_get(flags, nf, "expect-reply")->seen;
    C.reply_timeout_us =
        parse_int("reply-timeout-ms", flag_get(flags, nf, "reply-timeout-ms")->value, 0,
                  ms_max) *
        1000;
    C.hold_us = parse_int("hold-ms", flag_get(flags, nf, "hold-ms")->value, 0, ms_max) * 1000;
    const char *close_by = flag_get(flags, nf, "close")->value;
    if (strcmp(close_by, "client") == 0)
        C.close_server = false;
    else if (strcmp(close_by, "server") == 0)
        C.close_server = true;
    else
        usage_error("--close: expected client or server, got \"%s\"", close_by);
    C.max_us = parse_int("max-ms", flag_get(flags, nf, "max-ms")->value, 0, ms_max) * 1000;
    C.udp = flag_get(flags, nf, "udp")->seen;
    C.recverr = flag_get(flags, nf, "recverr")->seen;
    if (C.recverr && !C.udp)
        usage_error("--recverr is for --udp (TCP reports send errors anyway)");
    C.nodelay = flag_get(flags, nf, "nodelay")->seen;
    C.split = flag_get(flags, nf, "split-writes")->seen;
    C.half_close = flag_get(flags, nf, "half-close")->seen;
    struct flag *reqs = flag_get(flags, nf, "requests");
    C.requests_given = reqs->seen;
    C.requests = reqs->seen ? parse_int("requests", reqs->value, 1, 10000) : 1;
    if (C.requests_given && !C.expect_reply)
        usage_error("--requests needs --expect-reply (a request is answered before the next)");
    if (C.udp && (C.expect_reply || C.requests_given || C.split || C.half_close ||
                  C.nodelay || C.close_server))
        usage_error("--udp sends one datagram per attempt: no reply, requests, split writes, "
                    "half-close, nodelay or server close");
    struct flag *ka = flag_get(flags, nf, "keepalive");
    if (ka->seen) {
        if (sscanf(ka->value, "%d,%d,%d", &C.ka_idle, &C.ka_intvl, &C.ka_cnt) != 3 ||
            C.ka_idle < 1 || C.ka_intvl < 1 || C.ka_cnt < 1 || C.ka_idle > 32767 ||
            C.ka_intvl > 32767 || C.ka_cnt > 127)
            usage_error("--keepalive: expected IDLE,INTVL,CNT (s, s, probes), got \"%s\"",
                        ka->value);
        C.keepalive = true;
    }

    raise_nofile();
    signal(SIGPIPE, SIG_IGN); /* we use MSG_NOSIGNAL, but stdout may be a pipe too */
    C.sfd = stop_signalfd();
    C.ep = epoll_create1(EPOLL_CLOEXEC);
    if (C.ep < 0)
        fatal("epoll_create1");
    struct epoll_event sev = {.events = EPOLLIN, .data.u64 = UINT64_MAX};
    if (epoll_ctl(C.ep, EPOLL_CTL_ADD, C.sfd, &sev) != 0)
        fatal("epoll_ctl");

    /* One slot per connection that can be in flight; never more than there are attempts. */
    C.nslots = C.connections < C.concurrency ? (int)C.connections : C.concurrency;
    C.s = xrealloc(NULL, (size_t)(C.nslots + 1) * sizeof *C.s);
    C.free_ids = xrealloc(NULL, (size_t)(C.nslots + 1) * sizeof *C.free_ids);
    for (int id = C.nslots - 1; id >= 0; id--) {
        C.s[id] = (struct cslot){.fd = -1, .state = C_FREE};
        if (C.requests_given)
            C.s[id].lat = xrealloc(NULL, (size_t)C.requests * sizeof *C.s[id].lat);
        C.free_ids[C.nfree++] = id;
    }
    memset(io_buf, 'x', sizeof io_buf); /* the payload: content does not matter */

    C.t0 = mono_us();
    out_line("{\"ev\":\"start\",\"epochMs\":%" PRId64 "}", realtime_ms());
    out_flush();

    const int64_t deadline = C.max_us > 0 ? C.t0 + C.max_us : INT64_MAX;
    /* Absolute start schedule: attempt k may start at t0 + k/R (R = 0: no limit). */
    const double interval = C.rate > 0 ? 1e6 / C.rate : 0;
    double next_slot = (double)C.t0;
    bool truncated = false;

    struct epoll_event evs[MAX_EVENTS];
    for (;;) {
        int64_t now = mono_us();
        if (now >= deadline) {
            cli_truncate();
            truncated = true;
            break;
        }
        int id = -1;
        while (theap_next(&C.timers, &id) <= now)
            cli_on_timer(id, now);

        /*
         * Start in small batches and go back to epoll between them: on loopback the whole
         * handshake runs inside our connect() call, and the connectUs of attempts already
         * established would otherwise include the time spent starting hundreds of others.
         */
        int batch = 0;
        while (C.started < C.connections && C.inflight < C.concurrency) {
            if (batch == START_BATCH)
                break;
            if (interval > 0) {
                /*
                 * When concurrency held us back, do not "catch up" with a burst: allow
                 * only a couple of ms of backlog (the timer resolution) on the schedule.
                 */
                if (next_slot < (double)now - RATE_BURST_US)
                    next_slot = (double)now - RATE_BURST_US;
                if ((double)now < next_slot)
                    break;
                next_slot += interval;
            }
            cli_start(now);
            batch++;
            now = mono_us();
        }
        if (C.started >= C.connections && C.inflight == 0)
            break;

        out_maybe_flush(now);
        int64_t until = theap_next(&C.timers, &id);
        if (out_deadline() < until)
            until = out_deadline();
        if (deadline < until)
            until = deadline;
        if (interval > 0 && C.started < C.connections && C.inflight < C.concurrency &&
            (int64_t)next_slot < until)
            until = (int64_t)next_slot + 1;
        if (batch == START_BATCH)
            until = now; /* more to start: only collect what is ready, then continue */

        int n = epoll_wait(C.ep, evs, (int)(sizeof evs / sizeof evs[0]), wait_ms(now, until));
        if (n < 0) {
            if (errno == EINTR)
                continue;
            fatal("epoll_wait");
        }
        bool stop = false;
        for (int k = 0; k < n; k++) {
            if (evs[k].data.u64 == UINT64_MAX) {
                stop = true; /* SIGTERM/SIGINT: finish like --max-ms, output stays complete */
                continue;
            }
            cli_on_event((int)(uint32_t)evs[k].data.u64, (uint32_t)(evs[k].data.u64 >> 32),
                         mono_us());
        }
        if (stop) {
            cli_truncate();
            truncated = true;
            break;
        }
    }
    /* Attempts never started are not reported; `truncated` says there were some. */
    if (C.started < C.connections)
        truncated = true;
    out_line("{\"ev\":\"done\",\"attempts\":%lld,\"elapsedUs\":%" PRId64 ",\"truncated\":%s}",
             C.reported, mono_us() - C.t0, truncated ? "true" : "false");
    out_flush();
    return 0;
}

/* ------------------------------------------------------------------------------------------ */

/*
 * synflood --host IPv6 --port P --count N: N bare SYNs (no options, window 64, random source
 * port and sequence number) from this node's own address, as `hping3 -S --faster` sends them
 * over IPv4 — hping3 has no IPv6. A raw socket (CAP_NET_RAW): the kernel builds the IPv6
 * header, picks the source address and, with IPV6_CHECKSUM, fills the TCP checksum.
 */
static int cmd_synflood(int argc, char **argv)
{
    struct flag flags[] = {
        {"host", true, true, false, NULL},
        {"port", true, true, false, NULL},
        {"count", true, true, false, NULL},
    };
    const size_t nf = sizeof flags / sizeof flags[0];
    parse_flags("synflood", argc, argv, flags, nf);
    const char *host = flag_get(flags, nf, "host")->value;
    struct sockaddr_in6 dst = {.sin6_family = AF_INET6};
    if (inet_pton(AF_INET6, host, &dst.sin6_addr) != 1)
        usage_error("--host: expected an IPv6 address, got \"%s\"", host);
    uint16_t port = (uint16_t)parse_int("port", flag_get(flags, nf, "port")->value, 1, 65535);
    long long count = parse_int("count", flag_get(flags, nf, "count")->value, 1, 1000000);

    int fd = socket(AF_INET6, SOCK_RAW | SOCK_CLOEXEC, IPPROTO_TCP);
    if (fd < 0)
        fatal("socket(AF_INET6, SOCK_RAW)");
    int csum_at = 16; /* offsetof(struct tcphdr, check) */
    if (setsockopt(fd, IPPROTO_IPV6, IPV6_CHECKSUM, &csum_at, sizeof csum_at) != 0)
        fatal("setsockopt(IPV6_CHECKSUM)");
    srandom((unsigned)(mono_us() ^ getpid()));
    long long sent = 0;
    for (long long i = 0; i < count; i++) {
        struct tcphdr th = {0};
        th.th_sport = htons((uint16_t)(1024 + random() % 64000));
        th.th_dport = htons(port);
        th.th_seq = htonl((uint32_t)random());
        th.th_off = 5;
        th.th_flags = TH_SYN;
        th.th_win = htons(64);
        for (;;) {
            if (sendto(fd, &th, sizeof th, 0, (struct sockaddr *)&dst, sizeof dst) == sizeof th) {
                sent++;
                break;
            }
            /* A full socket buffer or device queue: wait a little, as a paced sender would. */
            if (errno != ENOBUFS && errno != EAGAIN && errno != EINTR)
                fatal("sendto");
            struct timespec ts = {0, 100000};
            nanosleep(&ts, NULL);
        }
    }
    printf("{\"ev\":\"flood\",\"sent\":%lld}\n", sent);
    return 0;
}

/* ------------------------------------------------------------------------------------------ */

int main(int argc, char **argv)
{
    if (argc < 2)
        usage_error("missing subcommand");
    if (strcmp(argv[1], "-h") == 0 || strcmp(argv[1], "--help") == 0) {
        fputs(USAGE, stdout);
        return 0;
    }
    if (strcmp(argv[1], "hold") == 0)
        return cmd_hold(argc, argv);
    if (strcmp(argv[1], "serve") == 0)
        return cmd_serve(argc, argv);
    if (strcmp(argv[1], "connect") == 0)
        return cmd_connect(argc, argv);
    if (strcmp(argv[1], "synflood") == 0)
        return cmd_synflood(argc, argv);
    usage_error("unknown subcommand \"%s\"", argv[1]);
}
