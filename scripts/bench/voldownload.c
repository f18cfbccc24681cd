/*
 * voldownload URI POOL VOLUME FILE
 *
 * Downloads a whole storage volume through a stream (virStorageVolDownload
 * + virStreamRecvAll) into FILE.
 *
 * Copyright (C) 2026 the luvirt authors
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#include "bench.h"
#include <errno.h>
#include <fcntl.h>
#include <unistd.h>

static long long written;

static int sink(virStreamPtr st, const char *data, size_t nbytes, void *opaque)
{
  (void)st;
  int fd = *(int *)opaque;
  size_t done = 0;
  while (done < nbytes) {
    ssize_t n = write(fd, data + done, nbytes - done);
    if (n < 0) {
      if (errno == EINTR)
        continue;
      return -1;
    }
    done += (size_t)n;
  }
  written += (long long)nbytes;
  return (int)nbytes;
}

int main(int argc, char **argv)
{
  if (argc != 5) {
    fprintf(stderr, "usage: %s URI POOL VOLUME FILE\n", argv[0]);
    return 2;
  }
  virConnectPtr conn = virConnectOpen(argv[1]);
  if (!conn)
    bench_die("virConnectOpen");
  virStoragePoolPtr pool = virStoragePoolLookupByName(conn, argv[2]);
  if (!pool)
    bench_die("virStoragePoolLookupByName");
  virStorageVolPtr vol = virStorageVolLookupByName(pool, argv[3]);
  if (!vol)
    bench_die("virStorageVolLookupByName");
  int fd = open(argv[4], O_WRONLY | O_CREAT | O_TRUNC, 0600);
  if (fd < 0) {
    perror(argv[4]);
    return 1;
  }

  double t0 = bench_now();
  virStreamPtr st = virStreamNew(conn, 0);
  if (!st)
    bench_die("virStreamNew");
  if (virStorageVolDownload(vol, st, 0, 0, 0) < 0)
    bench_die("virStorageVolDownload");
  if (virStreamRecvAll(st, sink, &fd) < 0) {
    virStreamAbort(st);
    bench_die("virStreamRecvAll");
  }
  if (virStreamFinish(st) < 0)
    bench_die("virStreamFinish");
  if (close(fd) < 0) {
    perror(argv[4]);
    return 1;
  }
  double t1 = bench_now();

  printf("seconds=%.6f\nbytes=%lld\n", t1 - t0, written);
  virStreamFree(st);
  virStorageVolFree(vol);
  virStoragePoolFree(pool);
  virConnectClose(conn);
  return 0;
}
