/*
 * tcprepro-guest — PID 1 of a tcprepro VM: runs what the host asks, over one virtio-serial port.
 *
 * The host (src/vm/channel.ts) writes one request per line; every binary field is base64, an
 * empty field is "-". Requests are answered out of order, each reply line starting with the
 * request's id:
 *
 *   ID spawn STDIN ENV ARG0 ARG1 …   -> ID pid N | ID out B64 | ID err B64 | ID eof 1|2
 *                                       | ID exit CODE SIGNO USER_MS SYS_MS
 *                                         (after both eofs and the reap; the CPU it used)
 *                                       | ID errno N           (fork/exec failed)
 *   ID read PATH                      -> ID ok DATA | ID errno N
 *   ID write PATH DATA                -> ID ok - | ID errno N   (opened O_WRONLY|O_TRUNC, one write:
 *                                       a tracefs or /proc/sys file, no process started)
 *   ID readlink PATH                  -> ID ok TARGET | ID errno N
 *   ID readdir PATH                   -> ID ok NAMES (newline-separated) | ID errno N
 *   ID ino PATH                       -> ID ok INODE (decimal, not base64) | ID errno N
 *   ID kill PID SIGNO                 -> ID ok - | ID errno N
 *   ID ping                           -> ID ok -
 *   ID clock DELTA_US                 -> ID ok NOW_US | ID errno N
 *                                       (CLOCK_REALTIME moved by DELTA_US, decimal and signed,
 *                                       then read: the host puts the guest on its own clock)
 *
 * ENV is "K=V\n…" added to the environment. Every spawned process gets its own session (a
 * signal to the guest's console reaches none of them) and default signal dispositions.
 * As PID 1 it reaps every orphan; exit statuses of processes nobody asked about are dropped.
 *
 * Build: gcc -O2 -Wall -Wextra -static -o build/tcprepro-guest images/agent/tcprepro-guest.c
 */
#define _GNU_SOURCE
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/signalfd.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define MAX_JOBS 256
#define MAX_ARGS 256

struct job {
    bool used;
    long id;
    pid_t pid;
    int out, err; /* -1 once at EOF */
    bool reaped;
    int code, signo;
    long user_ms, sys_ms;
};

static struct job jobs[MAX_JOBS];
static int port = -1;

static void die(const char *what)
{
    perror(what);
    exit(1);
}

/* ---- base64 ------------------------------------------------------------------------------ */

