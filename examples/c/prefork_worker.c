/*
 * A prefork worker in C, written from PROTOCOL.md alone: it connects to the supervisor, receives the
 * listening sockets with SCM_RIGHTS, serves a hello page over HTTP/1.0 on them, says READY, sends
 * heartbeats, and drains on STOP, on SIGTERM/SIGINT or when the supervisor is gone. One thread, one
 * poll() loop, one request per connection. Build and run it under prefork:
 *
 *     cc -O2 -o prefork_worker examples/c/prefork_worker.c
 *     scripts/prefork -w 2 --worker-command ./prefork_worker
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#define MAX_LINE 4096
#define MAX_FDS 64
/* PROTOCOL.md's exit codes */
#define USAGE 2
#define NO_SUPERVISOR 12

static int control = -1;
static int listeners[MAX_FDS];
static int nlisteners;
static char buffer[MAX_LINE];
static size_t buffered;
static long requests;
static volatile sig_atomic_t signalled;

static void say(const char *format, ...) {
    char text[512];
    va_list args;
    va_start(args, format);
    vsnprintf(text, sizeof text, format, args);
    va_end(args);
    struct timespec now;
    clock_gettime(CLOCK_REALTIME, &now);
    char stamp[32];
    strftime(stamp, sizeof stamp, "%Y-%m-%dT%H:%M:%S", gmtime(&now.tv_sec));
    const char *id = getenv("PREFORK_WORKER_ID");
    fprintf(stderr, "%s.%03ldZ prefork c worker %s (pid %d): %s\n", stamp, now.tv_nsec / 1000000,
            id ? id : "0", (int) getpid(), text);
}

static void die(int code, const char *what) {
    say("%s: %s", what, strerror(errno));
    exit(code);
}

/* One line to the supervisor; a failure means it is gone, which the read side notices. */
static void send_line(const char *line) {
    size_t len = strlen(line), done = 0;
    while (done < len) {
        ssize_t n = send(control, line + done, len - done, MSG_NOSIGNAL);
        if (n < 0 && errno == EINTR) continue;
        if (n <= 0) return;
        done += (size_t) n;
    }
}

/*
 * The next line from the supervisor into `line` (NUL-terminated, no newline); fds that came with it
 * are appended to listeners. Returns 0 at end of stream, -1 on error.
 */
static int receive_line(char *line) {
    for (;;) {
        char *newline = memchr(buffer, '\n', buffered);
        if (newline) {
            size_t len = (size_t) (newline - buffer);
            memcpy(line, buffer, len);
            line[len] = '\0';
            buffered -= len + 1;
            memmove(buffer, newline + 1, buffered);
            return 1;
        }
        if (buffered == sizeof buffer) return -1;
        char cmsg[CMSG_SPACE(sizeof(int) * MAX_FDS)];
        struct iovec iov = {buffer + buffered, sizeof buffer - buffered};
        struct msghdr msg = {.msg_iov = &iov, .msg_iovlen = 1, .msg_control = cmsg, .msg_controllen = sizeof cmsg};
        ssize_t n = recvmsg(control, &msg, MSG_CMSG_CLOEXEC);
        if (n < 0 && errno == EINTR) continue;
        if (n < 0 || (msg.msg_flags & MSG_CTRUNC)) return -1;
        if (n == 0) return 0;
        for (struct cmsghdr *c = CMSG_FIRSTHDR(&msg); c; c = CMSG_NXTHDR(&msg, c)) {
            if (c->cmsg_level == SOL_SOCKET && c->cmsg_type == SCM_RIGHTS) {
                int count = (int) ((c->cmsg_len - CMSG_LEN(0)) / sizeof(int));
                for (int i = 0; i < count && nlisteners < MAX_FDS; i++) {
                    memcpy(&listeners[nlisteners++], CMSG_DATA(c) + i * sizeof(int), sizeof(int));
                }
            }
        }
        buffered += (size_t) n;
    }
}

static long now_ms(void) {
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return t.tv_sec * 1000 + t.tv_nsec / 1000000;
}

/* Reads the request head (bounded by a 5 s wait) and answers; one request per connection. */
static void serve(int client) {
    char request[4096];
    size_t got = 0;
    struct pollfd p = {client, POLLIN, 0};
    while (got < sizeof request - 1 && poll(&p, 1, 5000) > 0) {
        ssize_t n = read(client, request + got, sizeof request - 1 - got);
        if (n <= 0) break;
        got += (size_t) n;
        request[got] = '\0';
        if (strstr(request, "\r\n\r\n") || strstr(request, "\n\n")) {
            const char *body = "Hello from C\n";
            char head[256];
            int len = snprintf(head, sizeof head, "HTTP/1.0 200 OK\r\nContent-Type: text/plain\r\n"
                    "X-Worker-Pid: %d\r\nContent-Length: %zu\r\nConnection: close\r\n\r\n%s",
                    (int) getpid(), strlen(body), body);
            if (write(client, head, (size_t) len) == len) requests++;
            break;
        }
    }
    close(client);
}

