/*
 * nomemory.c: what luvirt does when Lua has no memory.  The program
 * replaces the state's allocator with one it can make fail.
 *
 * Event callbacks: events of every family the test driver emits (network,
 * storage pool, node device, domain) and a virt.Event timeout are queued
 * and the loop runs while every allocation that grows fails: the arguments
 * cannot even be pushed.  Those deliveries must be dropped and reported,
 * never raise through libvirt (which lost every later event), and the next
 * events must arrive normally.
 *
 * Call results: a call whose results cannot be pushed (the table for an
 * array of objects) raises "not enough memory", and what libvirt handed
 * over is freed, not leaked (valgrind tells).
 *
 * One check per line ("ok - ..." / "not ok - ...").  Built and run (also
 * under valgrind) by spec/embed/embed_spec.lua.
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#define _POSIX_C_SOURCE 200809L
#include <stdio.h>
#include <string.h>
#include <luvirt.h>
#include <lauxlib.h>
#include "check.h"

/* ------------------------------------------------- a failing allocator */

static lua_Alloc real_alloc;
static void *real_ud;
static int failing;
static long refused;

static void *alloc(void *ud, void *ptr, size_t osize, size_t nsize)
{
  (void)ud;
  /* Lua needs frees and shrinks to succeed; a new block's osize is a type
   * tag, not a size */
  if (failing && nsize > 0 && (!ptr || nsize > osize)) {
    refused++;
    return NULL;
  }
  return real_alloc(real_ud, ptr, osize, nsize);
}

/* Run a chunk directly on the main state (not as a task: test:/// calls
 * run inline); the message, or NULL. */
static const char *run(lua_State *L, const char *chunk)
{
  static char msg[512];
  int top = lua_gettop(L), rc = luaL_dostring(L, chunk);
  if (rc != LUA_OK)
    snprintf(msg, sizeof msg, "%s", lua_tostring(L, -1));
  lua_settop(L, top);
  return rc == LUA_OK ? NULL : msg;
}

static const char *global_str(lua_State *L, const char *name, char *buf, size_t size)
{
  lua_getglobal(L, name);
  snprintf(buf, size, "%s", lua_isstring(L, -1) ? lua_tostring(L, -1) : "(none)");
  lua_pop(L, 1);
  return buf;
}

static const char *setup =
  "virt = require 'virt'\n"
  "conn = virt.new('test:///default')\n"
  "got, errs = {}, {}\n"
  "virt.set_error_handler(function(msg, where) errs[#errs + 1] = where end)\n"
  "local function note(what) return function(c, obj, ev)\n"
  "  assert(c == conn)\n"
  "  got[#got + 1] = what .. ' ' .. obj:get_name() .. ' ' .. ev\n"
  "end end\n"
  "conn:network_event_register_any(nil, virt.Network.EVENT_ID_LIFECYCLE, note('net'))\n"
  "conn:storage_pool_event_register_any(nil, virt.StoragePool.EVENT_ID_LIFECYCLE, note('pool'))\n"
  "conn:node_device_event_register_any(nil, virt.NodeDevice.EVENT_ID_LIFECYCLE, note('dev'))\n"
  "conn:domain_event_register_any(nil, virt.Domain.EVENT_ID_LIFECYCLE, note('dom'))\n"
  "ticks = 0\n"
  "timer = virt.Event.add_timeout(-1, function() ticks = ticks + 1 end)\n"
  "summary = function() table.sort(got) return table.concat(got, ',') end\n";

/* Events queued by the test driver, dispatched from the loop. */
static const char *first_events =
  "net = conn:define_network([[<network><name>oomnet</name><bridge name='br-oom'/>"
  "<ip address='192.168.209.1' netmask='255.255.255.0'/></network>]])\n"
  "pool = conn:define_storage_pool(\"<pool type='dir'><name>oompool</name>"
  "<target><path>/oompool</path></target></pool>\")\n"
  "dev = conn:create_node_device([[<device><parent>scsi_host1</parent>"
  "<capability type='scsi_host'><capability type='fc_host'><wwnn>2000000012341501</wwnn>"
  "<wwpn>1000000012341501</wwpn></capability></capability></device>]])\n"
  "devname = dev:get_name()\n"
  "dom = conn:define_domain([[<domain type='test'><name>oomdom</name><memory>65536</memory>"
  "<os><type>hvm</type></os></domain>]])\n"
  "virt.Event.update_timeout(timer, 0)\n";

