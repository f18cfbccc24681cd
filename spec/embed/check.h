/*
 * check.h: what the programs of spec/embed share: one check per line of
 * output ("ok - ..." / "not ok - ...: detail"), counted in `failures`; a
 * program ends with the line "N failed" and exit status 1 if N > 0.
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#ifndef SPEC_EMBED_CHECK_H
#define SPEC_EMBED_CHECK_H
#include <stdio.h>

static int failures;

static void check(int ok, const char *what, const char *detail)
{
  printf("%s - %s%s%s\n", ok ? "ok" : "not ok", what, detail && !ok ? ": " : "",
         detail && !ok ? detail : "");
  fflush(stdout);               /* in order with what luvirt prints on stderr */
  if (!ok)
    failures++;
}

#endif
