/*
 * luvirt.h: embed luvirt (Lua 5.4 + libvirt on libuv) in a C program.
 *
 *   luvirt *lv = luvirt_new(my_loop);             // or NULL: its own loop
 *   if (luvirt_run_file(lv, "script.lua", 0, NULL) < 0)
 *     fprintf(stderr, "%s\n", luvirt_errmsg(lv));
 *   luvirt_run(lv, UV_RUN_DEFAULT);                // or drive my_loop yourself
 *   luvirt_close(lv);
 *
 * One instance per process (libvirt's event implementation is global);
 * all calls on the thread that runs the loop.  Errors are return codes plus
 * luvirt_errmsg(); nothing here calls exit().
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

/* A new instance on loop (NULL: a loop of its own).  NULL on failure
 * (another instance exists on a different loop, or out of memory). */
luvirt *luvirt_new(uv_loop_t *loop);
lua_State *luvirt_state(luvirt *lv);
uv_loop_t *luvirt_loop(luvirt *lv);

/* Load a file ("-" or NULL: stdin) or a string and start it as a task with
 * the given arguments (as ... and, for files, the global `arg`).  -1 if
 * it cannot be loaded; errors raised later by the task are reported by
 * luvirt_run().  */
int luvirt_run_file(luvirt *lv, const char *path, int argc, char **argv);
int luvirt_run_string(luvirt *lv, const char *chunk, const char *name);

/* Run the loop (UV_RUN_DEFAULT / ONCE / NOWAIT).  Returns uv_run's result
 * (non-zero: more to do), or -1 once a task started by luvirt_run_* failed
 * (then luvirt_errmsg() holds its traceback). */
int luvirt_run(luvirt *lv, uv_run_mode mode);

/* For programs with a foreign loop (poll/epoll/glib): wait for readability
 * of the backend fd for at most the timeout (ms, -1 = forever), then call
 * luvirt_run(lv, UV_RUN_NOWAIT). */
int luvirt_backend_fd(luvirt *lv);
int luvirt_backend_timeout(luvirt *lv);

/* The last error (load error or task failure), "" if none. */
const char *luvirt_errmsg(luvirt *lv);
/* 1 once a started task failed. */
int luvirt_failed(luvirt *lv);

/* Close the Lua state (closing connections), wait for libvirt's pending
 * work and free callbacks, release everything.  The caller's loop is left
 * open (an own loop is closed). */
void luvirt_close(luvirt *lv);

#ifdef __cplusplus
}
#endif
#endif
