/*
 * repl.c: the interactive prompt (a plain line reader for now).
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#include <stdio.h>
#include <string.h>
#include "luvirt.h"

int lv_repl_run(luvirt *lv)
{
  char line[4096];
  for (;;) {
    char buf[4200];
    fputs("> ", stdout);
    fflush(stdout);
    if (!fgets(line, sizeof line, stdin))
      break;
    snprintf(buf, sizeof buf, "return %s", line);
    if (luvirt_run_string(lv, buf, "=stdin") < 0 &&
        luvirt_run_string(lv, line, "=stdin") < 0) {
      fprintf(stderr, "%s\n", luvirt_errmsg(lv));
      continue;
    }
    if (luvirt_run(lv, UV_RUN_DEFAULT) < 0)
      fprintf(stderr, "%s\n", luvirt_errmsg(lv));
  }
  fputs("\n", stdout);
  return 0;
}