static const char B64[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

static char *b64_encode(const unsigned char *in, size_t n)
{
    char *out = malloc(n / 3 * 4 + 8), *p = out;
    if (!out)
        die("malloc");
    if (n == 0) {
        strcpy(out, "-");
        return out;
    }
    size_t i = 0;
    for (; i + 2 < n; i += 3) {
        uint32_t v = (uint32_t)in[i] << 16 | (uint32_t)in[i + 1] << 8 | in[i + 2];
        *p++ = B64[v >> 18], *p++ = B64[v >> 12 & 63], *p++ = B64[v >> 6 & 63], *p++ = B64[v & 63];
    }
    if (i < n) {
        uint32_t v = (uint32_t)in[i] << 16 | (i + 1 < n ? (uint32_t)in[i + 1] << 8 : 0);
        *p++ = B64[v >> 18], *p++ = B64[v >> 12 & 63];
        *p++ = i + 1 < n ? B64[v >> 6 & 63] : '=';
        *p++ = '=';
    }
    *p = 0;
    return out;
}

/* Decodes in place; returns the length. "-" is the empty string. */
static size_t b64_decode(char *s)
{
    if (strcmp(s, "-") == 0) {
        s[0] = 0;
        return 0;
    }
    size_t n = 0;
    uint32_t v = 0;
    int bits = 0;
    for (char *p = s; *p && *p != '='; p++) {
        const char *c = strchr(B64, *p);
        if (!c)
            continue;
        v = v << 6 | (uint32_t)(c - B64);
        bits += 6;
        if (bits >= 8) {
            bits -= 8;
            s[n++] = (char)(v >> bits & 255);
        }
    }
    s[n] = 0;
    return n;
}

/* ---- replies ----------------------------------------------------------------------------- */

static void write_all(const char *buf, size_t n)
{
    while (n > 0) {
        ssize_t w = write(port, buf, n);
        if (w < 0) {
            if (errno == EINTR)
                continue;
            if (errno == EAGAIN) {
                struct pollfd p = {port, POLLOUT, 0};
                poll(&p, 1, 100);
                continue;
            }
            return; /* host gone: nothing to tell */
        }
        buf += w, n -= (size_t)w;
    }
}

static void reply(long id, const char *kind, const char *payload)
{
    size_t n = strlen(payload) + 64;
    char *line = malloc(n);
    if (!line)
        die("malloc");
    int len = snprintf(line, n, "%ld %s %s\n", id, kind, payload);
    write_all(line, (size_t)len);
    free(line);
}

static void reply_data(long id, const char *kind, const void *data, size_t n)
{
    char *b = b64_encode(data, n);
    reply(id, kind, b);
    free(b);
}

static void reply_errno(long id, int err)
{
    char s[16];
    snprintf(s, sizeof s, "%d", err);
    reply(id, "errno", s);
}

/* ---- requests ---------------------------------------------------------------------------- */

static void do_spawn(long id, char **f, int nf)
{
    if (nf < 3) {
        reply_errno(id, EINVAL);
        return;
    }
    struct job *j = NULL;
    for (int i = 0; i < MAX_JOBS && !j; i++)
        if (!jobs[i].used)
            j = &jobs[i];
    if (!j) {
        reply_errno(id, EAGAIN);
        return;
    }
    size_t in_len = b64_decode(f[0]);
    b64_decode(f[1]);
    char *argv[MAX_ARGS + 1];
    int argc = 0;
    for (int i = 2; i < nf && argc < MAX_ARGS; i++) {
        b64_decode(f[i]);
        argv[argc++] = f[i];
    }
    argv[argc] = NULL;
    int in[2] = {-1, -1}, out[2], err[2];
    if ((in_len > 0 && pipe2(in, O_CLOEXEC) < 0) || pipe2(out, O_CLOEXEC) < 0 ||
        pipe2(err, O_CLOEXEC) < 0) {
        reply_errno(id, errno);
        return;
    }
    pid_t pid = fork();
    if (pid < 0) {
        reply_errno(id, errno);
        return;
    }
    if (pid == 0) {
        sigset_t none;
        sigemptyset(&none);
        sigprocmask(SIG_SETMASK, &none, NULL);
        setsid();
        int null = open("/dev/null", O_RDONLY);
        dup2(in_len > 0 ? in[0] : null, 0);
        dup2(out[1], 1);
        dup2(err[1], 2);
        for (char *e = strtok(f[1], "\n"); e; e = strtok(NULL, "\n"))
            putenv(e);
        execvp(argv[0], argv);
        dprintf(2, "%s: %s\n", argv[0], strerror(errno));
        _exit(127);
    }
    close(out[1]);
    close(err[1]);
    if (in_len > 0) {
        close(in[0]);
        /* Small inputs (ip -batch lines): the pipe's buffer takes them whole. */
        if (write(in[1], f[0], in_len) < 0)
            perror("guest: stdin");
        close(in[1]);
    }
    fcntl(out[0], F_SETFL, O_NONBLOCK);
    fcntl(err[0], F_SETFL, O_NONBLOCK);
    *j = (struct job){true, id, pid, out[0], err[0], false, 0, 0, 0, 0};
    char s[16];
    snprintf(s, sizeof s, "%d", pid);
    reply(id, "pid", s);
}

static void do_read(long id, const char *path)
{
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0) {
        reply_errno(id, errno);
        return;
    }
    size_t cap = 65536, n = 0;
    char *buf = malloc(cap);
    for (;;) {
        if (n == cap && !(buf = realloc(buf, cap *= 2)))
            die("realloc");
        ssize_t r = read(fd, buf + n, cap - n);
        if (r < 0 && errno == EINTR)
            continue;
        if (r < 0) {
            reply_errno(id, errno);
            close(fd);
            free(buf);
            return;
        }
        if (r == 0)
            break;
        n += (size_t)r;
    }
    close(fd);
    reply_data(id, "ok", buf, n);
    free(buf);
}

