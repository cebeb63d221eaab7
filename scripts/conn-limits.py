#!/usr/bin/env python3
"""Hostile-client checks of barista's connection limits, against a server on loopback (127.0.0.1 only).

  conn-limits.py flood --port P --pid PID [--connections 20000] [--seconds 20]
      Opens N connections that each send half a request header and hold it, while a probe sends a normal
      request every 200 ms on a keep-alive connection opened before the flood (expects 200) and on a new
      connection (answered at once: 200, or 503 while the flood holds every slot). Prints the latencies, the
      statuses and the server's peak open file descriptors.
  conn-limits.py burst --port P --pid PID [--connections 250] [--mib 30] [--settle 30]
      N connections each announce a body of MIB+1 MiB and send MIB MiB of it, then all hang up. Prints the
      server's RSS before, at the peak and each second after, up to --settle seconds.

Bounded: every socket is closed at the end, and each phase has a time limit. Only 127.0.0.1 is ever contacted.
"""
import argparse
import os
import select
import socket
import sys
import multiprocessing
import time

HOST = "127.0.0.1"
COMPLETION = b'{"prompt":"hi","max_tokens":4}'


def request(path=b"/v1/completions", body=COMPLETION):
    return (b"POST " + path + b" HTTP/1.1\r\nHost: localhost\r\nContent-Type: application/json\r\n"
            + b"Content-Length: " + str(len(body)).encode() + b"\r\n\r\n" + body)


def read_response(sock, deadline):
    """One response's status code (None if the connection closed first); reads the whole body by Content-Length."""
    data = b""
    while b"\r\n\r\n" not in data:
        sock.settimeout(max(0.001, deadline - time.monotonic()))
        chunk = sock.recv(65536)
        if not chunk:
            return None
        data += chunk
    head, rest = data.split(b"\r\n\r\n", 1)
    status = int(head.split(b" ")[1])
    length = 0
    for line in head.split(b"\r\n")[1:]:
        name, _, value = line.partition(b":")
        if name.strip().lower() == b"content-length":
            length = int(value)
    while len(rest) < length:
        sock.settimeout(max(0.001, deadline - time.monotonic()))
        chunk = sock.recv(65536)
        if not chunk:
            break
        rest += chunk
    return status


def open_fds(pid):
    try:
        return len(os.listdir(f"/proc/{pid}/fd"))
    except OSError:
        return -1


def rss_mib(pid):
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    return -1


class Probe:
    """A normal client in a process of its own (so the flood's loop cannot delay it): a request every 200 ms on
    its keep-alive connection and one on a new connection. Results come back through a pipe."""

    def __init__(self, port):
        self.port = port
        self.stop = multiprocessing.Event()
        self.ready = multiprocessing.Event()
        self.receive, send = multiprocessing.Pipe(duplex=False)
        self.process = multiprocessing.Process(target=self.run, args=(send,), daemon=True)

    def start(self):
        self.process.start()
        if not self.ready.wait(60):
            raise SystemExit("probe: no connection to the server")

    def run(self, send):
        kept = socket.create_connection((HOST, self.port), timeout=5)
        for _ in range(10):  # warm-up, not measured: the first requests of a fresh JVM are slow without a flood
            self.timed(kept, ([], {}))
        self.ready.set()
        results = {"kept": ([], {}), "new": ([], {})}
        while not self.stop.is_set():
            self.timed(kept, results["kept"])
            try:
                fresh = socket.create_connection((HOST, self.port), timeout=5)
                self.timed(fresh, results["new"])
                fresh.close()
            except OSError as e:
                statuses = results["new"][1]
                statuses[type(e).__name__] = statuses.get(type(e).__name__, 0) + 1
            self.stop.wait(0.2)
        kept.close()
        send.send(results)

    @staticmethod
    def timed(sock, result):
        latencies, statuses = result
        start = time.monotonic()
        try:
            sock.sendall(request())
            status = read_response(sock, start + 10)
        except OSError as e:
            status = type(e).__name__
        statuses[status] = statuses.get(status, 0) + 1
        latencies.append((time.monotonic() - start, start))

    def finish(self):
        self.stop.set()
        results = self.receive.recv()
        self.process.join(15)
        return results


