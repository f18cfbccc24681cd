/*
 * event.c: virt.Event, Sys::Virt::Event: a script's own fd watches and
 * timers on libvirt's event loop (virEventAddHandle & co).  The loop is
 * always ours (loop.c); register_default and run_default exist for
 * scripts written against Sys::Virt.
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#include <stdlib.h>
#include <string.h>
#include "lv.h"

static void handle_cb(int watch, int fd, int events, void *opaque)
{
  lv_args a = LV_ARGS_INIT;
  lv_arg_int(&a, watch);
  lv_arg_int(&a, fd);
  lv_arg_int(&a, events);
  lv_cb_deliver(opaque, &a, "an event handle callback");
}

static void timeout_cb(int timer, void *opaque)
{
  lv_args a = LV_ARGS_INIT;
  lv_arg_int(&a, timer);
  lv_cb_deliver(opaque, &a, "an event timeout callback");
}

static int check_int(lua_State *L, int idx, lua_Integer lo, lua_Integer hi)
{
  lua_Integer v = luaL_checkinteger(L, idx);
  luaL_argcheck(L, v >= lo && v <= hi, idx, "out of range");
  return (int)v;
}

/* virt.Event.add_handle(fd, events, fn) -> watch; fn(watch, fd, events) */
static int e_add_handle(lua_State *L)
{
  int fd = check_int(L, 1, 0, 0x7fffffff);
  int events = check_int(L, 2, 0, 15);
  lv_cb *cb = lv_cb_new(L, 3, 0, 0);
  int id = virEventAddHandle(fd, events, handle_cb, cb, lv_cb_free);
  if (id < 0) {
    lv_cb_free(cb);
    return lv_error_raisef(L, VIR_ERR_INTERNAL_ERROR, "cannot watch fd %d", fd);
  }
  lv_loop_ref_handle(id, 1);
  lua_pushinteger(L, id);
  return 1;
}

static int e_update_handle(lua_State *L)
{
  virEventUpdateHandle(check_int(L, 1, 0, 0x7fffffff), check_int(L, 2, 0, 15));
  return 0;
}

/* -> 0, or -1 for an unknown or already removed watch */
static int e_remove_handle(lua_State *L)
{
  lua_pushinteger(L, virEventRemoveHandle(check_int(L, 1, -0x7fffffff, 0x7fffffff)));
  return 1;
}

/* virt.Event.add_timeout(ms, fn) -> timer; fn(timer); ms -1 disables, 0
 * fires on every loop iteration */
static int e_add_timeout(lua_State *L)
{
  int ms = check_int(L, 1, -1, 0x7fffffff);
  lv_cb *cb = lv_cb_new(L, 2, 0, 0);
  int id = virEventAddTimeout(ms, timeout_cb, cb, lv_cb_free);
  if (id < 0) {
    lv_cb_free(cb);
    return lv_error_raisef(L, VIR_ERR_INTERNAL_ERROR, "cannot add a timeout");
  }
  lv_loop_ref_timeout(id, 1);
  lua_pushinteger(L, id);
  return 1;
}

static int e_update_timeout(lua_State *L)
{
  virEventUpdateTimeout(check_int(L, 1, 0, 0x7fffffff), check_int(L, 2, -1, 0x7fffffff));
  return 0;
}

static int e_remove_timeout(lua_State *L)
{
  lua_pushinteger(L, virEventRemoveTimeout(check_int(L, 1, -0x7fffffff, 0x7fffffff)));
  return 1;
}

/* Sys::Virt::Event::register_default(): luvirt's loop is always there. */
static int e_register_default(lua_State *L)
{
  lua_pushinteger(L, 0);
  return 1;
}

/* Sys::Virt::Event::run_default(): one iteration of the loop. */
static int e_run_default(lua_State *L)
{
  lv_task_run_loop(L, UV_RUN_ONCE);
  lua_pushinteger(L, 0);
  return 1;
}

/* For the loop-contract specs: remove a watch or timer from another
 * thread after delay ms, as libvirt's worker threads do, or change a
 * watch's events there (as a client call on a worker does to its socket's
 * watch). */
typedef struct remote_rm {
  uv_thread_t th;
  int id, timer, delay, update, events;
} remote_rm;

