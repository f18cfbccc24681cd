/*
 * listall URI ROUNDS
 *
 * ROUNDS times: virConnectListAllDomains, virDomainGetInfo on each domain,
 * free them all.  Only the rounds are timed, not opening URI (a fixture of
 * thousands of domains takes a while to parse).
 *
 * Copyright (C) 2026 the luvirt authors
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#include "bench.h"

int main(int argc, char **argv)
{
  if (argc != 3) {
    fprintf(stderr, "usage: %s URI ROUNDS\n", argv[0]);
    return 2;
  }
  long rounds = bench_count(argv[2], "ROUNDS");
  virConnectPtr conn = virConnectOpen(argv[1]);
  if (!conn)
    bench_die("virConnectOpen");

  int n = 0;
  double t0 = bench_now();
  for (long r = 0; r < rounds; r++) {
    virDomainPtr *doms;
    virDomainInfo info;
    n = virConnectListAllDomains(conn, &doms, 0);
    if (n < 0)
      bench_die("virConnectListAllDomains");
    for (int i = 0; i < n; i++)
      if (virDomainGetInfo(doms[i], &info) < 0)
        bench_die("virDomainGetInfo");
    for (int i = 0; i < n; i++)
      virDomainFree(doms[i]);
    free(doms);
  }
  double t1 = bench_now();

  printf("seconds=%.6f\ndomains=%d\n", t1 - t0, n);
  virConnectClose(conn);
  return 0;
}