def summary(samples, phases):
    """Latencies as 'count, median, max', overall and in each phase [(name, start, end)] by monotonic time."""
    if not samples:
        return "none"
    def describe(values):
        s = sorted(values)
        return f"{len(s)} requests, median {s[len(s) // 2] * 1000:.1f} ms, max {s[-1] * 1000:.1f} ms"
    parts = [describe([l for l, _ in samples])]
    for name, begin, end in phases:
        values = [l for l, t in samples if begin <= t < end]
        if values:
            parts.append(f"{name}: max {max(values) * 1000:.0f} ms of {len(values)}")
    return "; ".join(parts)


PER_PROCESS = 8000  # flood connections per client process, under a client's own descriptor limit


def flood_worker(port, count, seconds, go_home, report):
    """Opens `count` partial-header connections, holds them until `go_home`, then reports what each got."""
    socks, failed = [], {}
    start = time.monotonic()
    for _ in range(count):
        try:
            s = socket.create_connection((HOST, port), timeout=5)
            s.setblocking(False)
            try:
                s.send(b"POST /v1/completions HTTP/1.1\r\nHost: localhost\r\nContent-Ty")
            except OSError:
                pass  # already refused and closed by the server
            socks.append(s)
        except OSError as e:
            failed[str(e)] = failed.get(str(e), 0) + 1
        if time.monotonic() - start > seconds:
            break
    report.send(("opened", len(socks), time.monotonic() - start, failed))
    go_home.wait(120)
    refused = held = closed = 0
    for s in socks:
        try:
            data = s.recv(4096)
            if data.startswith(b"HTTP/1.1 503"):
                refused += 1
            elif not data:
                closed += 1
        except BlockingIOError:
            held += 1
        except OSError:
            closed += 1
        s.close()
    report.send(("answers", held, refused, closed))


def flood(args):
    probe = Probe(args.port)
    probe.start()
    time.sleep(0.5)  # a few probe requests before the flood, for comparison
    go_home = multiprocessing.Event()
    flood_start = time.monotonic()
    workers = []
    for first in range(0, args.connections, PER_PROCESS):
        receive, send = multiprocessing.Pipe(duplex=False)
        count = min(PER_PROCESS, args.connections - first)
        worker = multiprocessing.Process(target=flood_worker, args=(args.port, count, args.seconds, go_home, send),
                                         daemon=True)
        worker.start()
        workers.append((worker, receive))
    peak_fds, opened_count, opened, failed = 0, 0, 0.0, {}
    start = time.monotonic()
    pending = [r for _, r in workers]
    while pending and time.monotonic() - start < args.seconds + 30:
        peak_fds = max(peak_fds, open_fds(args.pid))
        for r in list(pending):
            if r.poll(0.1):
                _, n, took, errors = r.recv()
                opened_count += n
                opened = max(opened, took)
                for k, v in errors.items():
                    failed[k] = failed.get(k, 0) + v
                pending.remove(r)
    all_open = time.monotonic()
    hold_until = time.monotonic() + 5
    while time.monotonic() < hold_until:
        peak_fds = max(peak_fds, open_fds(args.pid))
        time.sleep(0.25)
    go_home.set()
    held_until = time.monotonic()
    phases = [("before the flood", 0, flood_start), ("while it opens", flood_start, all_open),
              ("while it holds", all_open, held_until), ("while it hangs up", held_until, float("inf"))]
    held = refused = closed = 0
    for worker, r in workers:
        if r.poll(60):
            _, h, rf, c = r.recv()
            held, refused, closed = held + h, refused + rf, closed + c
        worker.join(30)
    results = probe.finish()
    (kept_latencies, kept_statuses), (new_latencies, new_statuses) = results["kept"], results["new"]
    print(f"flood: {opened_count} partial-header connections opened in {opened:.1f} s (connect errors {failed}); "
          f"after 5 s: {held} still open, {refused} answered 503, {closed} closed otherwise; "
          f"server open fds peak {peak_fds}")
    print(f"probe, keep-alive connection opened before the flood: {summary(kept_latencies, phases)}, "
          f"statuses {kept_statuses}")
    print(f"probe, a new connection per request: {summary(new_latencies, phases)}, statuses {new_statuses}")
    worst = max(l for l, _ in kept_latencies + new_latencies)
    ok = worst < 1.0 and set(kept_statuses) == {200}
    print("flood: PASS" if ok else "flood: FAIL", f"(slowest answer {worst * 1000:.0f} ms)")
    return 0 if ok else 1


