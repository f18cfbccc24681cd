/*
 * handoff URI DOMAIN COUNT INFLIGHT POOL [loop]
 *
 * luvirt's shape in C, without Lua: one thread owns every result, as
 * luvirt's loop thread (the only one that runs Lua) does, and hands each
 * virDomainGetInfo call to a pool of POOL worker threads (SCHED_BATCH, as
 * luvirt's), keeping INFLIGHT calls queued or running, as INFLIGHT tasks
 * would.  A worker reports a finished call through an eventfd the owner
 * waits on, once per batch of finished calls.  With "loop" the owner waits
 * in libvirt's default event loop (virEventRunDefaultImpl, the eventfd one
 * of its handles), as luvirt's loop thread waits with libvirt's socket
 * among its fds; otherwise in epoll_wait on the eventfd alone.
 *
 * This is the floor of the one-thread-runs-the-script design on the machine
 * it runs on: what luvirt takes above it is Lua and luvirt's own code, what
 * it takes below plain C (getinfo) is the hand-offs themselves.
 *
 * Copyright (C) 2026 the luvirt authors
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#define _GNU_SOURCE
#include "bench.h"
#include <errno.h>
#include <pthread.h>
#include <sched.h>
#include <stdint.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <unistd.h>

typedef struct job {
  struct job *next;
  virDomainInfo info;
  int rc;
} job;

static virDomainPtr dom;
static pthread_mutex_t qm = PTHREAD_MUTEX_INITIALIZER, dm = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t qc = PTHREAD_COND_INITIALIZER;
static job *q_head, *q_tail, *d_head, *d_tail;
static int efd;
static long count, submitted, completed, failed;

static void *worker(void *arg)
{
  struct sched_param sp = {0};
  (void)arg;
  (void)pthread_setschedparam(pthread_self(), SCHED_BATCH, &sp);
  for (;;) {
    job *j;
    int first;
    pthread_mutex_lock(&qm);
    while (!q_head)
      pthread_cond_wait(&qc, &qm);
    j = q_head;
    q_head = j->next;
    if (!q_head)
      q_tail = NULL;
    pthread_mutex_unlock(&qm);

    j->rc = virDomainGetInfo(dom, &j->info);
    j->next = NULL;
    pthread_mutex_lock(&dm);
    first = d_head == NULL;
    if (d_tail)
      d_tail->next = j;
    else
      d_head = j;
    d_tail = j;
    pthread_mutex_unlock(&dm);
    if (first) {
      uint64_t one = 1;
      if (write(efd, &one, sizeof one) < 0 && errno != EAGAIN)
        perror("write eventfd");
    }
  }
  return NULL;
}

static void submit(job *j)
{
  j->next = NULL;
  pthread_mutex_lock(&qm);
  if (q_tail)
    q_tail->next = j;
  else
    q_head = j;
  q_tail = j;
  pthread_mutex_unlock(&qm);
  pthread_cond_signal(&qc);
  submitted++;
}

/* The owner's side of a wake-up: take every finished call, look at its
 * result, and start the next call in its place. */
static void drain(void)
{
  uint64_t n;
  job *j, *next;
  if (read(efd, &n, sizeof n) < 0 && errno != EAGAIN)
    perror("read eventfd");
  pthread_mutex_lock(&dm);
  j = d_head;
  d_head = d_tail = NULL;
  pthread_mutex_unlock(&dm);
  for (; j; j = next) {
    next = j->next;
    completed++;
    if (j->rc < 0 || j->info.state == 0)
      failed++;
    if (submitted < count)
      submit(j);
  }
}

static void on_efd(int watch, int fd, int events, void *opaque)
{
  (void)watch;
  (void)fd;
  (void)events;
  (void)opaque;
  drain();
}

int main(int argc, char **argv)
{
  if (argc < 6 || argc > 7 || (argc == 7 && strcmp(argv[6], "loop") != 0)) {
    fprintf(stderr, "usage: %s URI DOMAIN COUNT INFLIGHT POOL [loop]\n", argv[0]);
    return 2;
  }
  count = bench_count(argv[3], "COUNT");
  long inflight = bench_count(argv[4], "INFLIGHT");
  long npool = bench_count(argv[5], "POOL");
  int loop = argc == 7;

  if (loop && virEventRegisterDefaultImpl() < 0)
    bench_die("virEventRegisterDefaultImpl");
  virConnectPtr conn = virConnectOpen(argv[1]);
  if (!conn)
    bench_die("virConnectOpen");
  dom = virDomainLookupByName(conn, argv[2]);
  if (!dom)
    bench_die("virDomainLookupByName");
  efd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
  if (efd < 0) {
    perror("eventfd");
    return 1;
  }
  int ep = -1;
  if (loop) {
    if (virEventAddHandle(efd, VIR_EVENT_HANDLE_READABLE, on_efd, NULL, NULL) < 0)
      bench_die("virEventAddHandle");
  } else {
    struct epoll_event ev = {.events = EPOLLIN};
    ep = epoll_create1(EPOLL_CLOEXEC);
    if (ep < 0 || epoll_ctl(ep, EPOLL_CTL_ADD, efd, &ev) < 0) {
      perror("epoll");
      return 1;
    }
  }
  for (long i = 0; i < npool; i++) {
    pthread_t tid;
    if (pthread_create(&tid, NULL, worker, NULL) != 0) {
      fprintf(stderr, "pthread_create failed\n");
      return 1;
    }
    pthread_detach(tid);
  }
  job *jobs = calloc((size_t)inflight, sizeof *jobs);
  if (!jobs)
    return 1;

  double t0 = bench_now();
  for (long i = 0; i < inflight && submitted < count; i++)
    submit(&jobs[i]);
  while (completed < count) {
    if (loop) {
      if (virEventRunDefaultImpl() < 0)
        bench_die("virEventRunDefaultImpl");
    } else {
      struct epoll_event ev;
      if (epoll_wait(ep, &ev, 1, -1) == 1)
        drain();
    }
  }
  double t1 = bench_now();

  if (failed) {
    fprintf(stderr, "%ld calls failed\n", failed);
    return 1;
  }
  printf("seconds=%.6f\ncalls=%ld\n", t1 - t0, count);
  /* the workers still wait on the queue: leave without joining them */
  fflush(stdout);
  _exit(0);
}
