/*
 * main.c: the luvirt command.
 *
 *   luvirt [options] [script [args...]]
 *
 * Like lua(1), except that every chunk runs as a task on the libuv loop
 * that also carries libvirt's events, and the loop runs until it is idle.
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#ifdef __GLIBC__
#include <malloc.h>
#endif
#include <lualib.h>
#include <libvirt/libvirt.h>
#include "luvirt.h"

int lv_repl_run(luvirt *lv);

static const char usage_text[] =
  "usage: luvirt [options] [script [args...]]\n"
  "Run Lua 5.4 scripts with the whole libvirt API (require \"virt\") on one\n"
  "libuv loop.  Each chunk runs as a task; the loop then runs until idle.\n"
  "\n"
  "Options:\n"
  "  -e chunk   run the string 'chunk'\n"
  "  -l mod     require library 'mod' into global 'mod'\n"
  "  -i         enter interactive mode after running the script\n"
  "  -v         show version information\n"
  "  -h, --help show this help\n"
  "  --         stop handling options\n"
  "  -          run stdin as the script\n"
  "\n"
  "With no script and stdin a terminal, luvirt starts its REPL.\n"
  "Environment: LUVIRT_POOL_SIZE (worker threads for blocking calls, default 16),\n"
  "LUVIRT_PATH (extra Lua search path entries), LUVIRT_WORKER_SCHED_OTHER=1 (worker\n"
  "threads keep SCHED_OTHER instead of SCHED_BATCH), LUVIRT_PLAIN_ALLOC=1 (plain\n"
  "realloc/free for the Lua state).\n";

static void print_version(void)
{
  printf("luvirt %s (%s, libuv %s", LUVIRT_VERSION, LUA_RELEASE, uv_version_string());
  {
    unsigned long v = 0;
    if (virGetVersion(&v, NULL, NULL) == 0)
      printf(", libvirt %lu.%lu.%lu", v / 1000000, v / 1000 % 1000, v % 1000);
  }
  printf(")\n");
}

/* Run what was started until the loop is idle; report a failure. */
static int drain(luvirt *lv)
{
  if (luvirt_run(lv, UV_RUN_DEFAULT) < 0) {
    fprintf(stderr, "luvirt: %s\n", luvirt_errmsg(lv));
    fflush(stderr);
    return -1;
  }
  return 0;
}

static int fail_load(luvirt *lv)
{
  fprintf(stderr, "luvirt: %s\n", luvirt_errmsg(lv));
  return -1;
}

/* glibc gives the top of the heap back to the kernel once more than twice
 * its mmap threshold is free there, and that threshold settles at the size
 * of the largest block freed so far: 256 KiB, an RPC stream message, as
 * soon as a download starts.  Lua frees garbage a collection cycle at a
 * time, and with the few hundred KiB a script's heap holds a cycle ends
 * every other 256 KiB string: two of them free at the top are over the
 * threshold, the heap shrinks, and the next string or libvirt's next
 * message buffer is faulted in again.  A 1 GiB recv_all took 20-50k page
 * faults that way (virStreamRecvAll in C: 1.1k; setting these: 1.6k).
 * So the host keeps up to 8 MiB free at the top, and blocks under 4 MiB
 * (copy_from's 1 MiB reads, the strings of a transfer) on the heap; bigger
 * ones, such as the bulk receive buffers a stream keeps for a whole
 * transfer, are mapped on their own.  Setting either turns off glibc's own
 * adjustment of both.  Not done when the user has tuned malloc
 * (MALLOC_*_, GLIBC_TUNABLES), nor by the library (an embedding program's
 * allocator is its own business). */
static void tune_malloc(void)
{
#ifdef __GLIBC__
  const char *t = getenv("GLIBC_TUNABLES");
  if (getenv("MALLOC_TRIM_THRESHOLD_") || getenv("MALLOC_MMAP_THRESHOLD_") ||
      getenv("MALLOC_TOP_PAD_") || (t && strstr(t, "glibc.malloc.")))
    return;
  mallopt(M_MMAP_THRESHOLD, 4 * 1024 * 1024);
  mallopt(M_TRIM_THRESHOLD, 8 * 1024 * 1024);
#endif
}