def burst(args):
    # Warm up so the baseline includes what the first requests allocate once.
    for _ in range(20):
        with socket.create_connection((HOST, args.port), timeout=10) as s:
            s.sendall(request())
            read_response(s, time.monotonic() + 10)
    time.sleep(2)
    before = rss_mib(args.pid)
    body_bytes = args.mib << 20
    head = (b"POST /v1/completions HTTP/1.1\r\nHost: localhost\r\nContent-Type: application/json\r\n"
            + b"Content-Length: " + str(body_bytes + (1 << 20)).encode() + b"\r\n\r\n")
    piece = b" " * 65536
    socks = {}
    for _ in range(args.connections):
        s = socket.create_connection((HOST, args.port), timeout=10)
        s.sendall(head)
        s.setblocking(False)
        socks[s] = 0
    sending = dict(socks)
    refused = 0
    peak = before
    deadline = time.monotonic() + 120
    while sending and time.monotonic() < deadline:
        _, writable, _ = select.select([], list(sending), [], 0.5)
        for s in writable:
            try:
                n = s.send(piece[: min(len(piece), body_bytes - sending[s])])
                sending[s] += n
                if sending[s] >= body_bytes:
                    del sending[s]
            except OSError:
                refused += 1  # answered 503 (the budget is full) and closed by the server
                del sending[s]
        peak = max(peak, rss_mib(args.pid))
    for _ in range(8):
        peak = max(peak, rss_mib(args.pid))
        time.sleep(0.25)
    holding = sum(1 for s, n in socks.items() if n >= body_bytes)
    for s in socks:
        s.close()
    closed_at = time.monotonic()
    samples = []
    while time.monotonic() - closed_at < args.settle:
        time.sleep(1)
        samples.append(rss_mib(args.pid))
    after = samples[-1]
    print(f"burst: {args.connections} connections x {args.mib} MiB of a {args.mib + 1} MiB body: {holding} sent all "
          f"of it, {refused} refused (503) while sending; RSS before {before:.0f} MiB, peak {peak:.0f} MiB, "
          f"{args.settle:.0f} s after all hung up {after:.0f} MiB (+{after - before:.0f} MiB)")
    print("burst: RSS each second after the hang-up (MiB): " + " ".join(f"{r:.0f}" for r in samples))
    ok = after - before <= 512
    print("burst: PASS" if ok else "burst: FAIL", "(within 512 MiB of the level before)")
    return 0 if ok else 1


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = parser.add_subparsers(dest="mode", required=True)
    f = sub.add_parser("flood")
    f.add_argument("--connections", type=int, default=20000)
    f.add_argument("--seconds", type=float, default=60, help="most time spent opening connections")
    b = sub.add_parser("burst")
    b.add_argument("--connections", type=int, default=250)
    b.add_argument("--mib", type=int, default=30)
    b.add_argument("--settle", type=float, default=30)
    for p in (f, b):
        p.add_argument("--port", type=int, required=True)
        p.add_argument("--pid", type=int, required=True)
    args = parser.parse_args()
    sys.exit(flood(args) if args.mode == "flood" else burst(args))


if __name__ == "__main__":
    main()
