#!/usr/bin/python3
# The libvirt-python side of the benchmarks (python3-libvirt, libvirtaio).
#
#   bench.py getinfo URI DOMAIN COUNT [THREADS]
#   bench.py listall URI ROUNDS
#   bench.py events drain|live URI DOMAIN COUNT FLIP
#   bench.py memory URI
#
# Prints key=value lines, like the C programs; see scripts/bench/run.sh.
#
# Copyright (C) 2026 the luvirt authors
# SPDX-License-Identifier: LGPL-2.1-or-later
import asyncio
import subprocess
import sys
import threading
import time

import libvirt
import libvirtaio

# Events stop coming: fail rather than hang.
STALL_SECONDS = 30.0


def getinfo(uri, name, count, nthreads="1"):
    count, nthreads = int(count), int(nthreads)
    conn = libvirt.open(uri)
    dom = conn.lookupByName(name)

    def work(calls):
        for _ in range(calls):
            dom.info()

    shares = [count // nthreads + (t < count % nthreads) for t in range(nthreads)]
    t0 = time.perf_counter()
    if nthreads == 1:
        work(count)
    else:
        errors = []

        def guarded(calls):
            try:
                work(calls)
            except libvirt.libvirtError as e:
                errors.append(e)

        threads = [threading.Thread(target=guarded, args=(n,)) for n in shares]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        if errors:
            raise errors[0]
    t1 = time.perf_counter()
    print(f"seconds={t1 - t0:.6f}\ncalls={count}")
    conn.close()


def listall(uri, rounds):
    conn = libvirt.open(uri)
    n = 0
    t0 = time.perf_counter()
    for _ in range(int(rounds)):
        doms = conn.listAllDomains(0)
        for dom in doms:
            dom.info()
        n = len(doms)
        del doms
    t1 = time.perf_counter()
    print(f"seconds={t1 - t0:.6f}\ndomains={n}")
    conn.close()


async def events_async(mode, uri, name, count, flip):
    wanted = int(count)
    libvirtaio.virEventRegisterAsyncIOImpl()
    conn = libvirt.open(uri)
    loop = asyncio.get_running_loop()
    done = loop.create_future()
    seen = {"n": 0, "first": 0.0, "last": 0.0}

    def on_lifecycle(conn, dom, event, detail, opaque):
        t = time.perf_counter()
        if seen["n"] == 0:
            seen["first"] = t
        seen["n"] += 1
        seen["last"] = t
        if seen["n"] == wanted and not done.done():
            done.set_result(None)

    cb = conn.domainEventRegisterAny(None, libvirt.VIR_DOMAIN_EVENT_ID_LIFECYCLE,
                                     on_lifecycle, None)
    argv = [flip, uri, name, count]
    if mode == "drain":
        # Blocks the asyncio loop: the events queue up until it returns.
        subprocess.run(argv, check=True)
        t0 = time.perf_counter()
        proc = None
    else:
        proc = await asyncio.create_subprocess_exec(*argv)
        t0 = time.perf_counter()
    while not done.done():
        last = seen["last"] if seen["n"] else t0
        try:
            await asyncio.wait_for(asyncio.shield(done), timeout=1.0)
        except asyncio.TimeoutError:
            if time.perf_counter() - last > STALL_SECONDS:
                break
    if proc is not None and await proc.wait() != 0:
        sys.exit("flip failed")
    if seen["n"] != wanted:
        sys.exit(f"received {seen['n']} of {wanted} events")
    took = seen["last"] - (t0 if mode == "drain" else seen["first"])
    print(f"seconds={took:.6f}\nevents={seen['n']}")
    conn.domainEventDeregisterAny(cb)
    conn.close()


def events(mode, uri, name, count, flip):
    if mode not in ("drain", "live"):
        sys.exit("mode must be drain or live")
    asyncio.run(events_async(mode, uri, name, count, flip))


def rss_kib():
    with open("/proc/self/status") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    raise RuntimeError("no VmRSS in /proc/self/status")


def memory(uri):
    import gc
    conn = libvirt.open(uri)
    gc.collect()
    print(f"rss_open_kib={rss_kib()}")
    # Two hold/drop cycles: the second shows whether dropping really gives
    # the memory back for reuse, whatever the allocator keeps mapped.
    for cycle in (1, 2):
        doms = conn.listAllDomains(0)
        print(f"domains={len(doms)}")
        print(f"rss_hold{cycle}_kib={rss_kib()}")
        del doms
        gc.collect()
        print(f"rss_drop{cycle}_kib={rss_kib()}")
    conn.close()


COMMANDS = {"getinfo": getinfo, "listall": listall, "events": events, "memory": memory}

if __name__ == "__main__":
    if len(sys.argv) < 2 or sys.argv[1] not in COMMANDS:
        sys.exit("usage: bench.py getinfo|listall|events|memory ARGS...")
    COMMANDS[sys.argv[1]](*sys.argv[2:])
