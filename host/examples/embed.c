/*
 * embed.c: a C program that embeds luvirt.
 *
 *   embed [--foreign] [URI]
 *
 * By default luvirt runs on this program's own libuv loop, next to a timer
 * of the program's own.  With --foreign, luvirt keeps a loop of its own
 * that this program drives from poll(2) through the backend fd and
 * timeout, as a program built around another event loop (glib, epoll)
 * would.  Either way a Lua script lists the domains of URI (default
 * test:///default), provokes a lifecycle event by suspending and resuming
 * a running domain, and waits for the event; then everything is closed.
 *
 * Build against an installed luvirt:
 *   cc -o embed embed.c $(pkg-config --cflags --libs luvirt)
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#define _POSIX_C_SOURCE 200809L   /* uv.h needs POSIX types under -std=c11 */
#include <poll.h>
#include <stdio.h>
#include <string.h>
#include <luvirt.h>
#include <lauxlib.h>

static const char script[] =
  "local uri = EMBED_URI\n"
  "local virt = require 'virt'\n"
  "local conn = virt.new{ uri = uri }\n"
  "local running\n"
  "for _, dom in ipairs(conn:list_all_domains()) do\n"
  "  print('domain', dom:get_name(), dom:get_id())\n"
  "  if dom:is_active() then running = running or dom end\n"
  "end\n"
  "assert(running, 'no running domain to provoke an event with')\n"
  "local got = virt.event()\n"
  "local id = conn:domain_event_register_any(running, virt.Domain.EVENT_ID_LIFECYCLE,\n"
  "  function(_, dom, event, detail)\n"
  "    print('event', dom:get_name(), event, detail)\n"
  "    got:set(event)\n"
  "  end)\n"
  "running:suspend()\n"
  "assert(got:wait() == virt.Domain.EVENT_SUSPENDED)\n"
  "running:resume()\n"
  "conn:domain_event_deregister_any(id)\n"
  "conn:close()\n"
  "print('script done')\n";

/* The program's own timer, beside luvirt on the same loop: it ticks while
 * libvirt calls run on luvirt's workers, and stops once no task is left. */
struct ticker {
  uv_timer_t timer;
  luvirt *lv;
  int ticks;
};

static void tick(uv_timer_t *t)
{
  struct ticker *k = t->data;
  k->ticks++;
  if (luvirt_tasks(k->lv) == 0)
    uv_timer_stop(t);
}

/* Start the script as a task; it finds the URI in a global. */
static int start_script(luvirt *lv, const char *uri)
{
  lua_State *L = luvirt_state(lv);
  lua_pushstring(L, uri);
  lua_setglobal(L, "EMBED_URI");
  return luvirt_run_string(lv, script, "=embedded script");
}

static int on_own_loop(const char *uri)
{
  uv_loop_t *loop = uv_default_loop();   /* the program's main loop */
  struct ticker k;
  luvirt *lv;
  int rc = 0;

  lv = luvirt_new(loop);
  if (!lv) {
    fprintf(stderr, "embed: %s\n", luvirt_errmsg(NULL));
    return 1;
  }
  k.lv = lv;
  k.ticks = 0;
  uv_timer_init(loop, &k.timer);
  k.timer.data = &k;
  uv_timer_start(&k.timer, tick, 5, 5);

  if (start_script(lv, uri) < 0) {
    fprintf(stderr, "embed: %s\n", luvirt_errmsg(lv));
    rc = 1;
  } else {
    uv_run(loop, UV_RUN_DEFAULT);    /* a failing task stops the loop */
    if (luvirt_failed(lv)) {
      fprintf(stderr, "embed: the script failed: %s\n", luvirt_errmsg(lv));
      rc = 1;
    }
  }
  printf("own timer ticked %d times\n", k.ticks);
  if (k.ticks == 0)
    rc = 1;
  uv_close((uv_handle_t *)&k.timer, NULL);
  luvirt_close(lv);
  uv_run(loop, UV_RUN_DEFAULT);      /* the timer's close */
  /* luvirt leaves a few unreferenced handles on the loop (see luvirt.h):
   * uv_loop_close would say UV_EBUSY; the loop lives until exit. */
  return rc;
}

static int on_foreign_loop(const char *uri)
{
  luvirt *lv = luvirt_new(NULL);
  int rc = 0, polls = 0;
  if (!lv) {
    fprintf(stderr, "embed: %s\n", luvirt_errmsg(NULL));
    return 1;
  }
  if (start_script(lv, uri) < 0) {
    fprintf(stderr, "embed: %s\n", luvirt_errmsg(lv));
    luvirt_close(lv);
    return 1;
  }
  while (luvirt_tasks(lv) > 0) {
    struct pollfd p = {luvirt_backend_fd(lv), POLLIN, 0};
    poll(&p, 1, luvirt_backend_timeout(lv));
    polls++;
    if (luvirt_run(lv, UV_RUN_NOWAIT) < 0) {
      fprintf(stderr, "embed: the script failed: %s\n", luvirt_errmsg(lv));
      rc = 1;
      break;
    }
  }
  printf("poll(2) woke %d times\n", polls);
  luvirt_close(lv);
  return rc;
}

int main(int argc, char **argv)
{
  int foreign = argc > 1 && strcmp(argv[1], "--foreign") == 0;
  const char *uri = argc > 1 + foreign ? argv[1 + foreign] : "test:///default";
  int rc = foreign ? on_foreign_loop(uri) : on_own_loop(uri);
  printf("%s\n", rc == 0 ? "ok" : "FAILED");
  return rc;
}
