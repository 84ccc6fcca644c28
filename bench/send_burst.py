#!/usr/bin/env python3
"""N clients at once each send M messages over HTTP against a running confab; durable sends/s.

Usage: bench/send_burst.py --url http://127.0.0.1:18557 [--clients 50] [--messages 100]
                           [--scenario shared|own|both]

Registers N fresh users (Argon2: this part is slow on purpose and not measured), then for each
scenario creates the group(s), opens one HTTP/1.1 keep-alive connection per client and, once all
are connected, lets every client send its M messages one after the other
(`POST /api/v1/groups/{id}/messages` with a fresh `client_id`; each 201 is a committed, durable
write). `shared`: all N clients send into one group. `own`: each client sends into its own group.
Afterwards it pages through each group's history (`?after=...&limit=100`) and checks that the
seqs are exactly 1..(messages in that group) and that every sent `client_id` is there once.
Prints one summary line per scenario. Standard library only (asyncio, raw HTTP/1.1).

Start the server with throttling out of the way, e.g.
`--request-burst 100000 --requests-per-second 100000`.
"""
import argparse, asyncio, json, math, secrets, sys, time, urllib.parse


class Conn:
    """One keep-alive HTTP/1.1 connection (Content-Length or chunked answers)."""

    def __init__(self, host: str, port: int, token: str | None = None) -> None:
        self.host, self.port, self.token = host, port, token
        self.reader: asyncio.StreamReader | None = None
        self.writer: asyncio.StreamWriter | None = None

    async def open(self) -> None:
        self.reader, self.writer = await asyncio.open_connection(self.host, self.port)

    async def close(self) -> None:
        if self.writer is not None:
            self.writer.close()
            try:
                await self.writer.wait_closed()
            except OSError:
                pass

    async def request(self, method: str, path: str, body: object = None) -> tuple[int, object]:
        if self.writer is None:
            await self.open()
        payload = b"" if body is None else json.dumps(body).encode()
        head = [f"{method} {path} HTTP/1.1", f"Host: {self.host}:{self.port}",
                f"Content-Length: {len(payload)}"]
        if body is not None:
            head.append("Content-Type: application/json")
        if self.token:
            head.append(f"Authorization: Bearer {self.token}")
        self.writer.write(("\r\n".join(head) + "\r\n\r\n").encode() + payload)
        await self.writer.drain()
        status_line = await self.reader.readuntil(b"\r\n")
        status = int(status_line.split()[1])
        headers: dict[str, str] = {}
        while True:
            line = await self.reader.readuntil(b"\r\n")
            if line == b"\r\n":
                break
            k, _, v = line.decode("latin-1").partition(":")
            headers[k.strip().lower()] = v.strip()
        if headers.get("transfer-encoding", "").lower() == "chunked":
            data = b""
            while True:
                size = int((await self.reader.readuntil(b"\r\n")).split(b";")[0], 16)
                chunk = await self.reader.readexactly(size + 2)
                if size == 0:
                    break
                data += chunk[:-2]
        else:
            data = await self.reader.readexactly(int(headers.get("content-length", "0")))
        if headers.get("connection", "").lower() == "close":
            await self.close()
            self.writer = None
        return status, (json.loads(data) if data else None)


def pct(sorted_vals: list[float], p: float) -> float:
    if not sorted_vals:
        return float("nan")
    return sorted_vals[max(0, math.ceil(p / 100 * len(sorted_vals)) - 1)]  # nearest rank


async def expect(conn: Conn, method: str, path: str, body: object, want: int) -> object:
    status, answer = await conn.request(method, path, body)
    if status != want:
        sys.exit(f"{method} {path} -> {status} (wanted {want}): {answer}")
    return answer


async def register_all(host: str, port: int, n: int, run: str) -> list[dict]:
    async def one(i: int) -> dict:
        conn = Conn(host, port)
        try:
            return await expect(conn, "POST", "/api/v1/auth/register",
                                {"username": f"sb{run}_{i}", "password": "correct horse battery"},
                                201)
        finally:
            await conn.close()
    return list(await asyncio.gather(*(one(i) for i in range(n))))


