/*
 * flip URI DOMAIN COUNT
 *
 * The event source of the lifecycle benchmarks: suspends and resumes DOMAIN
 * alternately, COUNT calls in all, so a receiver on another connection gets
 * exactly COUNT lifecycle events.  Every receiver (C, Python, Lua) is fed by
 * this same program, so their figures differ only in how they receive.
 *
 * Copyright (C) 2026 the luvirt authors
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#include "bench.h"

int main(int argc, char **argv)
{
  if (argc != 4) {
    fprintf(stderr, "usage: %s URI DOMAIN COUNT\n", argv[0]);
    return 2;
  }
  long count = bench_count(argv[3], "COUNT");
  if (count % 2) {
    /* An odd count would leave the domain paused and fail the next run. */
    fprintf(stderr, "COUNT must be even\n");
    return 2;
  }
  virConnectPtr conn = virConnectOpen(argv[1]);
  if (!conn)
    bench_die("virConnectOpen");
  virDomainPtr dom = virDomainLookupByName(conn, argv[2]);
  if (!dom)
    bench_die("virDomainLookupByName");
  int state, reason;
  if (virDomainGetState(dom, &state, &reason, 0) < 0)
    bench_die("virDomainGetState");
  if (state != VIR_DOMAIN_RUNNING) {
    fprintf(stderr, "domain %s is not running (state %d)\n", argv[2], state);
    return 1;
  }
  for (long i = 0; i < count; i++)
    if ((i % 2 ? virDomainResume(dom) : virDomainSuspend(dom)) < 0)
      bench_die(i % 2 ? "virDomainResume" : "virDomainSuspend");
  virDomainFree(dom);
  virConnectClose(conn);
  return 0;
}
