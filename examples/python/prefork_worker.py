#!/usr/bin/env python3
"""A prefork worker in Python, with nothing but the standard library.

The second implementation of PROTOCOL.md (the Java worker library is the first): it connects to the
supervisor, receives the listening sockets with SCM_RIGHTS, serves a hello page over HTTP on them,
says READY, sends heartbeats, and drains on STOP. Run it under prefork:

    scripts/prefork -w 2 --worker-command "python3 examples/python/prefork_worker.py"
"""
import datetime
import os
import signal
import socket
import sys
import threading
import time
import urllib.parse
from http.server import BaseHTTPRequestHandler, HTTPServer
from socketserver import ThreadingMixIn

MAX_LINE = 4096
MAX_FDS = 64
# PROTOCOL.md's exit codes
USAGE, NO_SUPERVISOR, STOP_TIMEOUT = 2, 12, 13


def log(message):
    now = datetime.datetime.now(datetime.timezone.utc).isoformat().replace("+00:00", "Z")
    worker = os.environ.get("PREFORK_WORKER_ID", "0")
    print(f"{now} prefork python worker {worker} (pid {os.getpid()}): {message}", file=sys.stderr, flush=True)


def escape(arg):
    return arg.replace("%", "%25").replace(" ", "%20").replace("\n", "%0A").replace("\r", "%0D")


class Control:
    """The control connection: lines out, lines (and fds) in. One thread reads; any thread sends."""

    def __init__(self, path):
        self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        self.sock.connect(path)
        self.buffer = b""
        self.fds = []
        self.lock = threading.Lock()

    def send(self, kind, *args):
        line = " ".join([kind] + [escape(str(a)) for a in args]) + "\n"
        with self.lock:
            self.sock.sendall(line.encode())

    def receive(self):
        """The next message as (type, [args]), or None at end of stream; its fds go to self.fds."""
        while b"\n" not in self.buffer:
            if len(self.buffer) >= MAX_LINE:
                raise ValueError("control line too long")
            data, fds, flags, _ = socket.recv_fds(self.sock, MAX_LINE, MAX_FDS)
            if flags & socket.MSG_CTRUNC:
                raise ValueError("control data truncated")
            self.fds.extend(fds)
            if not data:
                return None
            self.buffer += data
        line, self.buffer = self.buffer.split(b"\n", 1)
        words = line.decode().split(" ")
        return words[0], [urllib.parse.unquote(w) for w in words[1:]]

    def take_fds(self):
        fds, self.fds = self.fds, []
        return fds


class Hello(BaseHTTPRequestHandler):
    """GET / says hello; GET /sleep?ms=N answers after N ms. One request per connection."""

    def do_GET(self):
        url = urllib.parse.urlsplit(self.path)
        if url.path == "/sleep":
            ms = int(urllib.parse.parse_qs(url.query).get("ms", ["1000"])[0])
            time.sleep(ms / 1000)
            body = f"slept {ms} ms\n"
        else:
            body = os.environ.get("HELLO_GREETING", "Hello from Python") + "\n"
        data = body.encode()
        self.send_response(200)
        self.send_header("Content-Type", "text/plain; charset=utf-8")
        self.send_header("Content-Length", str(len(data)))
        self.send_header("X-Worker-Pid", str(os.getpid()))
        self.send_header("Connection", "close")
        self.end_headers()
        self.wfile.write(data)
        self.server.worker.request_done()

    def log_message(self, fmt, *args):
        pass  # no access log: the supervisor's log is for events


class Server(ThreadingMixIn, HTTPServer):
    daemon_threads = False  # server_close() waits for requests in flight: that is the drain
    block_on_close = True