async def history(conn: Conn, group_id: str) -> list[dict]:
    messages, after = [], 0
    while True:
        page = await expect(conn, "GET",
                            f"/api/v1/groups/{group_id}/messages?after={after}&limit=100", None, 200)
        messages += page["messages"]
        if not page["messages"] or not page["has_more"]:
            return messages
        after = page["messages"][-1]["seq"]


async def scenario(name: str, host: str, port: int, users: list[dict], m: int, run: str) -> str:
    n = len(users)
    conns = [Conn(host, port, u["tokens"]["access_token"]) for u in users]
    for c in conns:
        await c.open()
    # The group(s): one for everyone (created by client 0), or one per client.
    if name == "shared":
        g = await expect(conns[0], "POST", "/api/v1/groups",
                         {"name": f"send burst {run}",
                          "member_ids": [u["user"]["id"] for u in users[1:]]}, 201)
        groups = [g["id"]] * n
    else:
        made = await asyncio.gather(*(expect(c, "POST", "/api/v1/groups",
                                             {"name": f"send burst {run} {i}"}, 201)
                                      for i, c in enumerate(conns)))
        groups = [g["id"] for g in made]

    go = asyncio.Event()
    latencies: list[float] = []
    statuses: dict[int, int] = {}
    sent: dict[str, set[str]] = {g: set() for g in groups}

    async def client(i: int) -> None:
        conn, gid = conns[i], groups[i]
        path = f"/api/v1/groups/{gid}/messages"
        await go.wait()
        for k in range(m):
            cid = f"{run}-{name}-{i}-{k}"
            t0 = time.perf_counter()
            status, _ = await conn.request("POST", path, {"body": f"message {k} from client {i}",
                                                          "client_id": cid})
            latencies.append(time.perf_counter() - t0)
            statuses[status] = statuses.get(status, 0) + 1
            if status == 201:
                sent[gid].add(cid)

    tasks = [asyncio.create_task(client(i)) for i in range(n)]
    await asyncio.sleep(0.2)  # every task is parked on the event
    began = time.perf_counter()
    go.set()
    await asyncio.gather(*tasks)
    took = time.perf_counter() - began

    # Correctness: each group's history holds seqs exactly 1..count, each sent client_id once.
    problems = []
    for gid in dict.fromkeys(groups):
        msgs = await history(conns[groups.index(gid)], gid)
        seqs = [x["seq"] for x in msgs]
        want = len(sent[gid])
        if seqs != list(range(1, want + 1)):
            problems.append(f"group {gid}: {len(seqs)} messages, seqs not 1..{want}")
        cids = [x["client_id"] for x in msgs]
        if len(set(cids)) != len(cids) or set(cids) != sent[gid]:
            problems.append(f"group {gid}: client_ids differ from those sent")
    for c in conns:
        await c.close()

    lat = sorted(latencies)
    ok = statuses.get(201, 0)
    check = ("history ok: " + (f"seqs 1..{n * m}" if name == "shared"
                               else f"{n} groups, seqs 1..{m} each")) \
        if not problems and ok == n * m else "HISTORY WRONG: " + "; ".join(problems[:3])
    return (f"{name:6} clients={n} messages={m}: {ok} sends in {took:.2f}s = {ok / took:,.0f}/s; "
            f"latency ms p50 {pct(lat, 50) * 1e3:.1f} p95 {pct(lat, 95) * 1e3:.1f} "
            f"p99 {pct(lat, 99) * 1e3:.1f} max {lat[-1] * 1e3:.1f}; statuses {statuses}; {check}")


async def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--url", required=True, help="base URL, e.g. http://127.0.0.1:18557")
    ap.add_argument("--clients", "-n", type=int, default=50)
    ap.add_argument("--messages", "-m", type=int, default=100, help="messages per client")
    ap.add_argument("--scenario", choices=["shared", "own", "both"], default="both")
    args = ap.parse_args()
    url = urllib.parse.urlsplit(args.url)
    host, port = url.hostname, url.port or 80
    run = secrets.token_hex(3)

    t0 = time.perf_counter()
    users = await register_all(host, port, args.clients, run)
    print(f"registered {len(users)} users in {time.perf_counter() - t0:.1f}s (not measured)",
          flush=True)
    for name in (["shared", "own"] if args.scenario == "both" else [args.scenario]):
        print(await scenario(name, host, port, users, args.messages, run), flush=True)


if __name__ == "__main__":
    asyncio.run(main())