/* arg as lua.c makes it: arg[0] the script, arg[1..] its arguments,
 * negative indices the interpreter and its options. */
static void make_arg(lua_State *L, int argc, char **argv, int script)
{
  int i;
  lua_createtable(L, argc - script, script + 1);
  for (i = 0; i < argc; i++) {
    lua_pushstring(L, argv[i]);
    lua_rawseti(L, -2, i - script);
  }
  lua_setglobal(L, "arg");
}

int main(int argc, char **argv)
{
  luvirt *lv;
  int i, script = 0, interactive = 0, ran = 0, status = 0;

  for (i = 1; i < argc; i++) {
    const char *a = argv[i];
    if (a[0] != '-' || strcmp(a, "-") == 0) {
      script = i;
      break;
    }
    if (strcmp(a, "--") == 0) {
      if (i + 1 < argc)
        script = i + 1;
      break;
    }
    if (strcmp(a, "-h") == 0 || strcmp(a, "--help") == 0) {
      fputs(usage_text, stdout);
      return 0;
    }
    if (strcmp(a, "-v") == 0 || strcmp(a, "--version") == 0) {
      print_version();
      return 0;
    }
    if (strcmp(a, "-i") == 0)
      interactive = 1;
    else if (strcmp(a, "-e") == 0 || strcmp(a, "-l") == 0) {
      if (++i >= argc) {
        fprintf(stderr, "luvirt: '%s' needs an argument\n%s", a, usage_text);
        return 1;
      }
    } else if (!(strncmp(a, "-e", 2) == 0 || strncmp(a, "-l", 2) == 0)) {
      fprintf(stderr, "luvirt: unrecognized option '%s'\n%s", a, usage_text);
      return 1;
    }
  }

  tune_malloc();
  lv = luvirt_new(NULL);
  if (!lv) {
    fprintf(stderr, "luvirt: cannot create the interpreter\n");
    return 1;
  }
  make_arg(luvirt_state(lv), argc, argv, script ? script : argc);

  /* -e and -l in order, each run to completion before the next */
  for (i = 1; i < (script ? script : argc) && status == 0; i++) {
    const char *a = argv[i], *v = NULL;
    if (strncmp(a, "-e", 2) == 0 || strncmp(a, "-l", 2) == 0)
      v = a[2] ? a + 2 : argv[++i];
    if (!v)
      continue;
    ran = 1;
    if (a[1] == 'e') {
      if (luvirt_run_string(lv, v, "=(command line)") < 0)
        status = fail_load(lv);
      else if (drain(lv) < 0)
        status = -1;
    } else {
      const char *dot = strrchr(v, '.');
      char buf[512];
      snprintf(buf, sizeof buf, "%s = require(%s%s%s)", dot ? dot + 1 : v, "\"", v, "\"");
      if (luvirt_run_string(lv, buf, "=(command line)") < 0)
        status = fail_load(lv);
      else if (drain(lv) < 0)
        status = -1;
    }
  }
  if (status == 0 && script) {
    ran = 1;
    if (luvirt_run_file(lv, argv[script], argc - script - 1, argv + script + 1) < 0)
      status = fail_load(lv);
    else if (drain(lv) < 0)
      status = -1;
  }
  if (status == 0 && (interactive || (!ran && isatty(0))))
    status = lv_repl_run(lv) < 0 ? -1 : 0;
  else if (status == 0 && !ran) {
    if (luvirt_run_file(lv, "-", 0, NULL) < 0)
      status = fail_load(lv);
    else if (drain(lv) < 0)
      status = -1;
  }
  luvirt_close(lv);
  return status == 0 ? 0 : 1;
}
