#!/usr/bin/env python3
"""Fan-out: S WebSockets in one group (or a few), HTTP senders at a paced rate; delivery latency.

Usage: bench/fanout.py --urls http://127.0.0.1:18611[,http://127.0.0.1:18612,...]
                       [--sockets 200] [--senders 4] [--rate 100] [--seconds 30] [--groups 1]
                       [--procs 1] [--drain 10] [--pids PID,...] [--watch NAME=PID ...]

Registers senders + sockets fresh users (Argon2: slow on purpose and not measured), spread
round robin over the URLs, and has sender i create group i % groups with its members (socket
user j is in group j % groups, sender i in group i % groups). The sockets (`GET /api/v1/ws`,
`Authorization: Bearer`) are spread round robin over the URLs and run in --procs receiver
processes; the senders run in the main process, also round robin over the URLs, each with one
HTTP/1.1 keep-alive connection and one send in flight. Once every socket has its `ready`
frame, message j of --rate * --seconds goes out at start + j / rate (sender j % senders) as
`POST /api/v1/groups/{id}/messages {"body": "<monotonic ns at send> <j>", "client_id": ...}`.
A sender whose previous send is still running sends late (the largest lag is printed).

Delivery latency is the receiving process's CLOCK_MONOTONIC when the frame's bytes arrive
minus the timestamp in the body (the same clock in every process on one machine), for each
`message.created` frame on each socket; it includes the sender's HTTP request and the commit.
After the last send the sockets get --drain seconds to receive the rest; then every socket
must hold every message of its group that was answered 201 exactly once (missing, doubled and
unexpected deliveries are counted and printed). Percentiles are nearest-rank. Deliveries slower
than 20 ms are listed by message number, which shows whether slow ones cluster in time.

CPU is read from /proc over the sending window only (start to last send answered): each
confab instance (found by its --listen address, or --pids in --urls order), each --watch
NAME=PID (that process and its children, plus what its exited children used), every client
process, the whole machine (/proc/stat), and what of the machine's use none of these account
for (other load), with the biggest other processes by name. Each is in % of one core. Each
instance's /metrics counters (fan-out, gap fills, re-checks, drops) are diffed over the run.

Start the servers with throttling out of the way (`--request-burst 100000
--requests-per-second 100000`). Standard library only (asyncio, a minimal RFC 6455 client).
"""
import argparse, array, asyncio, base64, hashlib, json, multiprocessing, os, resource
import secrets, sys, time, urllib.parse

from send_burst import Conn, expect, pct

TICK = os.sysconf("SC_CLK_TCK")
WS_GUID = b"258EAFA5-E914-47DA-95CA-C5AB0DC85B11"
PASSWORD = "correct horse battery"
SLOW_NS = 20_000_000  # deliveries slower than this are listed by message


# ---------------------------------------------------------------- /proc and the machine

def proc_ticks(pid: int) -> tuple[int, int, int]:
    """(utime + stime, cutime + cstime, ppid) of a process, in clock ticks."""
    with open(f"/proc/{pid}/stat") as f:
        fields = f.read().rsplit(")", 1)[1].split()
    # fields[0] is the state (field 3); utime is field 14.
    return int(fields[11]) + int(fields[12]), int(fields[13]) + int(fields[14]), int(fields[1])


def _parent(pid: int) -> int:
    try:
        return proc_ticks(pid)[2]
    except (OSError, IndexError, ValueError):
        return -1


def tree_ticks(root: int) -> int:
    """CPU of a process and its live children, plus the children it has reaped."""
    own, reaped, _ = proc_ticks(root)
    total = own + reaped
    for entry in os.listdir("/proc"):
        if entry.isdigit() and int(entry) != root:
            try:
                used, _, ppid = proc_ticks(int(entry))
            except (OSError, IndexError, ValueError):
                continue
            if ppid == root:
                total += used
    return total


def all_ticks() -> dict[int, tuple[str, int, int]]:
    """Every process: pid -> (name, its own CPU, what its reaped children used), in ticks."""
    out = {}
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                with open(f"/proc/{entry}/stat") as f:
                    raw = f.read()
                fields = raw.rsplit(")", 1)[1].split()
                out[int(entry)] = (raw[raw.index("(") + 1:raw.rindex(")")],
                                   int(fields[11]) + int(fields[12]),
                                   int(fields[13]) + int(fields[14]))
            except (OSError, IndexError, ValueError):
                continue
    return out


