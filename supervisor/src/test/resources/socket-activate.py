#!/usr/bin/env python3
"""Plays systemd's socket activation for a test: binds 127.0.0.1:0 (or the Unix socket PATH),
writes the port (0 for PATH) and the socket's inode to INFO_FILE, then execs COMMAND with the socket
as fd 3 and LISTEN_FDS=1, LISTEN_PID (its own pid, which exec keeps) and LISTEN_FDNAMES=NAME set.

usage: socket-activate.py [--unix PATH] INFO_FILE NAME COMMAND...
"""
import os
import socket
import sys

args = sys.argv[1:]
unix = None
if args[0] == "--unix":
    unix, args = args[1], args[2:]
info, name, command = args[0], args[1], args[2:]
if unix is None:
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind(("127.0.0.1", 0))
    port = sock.getsockname()[1]
else:
    sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    sock.bind(unix)
    port = 0
sock.listen(128)
with open(info, "w") as f:
    f.write("%d\n%d\n" % (port, os.fstat(sock.fileno()).st_ino))
if sock.fileno() != 3:
    os.dup2(sock.fileno(), 3)
os.set_inheritable(3, True)  # the socket may already be fd 3, and Python opens it close-on-exec
env = dict(os.environ, LISTEN_FDS="1", LISTEN_PID=str(os.getpid()), LISTEN_FDNAMES=name)
os.execvpe(command[0], command, env)