static void do_readdir(long id, const char *path)
{
    DIR *d = opendir(path);
    if (!d) {
        reply_errno(id, errno);
        return;
    }
    size_t cap = 4096, n = 0;
    char *buf = malloc(cap);
    struct dirent *e;
    while ((e = readdir(d))) {
        if (strcmp(e->d_name, ".") == 0 || strcmp(e->d_name, "..") == 0)
            continue;
        size_t l = strlen(e->d_name);
        while (n + l + 2 > cap)
            if (!(buf = realloc(buf, cap *= 2)))
                die("realloc");
        memcpy(buf + n, e->d_name, l);
        n += l;
        buf[n++] = '\n';
    }
    closedir(d);
    reply_data(id, "ok", buf, n > 0 ? n - 1 : 0);
    free(buf);
}

static void handle(char *line)
{
    char *f[MAX_ARGS + 8];
    int nf = 0;
    for (char *t = strtok(line, " "); t && nf < MAX_ARGS + 8; t = strtok(NULL, " "))
        f[nf++] = t;
    if (nf < 2)
        return;
    long id = strtol(f[0], NULL, 10);
    const char *op = f[1];
    char s[32];
    if (strcmp(op, "ping") == 0) {
        reply(id, "ok", "-");
    } else if (strcmp(op, "spawn") == 0) {
        do_spawn(id, f + 2, nf - 2);
    } else if (nf < 3) {
        reply_errno(id, EINVAL);
    } else if (strcmp(op, "read") == 0) {
        b64_decode(f[2]);
        do_read(id, f[2]);
    } else if (strcmp(op, "write") == 0 && nf >= 4) {
        b64_decode(f[2]);
        size_t n = b64_decode(f[3]);
        int fd = open(f[2], O_WRONLY | O_TRUNC | O_CLOEXEC);
        ssize_t w = fd < 0 ? -1 : write(fd, f[3], n);
        int err = errno;
        if (fd >= 0)
            close(fd);
        if (w < 0 || (size_t)w != n)
            reply_errno(id, w < 0 ? err : EIO);
        else
            reply(id, "ok", "-");
    } else if (strcmp(op, "readdir") == 0) {
        b64_decode(f[2]);
        do_readdir(id, f[2]);
    } else if (strcmp(op, "readlink") == 0) {
        char target[4096];
        b64_decode(f[2]);
        ssize_t n = readlink(f[2], target, sizeof target);
        if (n < 0)
            reply_errno(id, errno);
        else
            reply_data(id, "ok", target, (size_t)n);
    } else if (strcmp(op, "ino") == 0) {
        struct stat st;
        b64_decode(f[2]);
        if (stat(f[2], &st) < 0) {
            reply_errno(id, errno);
        } else {
            snprintf(s, sizeof s, "%llu", (unsigned long long)st.st_ino);
            reply(id, "ok", s);
        }
    } else if (strcmp(op, "clock") == 0) {
        /* One step, here, rather than `date -s` (an exec over 9p): the error stays microseconds. */
        struct timespec now;
        long long delta = strtoll(f[2], NULL, 10);
        clock_gettime(CLOCK_REALTIME, &now);
        if (delta != 0) {
            long long us = (long long)now.tv_sec * 1000000LL + now.tv_nsec / 1000 + delta;
            struct timespec set = {.tv_sec = us / 1000000LL, .tv_nsec = (us % 1000000LL) * 1000};
            if (clock_settime(CLOCK_REALTIME, &set) < 0) {
                reply_errno(id, errno);
                return;
            }
            clock_gettime(CLOCK_REALTIME, &now);
        }
        snprintf(s, sizeof s, "%lld", (long long)now.tv_sec * 1000000LL + now.tv_nsec / 1000);
        reply(id, "ok", s);
    } else if (strcmp(op, "kill") == 0 && nf >= 4) {
        if (kill((pid_t)atoi(f[2]), atoi(f[3])) < 0)
            reply_errno(id, errno);
        else
            reply(id, "ok", "-");
    } else {
        reply_errno(id, ENOSYS);
    }
}

/* ---- the loop ---------------------------------------------------------------------------- */

static void finish_if_done(struct job *j)
{
    if (!j->used || j->out >= 0 || j->err >= 0 || !j->reaped)
        return;
    char s[96];
    snprintf(s, sizeof s, "%d %d %ld %ld", j->code, j->signo, j->user_ms, j->sys_ms);
    reply(j->id, "exit", s);
    j->used = false;
}

