"""In-namespace side of netlab: a port listener and a flow prober.

This file runs inside lab namespaces (``ip netns exec NS python agent.py ...``) and therefore
uses the standard library only and imports nothing from the rest of the package.

    agent.py listen --name pac1 --tcp 502 2001-2003 --udp 2001 --ready-file DIR/run/listen-pac1.ready [--ipv6]
    agent.py probe --timeout 0.6 < flows.json     # [{"id": 0, "address": "10.10.1.11", "port": 502, "protocol": "tcp"}]

Listener: TCP accept -> send a token line and close; UDP datagram -> echo it back behind a token. It binds
0.0.0.0, and with --ipv6 also :: (IPv6 only, a socket of its own per port), so both families reach it.
Prober: the address picks the socket family (IPv4 or IPv6); prints one JSON array [{"id", "result", "detail"}]
where result is open (token received), dropped (no answer before the timeout), refused (RST / ICMP unreachable)
or error.
"""

from __future__ import annotations

import argparse
import errno
import json
import os
import resource
import secrets
import selectors
import socket
import sys
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

TOKEN = b"netlab "
MAX_SOCKETS = 4096
REFUSED_ERRNOS = {errno.ECONNREFUSED, errno.EHOSTUNREACH}


def parse_ports(specs: list[str | int]) -> list[int]:
    """Expand port specs such as ``502``, ``"2001-2003"`` or ``"80,443"`` into a sorted list of ports."""
    ports: set[int] = set()
    for spec in specs:
        for part in str(spec).split(","):
            first, _, last = part.strip().partition("-")
            start, end = int(first), int(last or first)
            if not 1 <= start <= end <= 65535:
                raise ValueError(f"bad port range {part!r}")
            ports.update(range(start, end + 1))
    return sorted(ports)


# ---- listener ---------------------------------------------------------------------------------


def _raise_fd_limit(needed: int) -> None:
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if soft != resource.RLIM_INFINITY and soft < needed + 64:
        resource.setrlimit(resource.RLIMIT_NOFILE, (min(hard, needed + 64), hard))


def _bind(family: int, kind: int, port: int) -> socket.socket:
    sock = socket.socket(family, kind)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    if family == socket.AF_INET6:
        sock.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_V6ONLY, 1)  # IPv4 has its own socket
    sock.bind(("::" if family == socket.AF_INET6 else "0.0.0.0", port))  # noqa: S104 - only inside a lab namespace
    if kind == socket.SOCK_STREAM:
        sock.listen(128)
    sock.setblocking(False)
    return sock


def _answer(sock: socket.socket, name: str, proto: str, port: int) -> None:
    token = TOKEN + f"{name} {proto} {port}".encode()
    try:
        if proto == "tcp":
            conn, _ = sock.accept()
            with conn:
                conn.settimeout(1.0)
                conn.sendall(token + b"\n")
        else:
            data, peer = sock.recvfrom(2048)
            sock.sendto(token + b" " + data, peer)
    except OSError:
        pass  # a client that went away must not stop the listener


def listen(name: str, tcp: list[int], udp: list[int], ready_file: Path, ipv6: bool = False) -> None:
    """Bind every port (per family), signal readiness through ``ready_file``, then answer forever."""
    families = (socket.AF_INET, socket.AF_INET6) if ipv6 else (socket.AF_INET,)
    sockets = (len(tcp) + len(udp)) * len(families)
    if sockets > MAX_SOCKETS:
        raise SystemExit(f"refusing to open more than {MAX_SOCKETS} sockets")
    _raise_fd_limit(sockets)
    selector = selectors.DefaultSelector()
    for proto, kind, ports in (
        ("tcp", socket.SOCK_STREAM, tcp),
        ("udp", socket.SOCK_DGRAM, udp),
    ):
        for family in families:
            for port in ports:
                selector.register(_bind(family, kind, port), selectors.EVENT_READ, (proto, port))
    ready_file.write_text(f"{os.getpid()}\n")
    while True:
        for key, _ in selector.select():
            proto, port = key.data
            _answer(key.fileobj, name, proto, port)  # type: ignore[arg-type]


# ---- prober -----------------------------------------------------------------------------------


def _classify(exc: OSError) -> tuple[str, str]:
    if isinstance(exc, socket.timeout):
        return "dropped", "timeout"
    name = errno.errorcode.get(exc.errno or 0, str(exc))
    return ("refused" if exc.errno in REFUSED_ERRNOS else "error"), name


def _check_reply(data: bytes) -> tuple[str, str]:
    if data.startswith(TOKEN):
        return "open", data.decode(errors="replace").strip()
    return "error", f"unexpected reply {data[:40]!r}"


def _family(address: str) -> int:
    return socket.AF_INET6 if ":" in address else socket.AF_INET


def probe_tcp(address: str, port: int, timeout: float) -> tuple[str, str]:
    with socket.socket(_family(address), socket.SOCK_STREAM) as sock:
        sock.settimeout(timeout)
        try:
            sock.connect((address, port))
        except OSError as exc:
            return _classify(exc)
        try:
            return _check_reply(sock.recv(256))
        except OSError as exc:
            return "error", f"connected, no token ({_classify(exc)[1]})"


def probe_udp(address: str, port: int, timeout: float) -> tuple[str, str]:
    nonce = secrets.token_hex(8).encode()
    with socket.socket(_family(address), socket.SOCK_DGRAM) as sock:
        sock.settimeout(timeout)
        try:
            sock.connect((address, port))
            sock.send(nonce)
            data = sock.recv(2048)
        except OSError as exc:
            return _classify(exc)
    if nonce not in data:
        return "error", f"reply without our nonce {data[:40]!r}"
    return _check_reply(data)


def probe_one(flow: dict, timeout: float) -> dict:
    prober = probe_tcp if flow["protocol"] == "tcp" else probe_udp
    result, detail = prober(flow["address"], int(flow["port"]), timeout)
    return {"id": flow["id"], "result": result, "detail": detail}


def probe(flows: list[dict], timeout: float, workers: int) -> list[dict]:
    if not flows:
        return []
    with ThreadPoolExecutor(max_workers=min(workers, len(flows))) as pool:
        return list(pool.map(lambda flow: probe_one(flow, timeout), flows))


# ---- command line -----------------------------------------------------------------------------


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = parser.add_subparsers(dest="command", required=True)
    lsn = sub.add_parser("listen", help="answer on TCP/UDP ports")
    lsn.add_argument("--name", required=True, help="node name, echoed in the token")
    lsn.add_argument("--tcp", nargs="*", default=[], help="ports or ranges (a-b)")
    lsn.add_argument("--udp", nargs="*", default=[], help="ports or ranges (a-b)")
    lsn.add_argument("--ready-file", required=True, type=Path)
    lsn.add_argument("--ipv6", action="store_true", help="answer over IPv6 too")
    prb = sub.add_parser("probe", help="probe the flows read as JSON from stdin")
    prb.add_argument("--timeout", type=float, default=0.6)
    prb.add_argument("--workers", type=int, default=128)
    args = parser.parse_args(argv)
    if args.command == "listen":
        listen(args.name, parse_ports(args.tcp), parse_ports(args.udp), args.ready_file, args.ipv6)
        return 0
    json.dump(probe(json.load(sys.stdin), args.timeout, args.workers), sys.stdout)
    return 0


if __name__ == "__main__":
    sys.exit(main())