class Worker:
    def __init__(self, control):
        self.control = control
        self.servers = []
        self.requests = 0
        self.max_requests = int(os.environ.get("PREFORK_MAX_REQUESTS", "0"))
        self.recycle_asked = False
        self.lock = threading.Lock()
        self.stopping = threading.Event()

    def serve(self, fds):
        for fd in fds:
            server = Server(("127.0.0.1", 0), Hello, bind_and_activate=False)
            server.socket.close()
            server.socket = socket.socket(fileno=fd)  # family and type come from the fd
            # Every worker accepts on this same socket, so another may win the connection we were
            # woken for: a blocking accept() would then hang, and shutdown() with it. Non-blocking,
            # it fails with EAGAIN and serve_forever() goes back to waiting. (The flag is shared
            # with every process holding the socket; the JDK's blocking accept copes with it too.)
            server.socket.setblocking(False)
            server.worker = self
            self.servers.append(server)
            threading.Thread(target=server.serve_forever, name="http", daemon=True).start()

    def request_done(self):
        with self.lock:
            self.requests += 1
            n = self.requests
            recycle = self.max_requests and n >= self.max_requests and not self.recycle_asked
            self.recycle_asked = self.recycle_asked or bool(recycle)
        if recycle:
            self.quietly("RECYCLE", n)

    def quietly(self, kind, *args):
        try:
            self.control.send(kind, *args)
        except OSError as e:
            log(f"could not send {kind}: {e}")

    def heartbeats(self, every):
        while not self.stopping.wait(every):
            self.quietly("HEARTBEAT", self.requests)

    def stop(self, millis, why):
        """Stop accepting, let requests in flight finish, exit 0; halt with 13 if that overruns."""
        if self.stopping.is_set():
            return
        self.stopping.set()
        log(f"stopping: {why}; {millis} ms to finish")
        timer = threading.Timer(millis / 1000 + 2, lambda: os._exit(STOP_TIMEOUT))
        timer.daemon = True
        timer.start()

        def drain():
            for server in self.servers:
                server.shutdown()      # no more accept()
                server.server_close()  # close our copy of the socket; join the request threads
            log("stopped")
            os._exit(0)

        threading.Thread(target=drain, name="drain").start()


def main():
    path = os.environ.get("PREFORK_CONTROL_SOCKET")
    if not path:
        print("prefork python worker: the supervisor starts this (no PREFORK_CONTROL_SOCKET)", file=sys.stderr)
        sys.exit(USAGE)
    try:
        control = Control(path)
        control.send("HELLO", os.environ.get("PREFORK_TOKEN", ""))
        first = control.receive()
        while first is not None and first[0] == "SPARE":  # a hot spare: the sockets come with PROMOTE
            first = control.receive()
            if first is not None and first[0] == "PROMOTE":
                os.environ["PREFORK_WORKER_ID"] = first[1][0]
                first = ("FDS", first[1][1:])
        if first is None or first[0] != "FDS":
            raise OSError(f"expected FDS, got {first}")
        fds = control.take_fds()
        if len(fds) != len(first[1]) or not fds:
            raise OSError(f"{len(first[1])} listeners named but {len(fds)} fds arrived")
    except (OSError, ValueError) as e:
        log(f"cannot start: {e}")
        sys.exit(NO_SUPERVISOR)
    worker = Worker(control)
    worker.serve(fds)
    graceful = int(os.environ.get("PREFORK_GRACEFUL_TIMEOUT_MS", "30000"))
    for sig in (signal.SIGTERM, signal.SIGINT):
        signal.signal(sig, lambda s, f: worker.stop(graceful, signal.Signals(s).name))
    control.send("READY")
    log(f"ready: serving {' '.join(first[1])}")
    every = int(os.environ.get("PREFORK_HEARTBEAT_MS", "1000")) / 1000
    threading.Thread(target=worker.heartbeats, args=(every,), name="heartbeat", daemon=True).start()

    why = "the supervisor is gone (control socket closed)"
    try:
        while (message := control.receive()) is not None:
            kind, args = message
            if kind == "STOP":
                worker.stop(int(args[0]), "the supervisor asked")
            elif kind == "REOPEN" and os.environ.get("PREFORK_LOG_FILE"):
                fd = os.open(os.environ["PREFORK_LOG_FILE"], os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o644)
                os.dup2(fd, 1)
                os.dup2(fd, 2)
                os.close(fd)
            elif kind != "REOPEN":
                log(f"ignoring unexpected control message {kind}")
    except (OSError, ValueError) as e:
        why = f"the supervisor is gone ({e})"
    worker.stop(1000, why)
    threading.Event().wait()  # the drain thread exits the process


if __name__ == "__main__":
    main()
