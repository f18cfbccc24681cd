/*
 * orphans.c: luvirt_close while calls that return allocated results are
 * in flight on the workers.  The tasks that made them will never resume,
 * so each job's fini must free what libvirt handed over: objects, arrays
 * of objects, strings, arrays of strings, typed parameters.  One task per
 * kind of result loops on its call through a remote connection (calls on
 * test:/// run inline, never on a worker), so at the close every kind has
 * a job queued, running or done but not delivered.  Run under valgrind by
 * spec/embed/embed_spec.lua: a result nobody freed is a definite leak.
 *
 *   orphans URI     (a test driver behind a daemon: test+unix:///default?socket=...)
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#define _POSIX_C_SOURCE 200809L
#include <stdio.h>
#include <string.h>
#include <luvirt.h>
#include <lauxlib.h>
#include "check.h"

/* Each entry: a call whose result libvirt allocates, and what it is. */
static const char *script =
  "local virt = require 'virt'\n"
  "local uri = ...\n"
  "virt.pool_size(64)\n"
  "local conn = virt.new{uri = uri}\n"
  "local net = conn:get_network_by_name('default')\n"
  "local dom = conn:get_domain_by_name('test')\n"
  "local pool = conn:get_storage_pool_by_name('default-pool')\n"
  "calls = {\n"
  /* generated wrappers */
  "  {'an object (generated)', function() return conn:get_network_by_name('default') end},\n"
  "  {'an array of objects (generated)', function() return conn:list_all_networks() end},\n"
  "  {'a string (generated)', function() return net:get_xml_description() end},\n"
  "  {'caller-sized names (generated)', function() return conn:list_network_names(8) end},\n"
  "  {'a string array (generated)', function() return conn:get_cpu_model_names('x86_64') end},\n"
  "  {'an object from an object (generated)', function() return conn:get_storage_pool_by_name('default-pool') end},\n"
  "  {'objects of an object (generated)', function() return pool:list_all_volumes() end},\n"
  "  {'a string of an object (generated)', function() return pool:get_xml_description() end},\n"
  /* hand-written */
  "  {'a connection string', function() return conn:get_capabilities() end},\n"
  "  {'another connection string', function() return conn:get_hostname() end},\n"
  "  {'a domain string', function() return dom:get_xml_description() end},\n"
  "  {'a domain lookup', function() return conn:get_domain_by_name('test') end},\n"
  "  {'all domains', function() return conn:list_all_domains() end},\n"
  "  {'Sys::Virt list helpers', function() return conn:list_networks() end},\n"
  "  {'typed parameters', function() return dom:get_scheduler_parameters() end},\n"
  "  {'domain stats', function() return conn:get_all_domain_stats(0) end},\n"
  "  {'security labels', function() return dom:get_security_label() end},\n"
  "  {'node devices', function() return conn:list_node_devices() end},\n"
  "  {'capabilities of a device', function() return conn:get_node_device_by_name('scsi_host1'):list_capabilities() end},\n"
  "  {'disk errors', function() return dom:get_disk_errors() end},\n"
  "  {'interface addresses', function() return dom:get_interface_addresses(0) end},\n"
  "  {'CPU stats', function() return conn:get_node_cpu_stats(-1) end},\n"
  "  {'snapshots (generated)', function() return dom:list_all_snapshots() end},\n"
  "}\n"
  "done, failed = {}, {}\n"
  "for i, c in ipairs(calls) do\n"
  "  assert(c[2](), c[1])\n"
  "  done[i] = 0\n"
  "  virt.spawn(function() while true do\n"
  "    local ok, err = pcall(c[2])\n"
  "    if ok then done[i] = done[i] + 1 else failed[#failed + 1] = c[1] .. ': ' .. tostring(err) end\n"
  "  end end)\n"
  "end\n"
  "ready = true\n";

/* The chunk is over (every task spawned) and each call returned `times`. */
static int all_called(lua_State *L, int times)
{
  int ok;
  lua_Integer i, n;
  lua_getglobal(L, "ready");
  ok = lua_toboolean(L, -1);
  lua_pop(L, 1);
  if (!ok)
    return 0;
  if (lua_getglobal(L, "done") != LUA_TTABLE) {
    lua_pop(L, 1);
    return 0;
  }
  n = luaL_len(L, -1);
  for (i = 1; ok && i <= n; i++) {
    lua_rawgeti(L, -1, i);
    ok = lua_tointeger(L, -1) >= times;
    lua_pop(L, 1);
  }
  lua_pop(L, 1);
  return ok && n > 0;
}

int main(int argc, char **argv)
{
  static char chunk[8192];
  luvirt *lv;
  lua_State *L;
  int i, ready = 0;
  if (argc != 2) {
    fprintf(stderr, "usage: orphans URI\n");
    return 2;
  }
  lv = luvirt_new(NULL);
  check(lv != NULL, "luvirt_new", luvirt_errmsg(NULL));
  if (!lv)
    return 1;
  L = luvirt_state(lv);
  /* a chunk started with luvirt_run_string takes no arguments: the URI
   * goes through a global */
  lua_pushstring(L, argv[1]);
  lua_setglobal(L, "ORPHANS_URI");
  snprintf(chunk, sizeof chunk, "return (function(...)\n%s\nend)(ORPHANS_URI)", script);
  check(luvirt_run_string(lv, chunk, "=orphans") == 0, "the script starts", luvirt_errmsg(lv));
  /* until every call has completed a few times: the loops are warm and
   * every task has a job out */
  for (i = 0; i < 20000 && !ready; i++) {
    if (luvirt_run(lv, UV_RUN_ONCE) < 0)
      break;
    ready = all_called(L, 3);
  }
  check(ready, "every kind of call ran on the workers", luvirt_errmsg(lv));
  check(luvirt_tasks(lv) >= 16, "one task per call is suspended in its call", NULL);
  lua_getglobal(L, "failed");
  for (i = 1; lua_istable(L, -1) && i <= (int)luaL_len(L, -1) && i <= 5; i++) {
    lua_rawgeti(L, -1, i);
    printf("# a call failed (no result to free): %s\n", lua_tostring(L, -1));
    lua_pop(L, 1);
  }
  lua_pop(L, 1);
  luvirt_close(lv);
  check(1, "luvirt_close with those calls in flight returns", NULL);
  printf("%d failed\n", failures);
  return failures ? 1 : 0;
}
