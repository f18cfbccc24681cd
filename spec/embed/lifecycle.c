/*
 * lifecycle.c: the embedding API's edge cases, one check per line of
 * output ("ok - ..." / "not ok - ..."), exit status 1 if any failed.
 * Built and run (also under valgrind) by spec/embed/embed_spec.lua.
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#define _POSIX_C_SOURCE 200809L
#include <stdio.h>
#include <string.h>
#include <luvirt.h>
#include <lauxlib.h>
#include "check.h"

static int contains(const char *s, const char *part)
{
  return s && strstr(s, part) != NULL;
}

/* A C function the scripts call: luvirt_run from inside the loop. */
static luvirt *current;
static int nested_run(lua_State *L)
{
  int rc = luvirt_run(current, UV_RUN_NOWAIT);
  lua_pushinteger(L, rc);
  lua_pushstring(L, luvirt_errmsg(current));
  return 2;
}

static void errors_and_runs(void)
{
  luvirt *lv = luvirt_new(NULL), *second;
  lua_State *L;
  int rc, i;
  lua_Integer ready = 0;
  check(lv != NULL, "luvirt_new(NULL) makes an instance", luvirt_errmsg(NULL));
  if (!lv)
    return;
  current = lv;
  L = luvirt_state(lv);

  second = luvirt_new(NULL);
  check(second == NULL && contains(luvirt_errmsg(NULL), "exists already"),
        "a second instance at once is refused with a reason", luvirt_errmsg(NULL));

  check(luvirt_run_string(lv, "x = = 1", "=bad") == -1 &&
        contains(luvirt_errmsg(lv), "bad:1:"), "a syntax error is -1 and a message",
        luvirt_errmsg(lv));
  check(luvirt_run_file(lv, "/nonexistent/script.lua", 0, NULL) == -1 &&
        contains(luvirt_errmsg(lv), "cannot open"), "a missing file is -1 and a message",
        luvirt_errmsg(lv));

  check(luvirt_run_string(lv, "local virt = require 'virt'\n"
                              "local t = virt.spawn(function() virt.sleep(20) return 7 end)\n"
                              "answer = t:wait()", "=waits") == 0,
        "a chunk starts as a task", luvirt_errmsg(lv));
  check(luvirt_tasks(lv) >= 1, "luvirt_tasks counts it", NULL);
  rc = luvirt_run(lv, UV_RUN_DEFAULT);
  lua_getglobal(L, "answer");
  check(rc == 0 && lua_tointeger(L, -1) == 7 && luvirt_tasks(lv) == 0,
        "luvirt_run(DEFAULT) runs it to the end", luvirt_errmsg(lv));
  lua_pop(L, 1);

  luvirt_run_string(lv, "local c = require('virt').new{uri='test:///default'}\n"
                        "c:get_domain_by_name('no-such-domain')", "=fails");
  rc = luvirt_run(lv, UV_RUN_DEFAULT);
  check(rc == -1 && luvirt_failed(lv) && contains(luvirt_errmsg(lv), "Domain not found") &&
        contains(luvirt_errmsg(lv), "stack traceback"),
        "a failing task makes luvirt_run -1, with the error and a traceback", luvirt_errmsg(lv));

  luvirt_run_string(lv, "require('virt').event():wait()", "=deadlock");
  rc = luvirt_run(lv, UV_RUN_DEFAULT);
  check(rc == -1 && contains(luvirt_errmsg(lv), "deadlock"),
        "a task left waiting for nothing is reported, not taken for success", luvirt_errmsg(lv));

  lua_pushcfunction(L, nested_run);
  lua_setglobal(L, "nested_run");
  luvirt_run_string(lv, "nested_rc, nested_msg = nested_run()", "=nested");
  luvirt_run(lv, UV_RUN_DEFAULT);
  lua_getglobal(L, "nested_rc");
  lua_getglobal(L, "nested_msg");
  check(lua_tointeger(L, -2) == -1 && contains(lua_tostring(L, -1), "already running"),
        "luvirt_run from inside the loop is -1, not a nested loop", lua_tostring(L, -1));
  lua_pop(L, 2);

  /* things left behind for close: a suspended sleeper, a libvirt call in
   * flight, an open connection with an event callback, a luv timer */
  luvirt_run_string(lv, "local virt, uv = require 'virt', require 'luv'\n"
                        "conn = virt.new{uri='test:///default'}\n"
                        "conn:domain_event_register_any(nil, virt.Domain.EVENT_ID_LIFECYCLE, print)\n"
                        "virt.spawn(function() virt.sleep(60000) end)\n"
                        /* test:/// calls run inline: this open goes to a worker */
                        "virt.spawn(function() for i = 1, 1e9 do\n"
                        "  pcall(virt.new, {uri='test+unix:///default?socket=/nonexistent/sock'})\n"
                        "end end)\n"
                        "timer = uv.new_timer(); timer:start(60000, 0, print)\n"
                        "leftovers_ready = virt.loop_stats().tasks\n", "=leftovers");
  /* until the chunk itself is done: the tasks it spawned stay */
  for (i = 0; i < 1000; i++) {
    lua_getglobal(L, "leftovers_ready");
    ready = lua_tointeger(L, -1);
    lua_pop(L, 1);
    if (ready || luvirt_run(lv, UV_RUN_ONCE) < 0)
      break;
  }
  check(ready >= 3 && luvirt_tasks(lv) >= 2, "the chunk ran, its tasks are still suspended",
        luvirt_errmsg(lv));
  luvirt_close(lv);
  check(1, "luvirt_close with suspended tasks, a call in flight and luv handles returns", NULL);
}

static void again_after_close(void)
{
  luvirt *lv = luvirt_new(NULL);
  int rc;
  check(lv != NULL, "a new instance after luvirt_close, on the kept loop", luvirt_errmsg(NULL));
  if (!lv)
    return;
  luvirt_run_string(lv, "local virt = require 'virt'\n"
                        "local c = virt.new{uri='test:///default'}\n"
                        "host = c:get_hostname()\n"
                        "c:close()", "=again");
  rc = luvirt_run(lv, UV_RUN_DEFAULT);
  lua_getglobal(luvirt_state(lv), "host");
  check(rc == 0 && lua_isstring(luvirt_state(lv), -1), "its tasks run (libvirt calls on the workers)",
        luvirt_errmsg(lv));
  luvirt_close(lv);
}

static void other_loop_refused(void)
{
  uv_loop_t other;
  luvirt *lv;
  uv_loop_init(&other);
  lv = luvirt_new(&other);
  check(lv == NULL && contains(luvirt_errmsg(NULL), "another uv loop"),
        "another loop than the one libvirt's events are bound to is refused", luvirt_errmsg(NULL));
  if (lv)
    luvirt_close(lv);
  uv_loop_close(&other);
}

int main(void)
{
  errors_and_runs();
  again_after_close();
  other_loop_refused();
  printf("%d failed\n", failures);
  return failures ? 1 : 0;
}
