/*
 * luvirt.h: embed luvirt (Lua 5.4 + the libvirt API on libuv) in a C program.
 *
 *   luvirt *lv = luvirt_new(my_loop);             // or NULL: a loop of its own
 *   if (!lv) { fprintf(stderr, "%s\n", luvirt_errmsg(NULL)); ... }
 *   if (luvirt_run_file(lv, "script.lua", 0, NULL) < 0)
 *     fprintf(stderr, "%s\n", luvirt_errmsg(lv));
 *   uv_run(my_loop, UV_RUN_DEFAULT);              // or luvirt_run(lv, UV_RUN_DEFAULT)
 *   if (luvirt_failed(lv)) fprintf(stderr, "%s\n", luvirt_errmsg(lv));
 *   luvirt_close(lv);
 *
 * Compile and link with `pkg-config --cflags --libs luvirt`.
 *
 * One instance at a time per process, and every call on the thread that
 * runs the loop: libvirt's event implementation is process-global and
 * bound for good to the first instance's loop, so a later instance must use
 * the same loop (luvirt_new(NULL) does so by itself).  That loop keeps a few
 * unreferenced handles of luvirt's after luvirt_close: they never keep it
 * running, but uv_loop_close() on it returns UV_EBUSY.
 *
 * Errors are return codes plus luvirt_errmsg(); nothing here calls exit().
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#ifndef LUVIRT_H
#define LUVIRT_H

#include <uv.h>
#include <lua.h>

#ifdef __cplusplus
extern "C" {
#endif

#define LUVIRT_VERSION "0.1.0"

typedef struct luvirt luvirt;

/* A new instance on loop (NULL: a loop of its own).  NULL on failure, with
 * the reason in luvirt_errmsg(NULL): an instance exists already, libvirt's
 * events are bound to another loop, not the loop's thread, no memory. */
luvirt *luvirt_new(uv_loop_t *loop);

/* The Lua state (require "virt" works in it) and the loop. */
lua_State *luvirt_state(luvirt *lv);
uv_loop_t *luvirt_loop(luvirt *lv);

/* Load a file ("-" or NULL: stdin) or a string and start it as a task with
 * the given arguments (its `...`).  -1 if it cannot be loaded, with the
 * message in luvirt_errmsg(lv).  The task runs as the loop runs; if it
 * fails, luvirt_failed() becomes 1, luvirt_errmsg() holds the error with a
 * traceback, and the loop is stopped (uv_stop), whoever runs it. */
int luvirt_run_file(luvirt *lv, const char *path, int argc, char **argv);
int luvirt_run_string(luvirt *lv, const char *chunk, const char *name);

/* Run the loop: UV_RUN_DEFAULT (until nothing is left), UV_RUN_ONCE or
 * UV_RUN_NOWAIT.  Returns uv_run's result (non-zero: more to do), or -1
 * when a task started by luvirt_run_* failed, when a started task is left
 * suspended with nothing on the loop to wake it (DEFAULT only), or when
 * called while the loop already runs (from a callback). */
int luvirt_run(luvirt *lv, uv_run_mode mode);

/* Tasks not finished yet (started by luvirt_run_* or virt.spawn). */
int luvirt_tasks(luvirt *lv);

/* For programs with a foreign loop (poll/epoll/glib): wait until the
 * backend fd is readable, for at most the timeout (ms; -1: no timeout),
 * then call luvirt_run(lv, UV_RUN_NOWAIT); repeat. */
int luvirt_backend_fd(luvirt *lv);
int luvirt_backend_timeout(luvirt *lv);

/* The last error of lv (a load error or a task's failure), "" if none;
 * with NULL, why the last luvirt_new() failed. */
const char *luvirt_errmsg(luvirt *lv);
/* 1 once a task started by luvirt_run_* failed (reset by luvirt_run). */
int luvirt_failed(luvirt *lv);

/* Close the Lua state (closing its connections and luv handles), wait for
 * libvirt's pending work and free callbacks, release everything.  Tasks
 * still suspended are dropped.  Not from inside a callback. */
void luvirt_close(luvirt *lv);

#ifdef __cplusplus
}
#endif
#endif
