/*
 * events drain|live URI DOMAIN COUNT FLIP
 *
 * Lifecycle events received with libvirt's default event implementation
 * (virEventRegisterDefaultImpl), fed by `FLIP URI DOMAIN COUNT` on its own
 * connection.
 *
 *   drain: the receiver holds its loop while FLIP runs to completion, so the
 *          events queue up; then it releases the loop and times the delivery
 *          of all COUNT events: the receiver's capacity.
 *   live:  FLIP runs while the loop runs; the time from the first to the last
 *          event is the live rate.
 *
 * Copyright (C) 2026 the luvirt authors
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#include "bench.h"
#include <sys/types.h>
#include <sys/wait.h>
#include <unistd.h>

/* Give up when events stop coming, so a lost event is a failure, not a hang. */
#define STALL_SECONDS 30.0

static long received, wanted;
static double t_first, t_last;

static int on_lifecycle(virConnectPtr conn, virDomainPtr dom, int event,
                        int detail, void *opaque)
{
  (void)conn; (void)dom; (void)event; (void)detail; (void)opaque;
  double t = bench_now();
  if (received == 0)
    t_first = t;
  received++;
  t_last = t;
  return 0;
}

/* Only here to wake virEventRunDefaultImpl, which would otherwise sleep
 * forever if an event never came. */
static void on_tick(int timer, void *opaque)
{
  (void)timer; (void)opaque;
}

static pid_t spawn_flip(char **argv)
{
  pid_t pid = fork();
  if (pid < 0) {
    perror("fork");
    exit(1);
  }
  if (pid == 0) {
    execv(argv[0], argv);
    perror(argv[0]);
    _exit(127);
  }
  return pid;
}

static void reap_flip(pid_t pid)
{
  int status;
  if (waitpid(pid, &status, 0) < 0 || !WIFEXITED(status) || WEXITSTATUS(status) != 0) {
    fprintf(stderr, "flip failed\n");
    exit(1);
  }
}

int main(int argc, char **argv)
{
  if (argc != 6 || (strcmp(argv[1], "drain") && strcmp(argv[1], "live"))) {
    fprintf(stderr, "usage: %s drain|live URI DOMAIN COUNT FLIP\n", argv[0]);
    return 2;
  }
  int drain = strcmp(argv[1], "drain") == 0;
  wanted = bench_count(argv[4], "COUNT");
  char *flip_argv[] = { argv[5], argv[2], argv[3], argv[4], NULL };

  if (virEventRegisterDefaultImpl() < 0)
    bench_die("virEventRegisterDefaultImpl");
  virConnectPtr conn = virConnectOpen(argv[2]);
  if (!conn)
    bench_die("virConnectOpen");
  int cb = virConnectDomainEventRegisterAny(conn, NULL, VIR_DOMAIN_EVENT_ID_LIFECYCLE,
                                            VIR_DOMAIN_EVENT_CALLBACK(on_lifecycle),
                                            NULL, NULL);
  if (cb < 0)
    bench_die("virConnectDomainEventRegisterAny");
  int tick = virEventAddTimeout(1000, on_tick, NULL, NULL);
  if (tick < 0)
    bench_die("virEventAddTimeout");

  pid_t flip = spawn_flip(flip_argv);
  if (drain)
    reap_flip(flip);
  double t0 = bench_now();
  while (received < wanted) {
    double last = received ? t_last : t0;
    if (bench_now() - last > STALL_SECONDS)
      break;
    if (virEventRunDefaultImpl() < 0)
      bench_die("virEventRunDefaultImpl");
  }
  if (!drain)
    reap_flip(flip);

  if (received != wanted) {
    fprintf(stderr, "received %ld of %ld events\n", received, wanted);
    return 1;
  }
  printf("seconds=%.6f\nevents=%ld\n", drain ? t_last - t0 : t_last - t_first, received);
  virEventRemoveTimeout(tick);
  virConnectDomainEventDeregisterAny(conn, cb);
  virConnectClose(conn);
  return 0;
}