def machine_ticks() -> tuple[int, int]:
    """(busy, total) jiffies of all CPUs."""
    with open("/proc/stat") as f:
        cpu = [int(x) for x in f.readline().split()[1:]]
    idle = cpu[3] + cpu[4]
    return sum(cpu) - idle, sum(cpu)


def find_listener(hostport: str) -> int | None:
    """The pid of the confab process started with `--listen hostport`."""
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/cmdline", "rb") as f:
                argv = f.read().split(b"\0")
        except OSError:
            continue
        if b"--listen" in argv and hostport.encode() in argv \
                and os.path.basename(argv[0]).startswith(b"confab"):
            return int(entry)
    return None


def machine_report() -> str:
    model = "?"
    try:
        with open("/proc/cpuinfo") as f:
            model = next((l.split(":", 1)[1].strip() for l in f if l.startswith("model name")), "?")
    except OSError:
        pass
    with open("/proc/meminfo") as f:
        mem = int(f.readline().split()[1]) / 2**20
    # One core's speed, measured now: SHA-256 over 64 MiB, and a pure-Python loop.
    data = b"\0" * (64 << 20)
    t = time.perf_counter()
    hashlib.sha256(data).digest()
    sha = 64 / (time.perf_counter() - t)
    t = time.perf_counter()
    x = 0
    for i in range(3_000_000):
        x += i
    loop = 3 / (time.perf_counter() - t)
    return (f"machine: nproc {os.cpu_count()}, {model}, {mem:.1f} GiB; one core now: "
            f"sha256 {sha:,.0f} MiB/s, python loop {loop:.1f} M iterations/s; "
            f"loadavg {loadavg()}")


def loadavg() -> str:
    return " ".join(f"{x:.2f}" for x in os.getloadavg())


def process_cpu_seconds() -> float:
    r = resource.getrusage(resource.RUSAGE_SELF)
    return r.ru_utime + r.ru_stime


async def scrape(host: str, port: int) -> dict[str, float]:
    """This instance's Prometheus counters, summed over labels (a connection of its own)."""
    conn = Conn(host, port)
    await conn.open()
    conn.writer.write(f"GET /metrics HTTP/1.1\r\nHost: {conn.host}:{conn.port}\r\n\r\n".encode())
    await conn.writer.drain()
    await conn.reader.readuntil(b"\r\n")
    length, chunked = 0, False
    while (line := await conn.reader.readuntil(b"\r\n")) != b"\r\n":
        k, _, v = line.decode("latin-1").partition(":")
        if k.strip().lower() == "content-length":
            length = int(v)
        if k.strip().lower() == "transfer-encoding" and "chunked" in v.lower():
            chunked = True
    if chunked:
        text = b""
        while (size := int((await conn.reader.readuntil(b"\r\n")).split(b";")[0], 16)):
            text += (await conn.reader.readexactly(size + 2))[:-2]
        await conn.reader.readuntil(b"\r\n")
    else:
        text = await conn.reader.readexactly(length)
    await conn.close()
    out: dict[str, float] = {}
    for line in text.decode().splitlines():
        if line and not line.startswith("#"):
            name = line.split("{", 1)[0].split(" ", 1)[0]
            out[name] = out.get(name, 0.0) + float(line.rsplit(" ", 1)[1])
    return out


WATCHED_COUNTERS = ["ws_events_fanned_out_total", "ws_gap_fills_total", "bus_rechecks_total",
                    "bus_events_dropped_total", "ws_outbox_closes_total",
                    "bus_events_received_total"]


# ---------------------------------------------------------------- the WebSocket client

def masked(opcode: int, payload: bytes) -> bytes:
    """A client frame (always masked, RFC 6455 5.3); only small control frames are sent."""
    mask = secrets.token_bytes(4)
    body = bytes(b ^ mask[i % 4] for i, b in enumerate(payload))
    return bytes([0x80 | opcode, 0x80 | len(payload)]) + mask + body