/* Forward what a pipe has; at EOF say so and close it. */
static void drain(struct job *j, int *fd, int which)
{
    char buf[32768];
    for (;;) {
        ssize_t r = read(*fd, buf, sizeof buf);
        if (r > 0) {
            reply_data(j->id, which == 1 ? "out" : "err", buf, (size_t)r);
            continue;
        }
        if (r < 0 && (errno == EAGAIN || errno == EINTR))
            return;
        close(*fd);
        *fd = -1;
        reply(j->id, "eof", which == 1 ? "1" : "2");
        return;
    }
}

static void reap(void)
{
    int status;
    pid_t pid;
    struct rusage ru;
    while ((pid = wait4(-1, &status, WNOHANG, &ru)) > 0) {
        for (int i = 0; i < MAX_JOBS; i++) {
            struct job *j = &jobs[i];
            if (!j->used || j->pid != pid || j->reaped)
                continue;
            j->reaped = true;
            j->code = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
            j->signo = WIFSIGNALED(status) ? WTERMSIG(status) : 0;
            j->user_ms = ru.ru_utime.tv_sec * 1000L + ru.ru_utime.tv_usec / 1000;
            j->sys_ms = ru.ru_stime.tv_sec * 1000L + ru.ru_stime.tv_usec / 1000;
        }
    }
}

int main(int argc, char **argv)
{
    if (argc != 2) {
        fprintf(stderr, "usage: tcprepro-guest /dev/vportNpM\n");
        return 2;
    }
    port = open(argv[1], O_RDWR | O_CLOEXEC | O_NONBLOCK);
    if (port < 0)
        die(argv[1]);
    sigset_t chld;
    sigemptyset(&chld);
    sigaddset(&chld, SIGCHLD);
    sigprocmask(SIG_BLOCK, &chld, NULL);
    int sfd = signalfd(-1, &chld, SFD_NONBLOCK | SFD_CLOEXEC);
    if (sfd < 0)
        die("signalfd");

    size_t cap = 1 << 16, len = 0;
    char *in = malloc(cap);
    struct pollfd p[2 + 2 * MAX_JOBS];
    struct job *owner[2 + 2 * MAX_JOBS];
    for (;;) {
        int n = 0;
        p[n++] = (struct pollfd){port, POLLIN, 0};
        p[n++] = (struct pollfd){sfd, POLLIN, 0};
        for (int i = 0; i < MAX_JOBS; i++) {
            if (!jobs[i].used)
                continue;
            if (jobs[i].out >= 0)
                owner[n] = &jobs[i], p[n++] = (struct pollfd){jobs[i].out, POLLIN, 0};
            if (jobs[i].err >= 0)
                owner[n] = &jobs[i], p[n++] = (struct pollfd){jobs[i].err, POLLIN, 0};
        }
        if (poll(p, (nfds_t)n, -1) < 0) {
            if (errno == EINTR)
                continue;
            die("poll");
        }
        for (int i = 2; i < n; i++) {
            if (!p[i].revents)
                continue;
            struct job *j = owner[i];
            if (p[i].fd == j->out)
                drain(j, &j->out, 1);
            else if (p[i].fd == j->err)
                drain(j, &j->err, 2);
        }
        if (p[1].revents) {
            struct signalfd_siginfo si;
            while (read(sfd, &si, sizeof si) > 0)
                ;
            reap();
        }
        for (int i = 0; i < MAX_JOBS; i++)
            finish_if_done(&jobs[i]);
        if (p[0].revents & POLLIN) {
            for (;;) {
                if (cap - len < 4096 && !(in = realloc(in, cap *= 2)))
                    die("realloc");
                ssize_t r = read(port, in + len, cap - len - 1);
                if (r <= 0)
                    break;
                len += (size_t)r;
            }
            char *start = in, *nl;
            while ((nl = memchr(start, '\n', len - (size_t)(start - in)))) {
                *nl = 0;
                handle(start);
                start = nl + 1;
            }
            len -= (size_t)(start - in);
            memmove(in, start, len);
        } else if (p[0].revents & POLLHUP) {
            /* No host connected (yet, or any more): wait for one without spinning. */
            usleep(100000);
        }
    }
}
