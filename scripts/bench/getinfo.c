/*
 * getinfo URI DOMAIN COUNT [THREADS]
 *
 * COUNT virDomainGetInfo calls on one domain.  With THREADS > 1 the calls
 * are shared out among that many threads using the same connection, which is
 * how a C client gets concurrency out of one RPC connection.
 *
 * Copyright (C) 2026 the luvirt authors
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#include "bench.h"
#include <pthread.h>

struct worker {
  pthread_t tid;
  virDomainPtr dom;
  long calls;
  int failed;
};

static void *worker_run(void *opaque)
{
  struct worker *w = opaque;
  virDomainInfo info;
  for (long i = 0; i < w->calls; i++) {
    if (virDomainGetInfo(w->dom, &info) < 0) {
      fprintf(stderr, "virDomainGetInfo: %s\n", virGetLastErrorMessage());
      w->failed = 1;
      break;
    }
  }
  return NULL;
}

int main(int argc, char **argv)
{
  if (argc < 4 || argc > 5) {
    fprintf(stderr, "usage: %s URI DOMAIN COUNT [THREADS]\n", argv[0]);
    return 2;
  }
  long count = bench_count(argv[3], "COUNT");
  long nthreads = argc == 5 ? bench_count(argv[4], "THREADS") : 1;

  virConnectPtr conn = virConnectOpen(argv[1]);
  if (!conn)
    bench_die("virConnectOpen");
  virDomainPtr dom = virDomainLookupByName(conn, argv[2]);
  if (!dom)
    bench_die("virDomainLookupByName");

  struct worker *w = calloc((size_t)nthreads, sizeof *w);
  if (!w)
    return 1;
  for (long t = 0; t < nthreads; t++) {
    w[t].dom = dom;
    w[t].calls = count / nthreads + (t < count % nthreads);
  }

  double t0 = bench_now();
  if (nthreads == 1) {
    worker_run(&w[0]);
  } else {
    for (long t = 0; t < nthreads; t++)
      if (pthread_create(&w[t].tid, NULL, worker_run, &w[t]) != 0) {
        fprintf(stderr, "pthread_create failed\n");
        return 1;
      }
    for (long t = 0; t < nthreads; t++)
      pthread_join(w[t].tid, NULL);
  }
  double t1 = bench_now();

  int failed = 0;
  for (long t = 0; t < nthreads; t++)
    failed |= w[t].failed;
  if (failed)
    return 1;
  printf("seconds=%.6f\ncalls=%ld\n", t1 - t0, count);
  free(w);
  virDomainFree(dom);
  virConnectClose(conn);
  return 0;
}