static void remote_rm_main(void *arg)
{
  remote_rm *r = arg;
  uv_sleep((unsigned)r->delay);
  if (r->update)
    virEventUpdateHandle(r->id, r->events);
  else if (r->timer)
    virEventRemoveTimeout(r->id);
  else
    virEventRemoveHandle(r->id);
}

/* _remove_from_thread("handle"|"timeout", id, delay) and
 * _update_from_thread(id, events, delay): the thread is joined by the
 * caller through _join. */
static int from_thread(lua_State *L, int update)
{
  static const char *const kinds[] = {"handle", "timeout", NULL};
  remote_rm *r = lua_newuserdatauv(L, sizeof *r, 0);
  memset(r, 0, sizeof *r);
  r->update = update;
  if (update)
    r->events = check_int(L, 2, 0, 15);
  else
    r->timer = luaL_checkoption(L, 1, NULL, kinds);
  r->id = check_int(L, 2 - update, 0, 0x7fffffff);
  r->delay = check_int(L, 3, 0, 60000);
  if (uv_thread_create(&r->th, remote_rm_main, r) < 0)
    return luaL_error(L, "cannot start a thread");
  lua_pushlightuserdata(L, r);
  return 2;
}

static int e_remove_from_thread(lua_State *L) { return from_thread(L, 0); }
static int e_update_from_thread(lua_State *L) { return from_thread(L, 1); }

static int e_join(lua_State *L)
{
  remote_rm *r = lua_touserdata(L, 1);
  luaL_argcheck(L, r != NULL, 1, "thread handle expected");
  uv_thread_join(&r->th);
  return 0;
}

/* Counters: live watches/timers in the loop, free callbacks run, wake-ups
 * other threads asked of the loop, ready fds dispatched, re-enables of
 * libvirt's sockets parked from the start (see loop.c). */
static int e_stats(lua_State *L)
{
  int w, t;
  long f, k, d, p;
  lv_loop_stats(&w, &t, &f, &k, &d, &p);
  lua_pushinteger(L, w);
  lua_pushinteger(L, t);
  lua_pushinteger(L, f);
  lua_pushinteger(L, k);
  lua_pushinteger(L, d);
  lua_pushinteger(L, p);
  return 6;
}

int luaopen_virt_event(lua_State *L)
{
  static const luaL_Reg fns[] = {
    {"add_handle", e_add_handle},           /* virEventAddHandle */
    {"update_handle", e_update_handle},     /* virEventUpdateHandle */
    {"remove_handle", e_remove_handle},     /* virEventRemoveHandle */
    {"add_timeout", e_add_timeout},         /* virEventAddTimeout */
    {"update_timeout", e_update_timeout},   /* virEventUpdateTimeout */
    {"remove_timeout", e_remove_timeout},   /* virEventRemoveTimeout */
    {"register_default", e_register_default}, /* virEventRegisterDefaultImpl */
    {"run_default", e_run_default},         /* virEventRunDefaultImpl */
    {"_remove_from_thread", e_remove_from_thread},
    {"_update_from_thread", e_update_from_thread},
    {"_join", e_join},
    {"_stats", e_stats},
    {NULL, NULL}};
  lua_getfield(L, -1, "Event");
  if (lua_isnil(L, -1)) {
    lua_pop(L, 1);
    lua_createtable(L, 0, lv_gen_table_size("Event"));
    lua_pushvalue(L, -1);
    lua_setfield(L, -3, "Event");
  }
  luaL_setfuncs(L, fns, 0);
  lua_pushinteger(L, VIR_EVENT_HANDLE_READABLE);
  lua_setfield(L, -2, "HANDLE_READABLE");
  lua_pushinteger(L, VIR_EVENT_HANDLE_WRITABLE);
  lua_setfield(L, -2, "HANDLE_WRITABLE");
  lua_pushinteger(L, VIR_EVENT_HANDLE_ERROR);
  lua_setfield(L, -2, "HANDLE_ERROR");
  lua_pushinteger(L, VIR_EVENT_HANDLE_HANGUP);
  lua_setfield(L, -2, "HANDLE_HANGUP");
  lua_pop(L, 1);
  return 0;
}