static void on_signal(int sig) {
    signalled = sig;
}

int main(void) {
    const char *path = getenv("PREFORK_CONTROL_SOCKET");
    const char *token = getenv("PREFORK_TOKEN");
    if (!path || !token) {
        fprintf(stderr, "prefork c worker: the supervisor starts this program (missing PREFORK_CONTROL_SOCKET)\n");
        return USAGE;
    }
    long heartbeat = getenv("PREFORK_HEARTBEAT_MS") ? atol(getenv("PREFORK_HEARTBEAT_MS")) : 1000;
    struct sigaction sa = {.sa_handler = on_signal};
    sigaction(SIGTERM, &sa, NULL);
    sigaction(SIGINT, &sa, NULL);

    struct sockaddr_un address = {.sun_family = AF_UNIX};
    if (strlen(path) >= sizeof address.sun_path) { errno = ENAMETOOLONG; die(NO_SUPERVISOR, "control socket"); }
    strcpy(address.sun_path, path);
    control = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (control < 0 || connect(control, (struct sockaddr *) &address, sizeof address) < 0) {
        die(NO_SUPERVISOR, "connect to the supervisor");
    }
    char line[MAX_LINE];
    snprintf(line, sizeof line, "HELLO %s\n", token);
    send_line(line);
    int got = receive_line(line);
    while (got > 0 && strcmp(line, "SPARE") == 0) {
        say("a hot spare: waiting for PROMOTE");
        got = receive_line(line);
        if (got > 0 && strncmp(line, "PROMOTE ", 8) != 0) got = -1;
    }
    if (got <= 0 || (strncmp(line, "FDS ", 4) != 0 && strncmp(line, "PROMOTE ", 8) != 0) || nlisteners == 0) {
        say("no listeners from the supervisor");
        return NO_SUPERVISOR;
    }
    /* The fds arrive blocking, and share their open file description, O_NONBLOCK included, with the
     * supervisor and the other workers. Another worker may take the connection poll() announced, so
     * accept must not block: set O_NONBLOCK (every worker of one supervisor runs this program; a Java
     * worker's blocking accept copes with it too) and expect EAGAIN. */
    for (int i = 0; i < nlisteners; i++) {
        if (fcntl(listeners[i], F_SETFL, fcntl(listeners[i], F_GETFL) | O_NONBLOCK) < 0) die(NO_SUPERVISOR, "fcntl");
    }
    say("serving on %d listener(s)", nlisteners);
    send_line("READY\n");

    long stop_at = -1; /* when STOP came: stop accepting, finish, exit */
    long next_beat = now_ms() + heartbeat;
    for (;;) {
        if (signalled && stop_at < 0) {
            say("stopping: signal %d", (int) signalled);
            stop_at = now_ms();
        }
        if (stop_at >= 0) {
            say("stopped after %ld requests", requests);
            return 0; /* every request is answered before poll() is reached again */
        }
        struct pollfd fds[MAX_FDS + 1];
        fds[0] = (struct pollfd) {control, POLLIN, 0};
        for (int i = 0; i < nlisteners; i++) fds[i + 1] = (struct pollfd) {listeners[i], POLLIN, 0};
        long wait = next_beat - now_ms();
        int ready = poll(fds, (nfds_t) nlisteners + 1, wait < 0 ? 0 : (int) wait);
        if (ready < 0 && errno != EINTR) die(1, "poll");
        if (now_ms() >= next_beat) {
            snprintf(line, sizeof line, "HEARTBEAT %ld\n", requests);
            send_line(line);
            next_beat = now_ms() + heartbeat;
        }
        if (ready <= 0) continue;
        if (fds[0].revents) {
            got = receive_line(line);
            if (got <= 0) {
                say("the supervisor is gone");
                stop_at = now_ms();
                continue;
            }
            if (strncmp(line, "STOP", 4) == 0) {
                say("stopping: the supervisor asked");
                stop_at = now_ms();
                continue;
            }
        }
        for (int i = 0; i < nlisteners; i++) {
            if (fds[i + 1].revents & POLLIN) {
                int client = accept4(listeners[i], NULL, NULL, SOCK_CLOEXEC);
                if (client >= 0) {
                    serve(client);
                }
                /* EAGAIN: another worker took it (the socket is shared) */
            }
        }
    }
}