class Socket(asyncio.Protocol):
    """One WebSocket: the upgrade, then server frames parsed straight from data_received."""

    def __init__(self, index: int, host: str, port: int, token: str, sink: "Receiver") -> None:
        self.index, self.host, self.port, self.token, self.sink = index, host, port, token, sink
        self.key = base64.b64encode(secrets.token_bytes(16))
        self.buf = bytearray()
        self.upgraded = False
        self.ready = asyncio.get_running_loop().create_future()
        self.transport: asyncio.Transport | None = None
        self.fragments: list[bytes] | None = None
        self.closed_code: int | None = None
        self.lost = False

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = transport  # type: ignore[assignment]
        transport.write(  # type: ignore[attr-defined]
            (f"GET /api/v1/ws HTTP/1.1\r\nHost: {self.host}:{self.port}\r\n"
             "Upgrade: websocket\r\nConnection: Upgrade\r\n"
             f"Sec-WebSocket-Key: {self.key.decode()}\r\nSec-WebSocket-Version: 13\r\n"
             f"Authorization: Bearer {self.token}\r\n\r\n").encode())

    def connection_lost(self, exc: Exception | None) -> None:
        self.lost = True
        if not self.ready.done():
            self.ready.set_exception(ConnectionError(f"socket {self.index} closed before ready"))
        self.sink.socket_lost(self)

    def fail(self, why: str) -> None:
        if not self.ready.done():
            self.ready.set_exception(ConnectionError(why))
        self.transport.close()

    def data_received(self, data: bytes) -> None:
        now = time.monotonic_ns()
        buf = self.buf
        buf += data
        pos = 0
        if not self.upgraded:
            end = buf.find(b"\r\n\r\n")
            if end < 0:
                return
            head = bytes(buf[:end]).decode("latin-1").split("\r\n")
            want = base64.b64encode(hashlib.sha1(self.key + WS_GUID).digest()).decode()
            headers = {k.strip().lower(): v.strip()
                       for k, _, v in (h.partition(":") for h in head[1:])}
            if head[0].split()[1] != "101" or headers.get("sec-websocket-accept") != want:
                return self.fail(f"socket {self.index}: upgrade refused: {head[0]}")
            self.upgraded = True
            pos = end + 4
        n = len(buf)
        while n - pos >= 2:
            b0, b1 = buf[pos], buf[pos + 1]
            if b1 & 0x80:
                return self.fail(f"socket {self.index}: the server masked a frame")
            size, head = b1 & 0x7F, 2
            if size == 126:
                if n - pos < 4:
                    break
                size, head = int.from_bytes(buf[pos + 2:pos + 4], "big"), 4
            elif size == 127:
                if n - pos < 10:
                    break
                size, head = int.from_bytes(buf[pos + 2:pos + 10], "big"), 10
            if n - pos < head + size:
                break
            payload = bytes(buf[pos + head:pos + head + size])
            pos += head + size
            opcode, fin = b0 & 0x0F, b0 & 0x80
            if opcode == 0x9:  # ping: answer at once
                self.transport.write(masked(0xA, payload))
            elif opcode == 0xA:  # pong
                pass
            elif opcode == 0x8:  # close: note the code, echo it, and stop
                self.closed_code = int.from_bytes(payload[:2], "big") if len(payload) >= 2 else 1005
                self.transport.write(masked(0x8, payload[:2]))
                self.transport.close()
                break
            elif opcode in (0x1, 0x2, 0x0):
                if opcode != 0x0:
                    self.fragments = []
                if self.fragments is None:
                    return self.fail(f"socket {self.index}: continuation without a start")
                self.fragments.append(payload)
                if fin:
                    text = b"".join(self.fragments)
                    self.fragments = None
                    self.sink.frame(self, text, now)
            else:
                return self.fail(f"socket {self.index}: unknown opcode {opcode}")
        del buf[:pos]