static const char *second_events =
  "virt.Event.update_timeout(timer, -1)\n"
  "net:create() pool:create() dom:create() dev:destroy()\n";

int main(void)
{
  luvirt *lv = luvirt_new(NULL);
  lua_State *L;
  const char *err;
  char buf[1024], want[256];
  int i, top;
  check(lv != NULL, "luvirt_new", luvirt_errmsg(NULL));
  if (!lv)
    return 1;
  L = luvirt_state(lv);
  real_alloc = lua_getallocf(L, &real_ud);
  lua_setallocf(L, alloc, real_ud);

  err = run(L, setup);
  check(!err, "callbacks registered for four families and a timeout", err);
  err = run(L, first_events);
  check(!err, "events queued: network, pool, node device, domain, the timeout armed", err);
  lua_gc(L, LUA_GCCOLLECT);

  /* The loop dispatches the events (and fires the 0 ms timeout on every
   * iteration) while no allocation can grow. */
  top = lua_gettop(L);
  failing = 1;
  for (i = 0; i < 5; i++)
    luvirt_run(lv, UV_RUN_NOWAIT);
  failing = 0;
  check(refused > 0, "allocations were refused while callbacks were due", NULL);
  check(lua_gettop(L) == top, "nothing is left on the main state's stack", NULL);
  err = run(L, "first = summary()");
  check(!err && strcmp(global_str(L, "first", buf, sizeof buf), "") == 0,
        "no callback ran without memory (nothing half-delivered)", buf);

  /* Memory again: the next events arrive, and the timeout ticks. */
  err = run(L, second_events);
  check(!err, "more events queued", err);
  for (i = 0; i < 20; i++)
    luvirt_run(lv, UV_RUN_NOWAIT);
  err = run(L, "second = summary()");
  snprintf(want, sizeof want, "dev %s 1,dom oomdom 2,net oomnet 2,pool oompool 2",
           global_str(L, "devname", buf, sizeof buf));
  check(!err && strcmp(global_str(L, "second", buf, sizeof buf), want) == 0,
        "every family's next event arrives with its arguments", buf);
  err = run(L, "virt.Event.update_timeout(timer, 0) ticks = 0 "
               "for _ = 1, 3 do virt.sleep(0) end "
               "assert(ticks > 0, 'no tick') virt.Event.remove_timeout(timer)");
  check(!err, "the timeout fires again", err);

  /* A call whose results Lua cannot hold: its objects are freed (the
   * chunk is run once with memory, so that the failing run reaches the
   * binding's push rather than failing on the way). */
  for (i = 0; i < 2; i++) {
    int rc;
    if (luaL_loadstring(L, "local ok, e = pcall(conn.list_all_networks, conn)\n"
                           "return ok, tostring(e)") != LUA_OK) {
      check(0, "the call chunk loads", lua_tostring(L, -1));
      lua_pop(L, 1);
      break;
    }
    failing = i == 1;
    rc = lua_pcall(L, 0, 2, 0);
    failing = 0;
    if (i == 1)
      check(rc == LUA_OK && !lua_toboolean(L, -2) && strstr(lua_tostring(L, -1), "not enough memory"),
            "a call whose results cannot be pushed raises 'not enough memory'",
            rc == LUA_OK ? lua_tostring(L, -1) : lua_tostring(L, -1));
    lua_settop(L, top);
  }
  err = run(L, "assert(#conn:list_all_networks() >= 2)");
  check(!err, "the same call with memory again", err);

  err = run(L, "dom:destroy() dom:undefine() net:destroy() net:undefine() "
               "pool:destroy() pool:undefine() conn:close()");
  check(!err, "clean up", err);
  luvirt_close(lv);
  printf("%d failed\n", failures);
  return failures ? 1 : 0;
}
