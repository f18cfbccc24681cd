/*
 * startup [URI]
 *
 * The smallest C client: without URI it only initializes libvirt; with URI it
 * also opens and closes that connection.  The runner measures its wall time
 * and peak RSS from outside (runstat).
 *
 * Copyright (C) 2026 the luvirt authors
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#include "bench.h"

int main(int argc, char **argv)
{
  if (argc > 2) {
    fprintf(stderr, "usage: %s [URI]\n", argv[0]);
    return 2;
  }
  if (virInitialize() < 0)
    bench_die("virInitialize");
  if (argc == 2) {
    virConnectPtr conn = virConnectOpen(argv[1]);
    if (!conn)
      bench_die("virConnectOpen");
    virConnectClose(conn);
  }
  return 0;
}