class Receiver:
    """The sockets of one receiver process, and what they got."""

    def __init__(self, spec: dict) -> None:
        self.spec = spec
        self.senders, self.nurls = spec["senders"], spec["nurls"]
        # Per socket, how often each message number arrived (saturating at 255).
        self.counts = {s["index"]: bytearray(spec["max_messages"]) for s in spec["sockets"]}
        self.url_of = {s["index"]: s["url"] for s in spec["sockets"]}
        self.local: array.array = array.array("q")   # same instance as the sender
        self.remote: array.array = array.array("q")  # another instance (through Redis)
        self.slow: array.array = array.array("q")  # message numbers of deliveries > SLOW_NS
        self.other_types: dict[str, int] = {}
        self.foreign = 0  # message.created frames not from this run
        self.lost_sockets: list[tuple[int, int | None]] = []
        self.delivered = 0
        self.stopping = False

    def frame(self, sock: Socket, text: bytes, now: int) -> None:
        frame = json.loads(text)
        kind = frame.get("type")
        if kind == "message.created":
            parts = frame["message"]["body"].split(" ")
            try:
                sent, number = int(parts[0]), int(parts[1])
                counts = self.counts[sock.index]
                if counts[number] < 255:
                    counts[number] += 1
            except (ValueError, IndexError):
                self.foreign += 1
                return
            sender_url = (number % self.senders) % self.nurls
            took = now - sent
            (self.local if sender_url == self.url_of[sock.index] else self.remote).append(took)
            if took > SLOW_NS:
                self.slow.append(number)
            self.delivered += 1
        elif kind == "ready":
            if not sock.ready.done():
                sock.ready.set_result(None)
        else:
            self.other_types[kind] = self.other_types.get(kind, 0) + 1

    def socket_lost(self, sock: Socket) -> None:
        if not self.stopping:
            self.lost_sockets.append((sock.index, sock.closed_code))

    def check(self, created: dict[int, int]) -> dict:
        """Missing, doubled and unexpected deliveries, given number -> group of each 201."""
        by_group: dict[int, list[int]] = {}
        for number, group in created.items():
            by_group.setdefault(group, []).append(number)
        missing = doubled = unexpected = 0
        for s in self.spec["sockets"]:
            counts = self.counts[s["index"]]
            mine = set(by_group.get(s["group"], []))
            for number in mine:
                c = counts[number]
                missing += c == 0
                doubled += max(0, c - 1)
            for number, c in enumerate(counts):
                if c and number not in mine:
                    unexpected += c
        return {"missing": missing, "doubled": doubled, "unexpected": unexpected}


async def receiver_main_async(pipe, spec: dict) -> None:
    loop = asyncio.get_running_loop()
    recv = lambda: loop.run_in_executor(None, pipe.recv)  # noqa: E731
    rx = Receiver(spec)
    gate = asyncio.Semaphore(20)

    async def open_one(s: dict) -> Socket:
        async with gate:
            _, sock = await loop.create_connection(
                lambda: Socket(s["index"], s["host"], s["port"], s["token"], rx),
                s["host"], s["port"])
            await asyncio.wait_for(sock.ready, 30)
            return sock

    try:
        socks = await asyncio.gather(*(open_one(s) for s in spec["sockets"]))
    except Exception as e:  # noqa: BLE001 - reported to the parent, which stops the run
        pipe.send(("error", repr(e)))
        return
    pipe.send(("ready", len(socks)))
    assert (await recv())[0] == "start"
    cpu0 = process_cpu_seconds()
    _, created, expected = await recv()  # the last send was answered
    cpu1 = process_cpu_seconds()
    # Drain: until this process has every expected delivery, or --drain passes.
    deadline = time.monotonic() + spec["drain"]
    while rx.delivered < expected and time.monotonic() < deadline:
        await asyncio.sleep(0.05)
    rx.stopping = True
    result = rx.check(created)
    result.update(cpu=cpu1 - cpu0, local=rx.local.tobytes(), remote=rx.remote.tobytes(),
                  slow=rx.slow.tobytes(),
                  other_types=rx.other_types, foreign=rx.foreign, lost=rx.lost_sockets,
                  delivered=rx.delivered, open_at_end=sum(not s.lost for s in socks))
    for s in socks:
        s.transport.write(masked(0x8, (1000).to_bytes(2, "big")))
        s.transport.close()
    await asyncio.sleep(0.1)
    pipe.send(("result", result))


