#!/usr/bin/env python3
"""Registers N users at once against a running confab and samples its resident memory.

Usage: bench/register_burst.py --url http://127.0.0.1:18555 --pid <confab pid> [--n 150]
Prints the status counts and the peak RSS. Standard library only.
"""
import argparse, json, threading, time, urllib.error, urllib.request


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--url", required=True)
    ap.add_argument("--pid", type=int, required=True)
    ap.add_argument("--n", type=int, default=150)
    args = ap.parse_args()

    codes: dict[int, int] = {}
    lock = threading.Lock()

    def register(i: int) -> None:
        body = json.dumps({"username": f"burst{i}", "password": "correct horse battery"}).encode()
        req = urllib.request.Request(f"{args.url}/api/v1/auth/register", data=body,
                                     headers={"content-type": "application/json"})
        try:
            code = urllib.request.urlopen(req, timeout=120).status
        except urllib.error.HTTPError as e:
            code = e.code
        with lock:
            codes[code] = codes.get(code, 0) + 1

    def rss_kib() -> int:
        with open(f"/proc/{args.pid}/status") as f:
            return next(int(l.split()[1]) for l in f if l.startswith("VmRSS:"))

    start_rss, peak = rss_kib(), 0
    threads = [threading.Thread(target=register, args=(i,)) for i in range(args.n)]
    began = time.monotonic()
    for t in threads:
        t.start()
    while any(t.is_alive() for t in threads):
        peak = max(peak, rss_kib())
        time.sleep(0.05)
    took = time.monotonic() - began
    print(f"statuses {codes}; {args.n} registrations in {took:.1f}s; "
          f"rss start {start_rss // 1024} MiB, peak {peak // 1024} MiB")


if __name__ == "__main__":
    main()
