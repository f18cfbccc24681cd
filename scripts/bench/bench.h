/*
 * bench.h: what the C reference programs of the benchmarks share.
 *
 * Every program prints its figures as key=value lines on stdout, so the
 * runner reads C, Python, Perl and Lua competitors the same way.
 *
 * Copyright (C) 2026 the luvirt authors
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#ifndef BENCH_H
#define BENCH_H

#define _POSIX_C_SOURCE 200809L
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <libvirt/libvirt.h>
#include <libvirt/virterror.h>

static inline double bench_now(void)
{
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* A reference that fails must not print a figure the runner would take. */
static inline void bench_die(const char *what)
{
  fprintf(stderr, "%s: %s\n", what, virGetLastErrorMessage());
  exit(1);
}

static inline long bench_count(const char *s, const char *what)
{
  char *end;
  long n = strtol(s, &end, 10);
  if (*s == '\0' || *end != '\0' || n <= 0) {
    fprintf(stderr, "%s must be a positive integer, got '%s'\n", what, s);
    exit(2);
  }
  return n;
}

#endif