def receiver_main(pipe, spec: dict) -> None:
    asyncio.run(receiver_main_async(pipe, spec))


# ---------------------------------------------------------------- setup and the senders

def where(url: str) -> tuple[str, int]:
    u = urllib.parse.urlsplit(url)
    return u.hostname, u.port or 80


async def register_all(targets: list[tuple[str, int]], names: list[str]) -> list[dict]:
    gate = asyncio.Semaphore(8 * len(targets))

    async def one(i: int, name: str) -> dict:
        async with gate:
            conn = Conn(*targets[i % len(targets)])
            try:
                return await expect(conn, "POST", "/api/v1/auth/register",
                                    {"username": name, "password": PASSWORD}, 201)
            finally:
                await conn.close()
    return list(await asyncio.gather(*(one(i, n) for i, n in enumerate(names))))


def ms(ns: float) -> str:
    return f"{ns / 1e6:.1f}"


def summary(name: str, vals: list[int]) -> str:
    if not vals:
        return f"{name}: none"
    return (f"{name}: n={len(vals)} p50 {ms(pct(vals, 50))} p90 {ms(pct(vals, 90))} "
            f"p99 {ms(pct(vals, 99))} max {ms(vals[-1])} ms")


async def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--urls", required=True, help="comma-separated base URLs of the instances")
    ap.add_argument("--sockets", type=int, default=200)
    ap.add_argument("--senders", type=int, default=4)
    ap.add_argument("--rate", type=float, default=100, help="messages per second, all senders")
    ap.add_argument("--seconds", type=float, default=30)
    ap.add_argument("--groups", type=int, default=1)
    ap.add_argument("--procs", type=int, default=1, help="receiver processes for the sockets")
    ap.add_argument("--drain", type=float, default=10, help="seconds to wait for stragglers")
    ap.add_argument("--pids", default="", help="confab pids in --urls order (default: found "
                                               "by their --listen address)")
    ap.add_argument("--watch", action="append", default=[], metavar="NAME=PID",
                    help="another process (with its children) to measure, e.g. postgres=123")
    args = ap.parse_args()
    if args.senders < args.groups or args.sockets < args.groups:
        sys.exit("need at least one sender and one socket per group")
    urls = [u.strip() for u in args.urls.split(",") if u.strip()]
    targets = [where(u) for u in urls]
    if args.pids:
        pids = [int(p) for p in args.pids.split(",")]
    else:
        pids = [find_listener(f"{h}:{p}") for h, p in targets]
        if None in pids:
            sys.exit(f"no confab process found for {[u for u, p in zip(urls, pids) if p is None]}"
                     "; pass --pids")
    watch = {name: int(pid) for name, _, pid in (w.partition("=") for w in args.watch)}
    run = secrets.token_hex(3)
    total = int(args.rate * args.seconds)

    print(machine_report(), flush=True)
    t0 = time.perf_counter()
    names = [f"fo{run}_s{i}" for i in range(args.senders)] + \
            [f"fo{run}_r{j}" for j in range(args.sockets)]
    users = await register_all(targets, names)
    senders, sockets = users[:args.senders], users[args.senders:]
    print(f"registered {len(users)} users in {time.perf_counter() - t0:.1f}s (not measured)",
          flush=True)

    # Sender g creates group g with the senders and socket users that belong to it.
    conns = [Conn(*targets[i % len(targets)], u["tokens"]["access_token"])
             for i, u in enumerate(senders)]
    for c in conns:
        await c.open()
    group_ids = []
    for g in range(args.groups):
        members = [u["user"]["id"] for i, u in enumerate(senders) if i % args.groups == g and i != g]
        members += [u["user"]["id"] for j, u in enumerate(sockets) if j % args.groups == g]
        made = await expect(conns[g], "POST", "/api/v1/groups",
                            {"name": f"fanout {run} {g}", "member_ids": members}, 201)
        group_ids.append(made["id"])

    # Receivers: socket j on URL j % n, in process j % procs.
    specs = [{"senders": args.senders, "nurls": len(urls), "max_messages": total,
              "drain": args.drain, "sockets": []} for _ in range(args.procs)]
    for j, u in enumerate(sockets):
        h, p = targets[j % len(targets)]
        specs[j % args.procs]["sockets"].append(
            {"index": j, "host": h, "port": p, "url": j % len(targets), "group": j % args.groups,
             "token": u["tokens"]["access_token"]})
    ctx = multiprocessing.get_context("spawn")
    pipes, procs = [], []
    for spec in specs:
        mine, theirs = ctx.Pipe()
        proc = ctx.Process(target=receiver_main, args=(theirs, spec), daemon=True)
        proc.start()
        pipes.append(mine)
        procs.append(proc)
    loop = asyncio.get_running_loop()
    t0 = time.perf_counter()
    for pipe in pipes:
        said = await loop.run_in_executor(None, pipe.recv)
        if said[0] != "ready":
            sys.exit(f"a receiver failed: {said[1]}")
    print(f"{args.sockets} sockets ready in {time.perf_counter() - t0:.1f}s over {len(urls)} "
          f"instance(s), {args.procs} receiver process(es)", flush=True)

    before_metrics = [await scrape(*t) for t in targets]
    await asyncio.sleep(1)  # let the connects settle

    # The measured window: paced sends.
    send_lat: list[int] = []
    lags: list[float] = []
    statuses: dict[int, int] = {}
    created: dict[int, int] = {}

    async def sender(i: int, start: float) -> None:
        conn, gid = conns[i], group_ids[i % args.groups]
        path = f"/api/v1/groups/{gid}/messages"
        for number in range(i, total, args.senders):
            due = start + number / args.rate
            wait = due - time.monotonic()
            if wait > 0:
                await asyncio.sleep(wait)
            lags.append(time.monotonic() - due)
            sent = time.monotonic_ns()
            status, _ = await conn.request("POST", path, {"body": f"{sent} {number}",
                                                          "client_id": f"{run}-{number}"})
            send_lat.append(time.monotonic_ns() - sent)
            statuses[status] = statuses.get(status, 0) + 1
            if status == 201:
                created[number] = i % args.groups

    print(f"load before: {loadavg()}", flush=True)
    ticks0 = {pid: proc_ticks(pid)[0] for pid in pids}
    watch0 = {name: tree_ticks(pid) for name, pid in watch.items()}
    busy0, all0 = machine_ticks()
    everyone0 = all_ticks()
    cpu0 = process_cpu_seconds()
    for pipe in pipes:
        pipe.send(("start",))
    began = time.monotonic()
    await asyncio.gather(*(sender(i, began + 0.05) for i in range(args.senders)))
    took = time.monotonic() - began
    ticks1 = {pid: proc_ticks(pid)[0] for pid in pids}
    watch1 = {name: tree_ticks(pid) for name, pid in watch.items()}
    busy1, all1 = machine_ticks()
    everyone1 = all_ticks()
    cpu1 = process_cpu_seconds()
    group_size = [sum(1 for j in range(args.sockets) if j % args.groups == g)
                  for g in range(args.groups)]
    per_group = [0] * args.groups
    for g in created.values():
        per_group[g] += 1
    for pipe, spec in zip(pipes, specs):
        pipe.send(("sent", created, sum(per_group[s["group"]] for s in spec["sockets"])))
    results = []
    for pipe in pipes:
        said = await loop.run_in_executor(None, pipe.recv)
        results.append(said[1])
    for proc in procs:
        proc.join(5)
    after_metrics = [await scrape(*t) for t in targets]
    for c in conns:
        await c.close()

    # ---------------------------------------------------------------- the report
    expected = sum(group_size[g] for g in created.values())
    delivered = sum(r["delivered"] for r in results)
    missing = sum(r["missing"] for r in results)
    doubled = sum(r["doubled"] for r in results)
    unexpected = sum(r["unexpected"] for r in results)
    local = sorted(x for r in results for x in array.array("q", r["local"]))
    remote = sorted(x for r in results for x in array.array("q", r["remote"]))
    every = sorted(local + remote)
    lost = [x for r in results for x in r["lost"]]
    send_lat.sort()
    window = took
    print(f"sent {len(created)} of {total} messages (statuses {statuses}) in {took:.2f}s = "
          f"{len(created) / took:.1f}/s; pacing lag max {max(lags) * 1e3:.1f} ms; "
          f"{summary('POST', send_lat)}")
    ok = missing == 0 and doubled == 0 and unexpected == 0 and not lost \
        and len(created) == total
    print(f"deliveries: {delivered} of {expected} expected = {delivered / window:,.0f}/s over "
          f"the window; missing {missing}, doubled {doubled}, unexpected {unexpected}, "
          f"foreign {sum(r['foreign'] for r in results)}; sockets closed during the run "
          f"{len(lost)} {lost[:5]}; " + ("EXACTLY ONCE: ok" if ok else "DELIVERY WRONG"))
    print("latency " + summary("all", every))
    if len(urls) > 1:
        print("latency " + summary("same instance as the sender", local))
        print("latency " + summary("other instance (via Redis)", remote))
    slow: dict[int, int] = {}
    for r in results:
        for number in array.array("q", r["slow"]):
            slow[number] = slow.get(number, 0) + 1
    worst = sorted(slow.items(), key=lambda kv: -kv[1])[:6]
    print(f"deliveries over {SLOW_NS // 1_000_000} ms: {sum(slow.values())} in {len(slow)} "
          f"message(s)" + ("; most: " + ", ".join(f"#{n} ({c})" for n, c in worst)
                           if worst else ""))
    others: dict[str, int] = {}
    for r in results:
        for k, v in r["other_types"].items():
            others[k] = others.get(k, 0) + v
    print(f"other frames: {others}")
    per_instance = [(ticks1[p] - ticks0[p]) / TICK / window * 100 for p in pids]
    per_watch = {n: (watch1[n] - watch0[n]) / TICK / window * 100 for n in watch}
    client = [(cpu1 - cpu0) / window * 100] + [r["cpu"] / window * 100 for r in results]
    machine = (busy1 - busy0) / max(1, all1 - all0) * 100 * (os.cpu_count() or 1)
    print("cpu % of one core over the window: instances " +
          ", ".join(f"{u.rsplit(':', 1)[1]}={c:.0f}" for u, c in zip(urls, per_instance)) +
          f" (sum {sum(per_instance):.0f})" +
          "".join(f"; {n} {c:.0f}" for n, c in per_watch.items()) +
          f"; client sender {client[0]:.0f}, receivers " +
          ", ".join(f"{c:.0f}" for c in client[1:]) +
          f"; machine {machine:.0f} of {(os.cpu_count() or 1) * 100}, of which not these "
          f"processes {machine - sum(per_instance) - sum(per_watch.values()) - sum(client):.0f}")
    # Who else used the CPU: each process alive at the end (all of it if it started in the
    # window), by name; ours (and their children) left out. Processes that came and went
    # inside the window are not listed (they are in the machine's total).
    ours = set(pids) | {os.getpid()} | {p.pid for p in procs} | set(watch.values())
    ours |= {pid for pid in everyone1 if any(
        _parent(pid) == root for root in set(watch.values()) | {os.getpid()})}
    elsewhere: dict[str, float] = {}
    for pid, (name, own, _) in everyone1.items():
        if pid not in ours:
            _, own0, _ = everyone0.get(pid, (name, 0, 0))
            used = (own - own0) / TICK / window * 100
            elsewhere[name] = elsewhere.get(name, 0) + used
    top = sorted(elsewhere.items(), key=lambda kv: -kv[1])[:4]
    print("other processes alive at the end (% of a core, by name): " +
          (", ".join(f"{n} {c:.0f}" for n, c in top if c >= 1) or "none"))
    for u, b, a in zip(urls, before_metrics, after_metrics):
        print(f"metrics {u.rsplit(':', 1)[1]}: " +
              ", ".join(f"{k.removesuffix('_total')} +{a.get(k, 0) - b.get(k, 0):.0f}"
                        for k in WATCHED_COUNTERS))
    print(f"load after: {loadavg()}", flush=True)
    if any(r["cpu"] / window > 0.85 for r in results):
        print("WARNING: a receiver process was above 85% of a core: the client may be the "
              "bottleneck; try more --procs", flush=True)


if __name__ == "__main__":
    asyncio.run(main())
