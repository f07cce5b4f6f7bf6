"""The process jupyter_client starts as a notebook's kernel when the warm pool is on.

Run as a script (``python -I -S kernel_relay.py SOCKET -f CONNECTION_FILE ...``: no
site, no trialsupp import, a few milliseconds). It hands its stdin/stdout/stderr and the
kernel's arguments to the pool's zygote (``kernels.py``), which forks a warm child that
becomes the ipykernel. The relay then stands for that kernel: it forwards signals
(interrupts, terminate), exits with the kernel's exit status, and takes the kernel with
it when it is killed or its parent (the render) dies. When the zygote cannot serve the
request, the relay becomes a plain kernel (``exec python -m ipykernel_launcher``).

Standard library only, on purpose: this file is not imported as part of the package.
"""
import json
import os
import select
import signal
import socket
import struct
import sys

FORWARDED = (signal.SIGINT, signal.SIGTERM, signal.SIGHUP, signal.SIGQUIT, signal.SIGUSR1, signal.SIGUSR2)


def plain_kernel(path, args, why):
    try:        # the pool reports it, once, when the render's notebooks are done
        with open(os.path.join(os.path.dirname(path), "zygote.log"), "a", encoding="utf-8") as log:
            log.write(f"plain kernel: {why}\n")
    except OSError:
        pass
    os.execv(sys.executable, [sys.executable, "-m", "ipykernel_launcher", *args])


def read_message(sock):
    head = b""
    while len(head) < 4:
        chunk = sock.recv(4 - len(head))
        if not chunk:
            return None
        head += chunk
    size, = struct.unpack("!I", head)
    body = b""
    while len(body) < size:
        chunk = sock.recv(size - len(body))
        if not chunk:
            return None
        body += chunk
    return json.loads(body)


def main(argv):
    path, args = argv[0], argv[1:]
    parent = os.getppid()
    try:
        sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        sock.settimeout(float(os.environ.get("TRIALSUPP_POOL_TIMEOUT", "120")))
        sock.connect(path)
        request = json.dumps({"argv": args, "cwd": os.getcwd(), "env": dict(os.environ),
                              "executable": sys.executable, "relay": os.getpid()}).encode()
        socket.send_fds(sock, [struct.pack("!I", len(request)) + request], [0, 1, 2])
        reply = read_message(sock)       # the zygote answers once its modules are imported
    except OSError as exc:
        return plain_kernel(path, args, f"{type(exc).__name__}: {exc}")
    if not reply or "pid" not in reply:
        return plain_kernel(path, args, (reply or {}).get("error", "the zygote ended"))
    pid = reply["pid"]
    sock.settimeout(None)

    def forward(signum, _frame):
        try:
            os.kill(pid, signum)
        except ProcessLookupError:
            pass

    for sig in FORWARDED:
        signal.signal(sig, forward)
    try:
        kernel_fd = os.pidfd_open(pid)
        parent_fd = os.pidfd_open(parent)
    except OSError:         # raced with an exit: the zygote's message says how it ended
        kernel_fd = parent_fd = None
    watched = [sock] + [fd for fd in (kernel_fd, parent_fd) if fd is not None]
    if os.getppid() != parent:
        parent_fd = -1
    while True:
        ready, _, _ = select.select(watched, [], [])
        if parent_fd is not None and (parent_fd in ready or parent_fd == -1):
            forward(signal.SIGKILL, None)           # the render is gone: so is its kernel
            return 1
        if sock in ready or kernel_fd in ready:
            try:                                  # the zygote reaped it and reports the status
                sock.settimeout(None if sock in ready else 5)
                done = read_message(sock)
            except OSError:
                done = None
            return int(done["exit"]) if done and "exit" in done else 1


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
