/*
 * virt.c: luaopen_virt_core, the C half of the `virt` module.
 *
 * In the luvirt host the event loop is set up before this runs; under
 * plain lua5.4 (virt/core.so) we take luv's loop, so `require "luv"` timers
 * and sockets share the loop that carries libvirt's events.
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#include <stdlib.h>
#include "lv.h"
#include "lv_embed.h"

void lv_gen_register(lua_State *L);

/* luv keeps its context, whose first member is the loop, in the registry */
static uv_loop_t *luv_loop_of(lua_State *L)
{
  uv_loop_t *loop = NULL;
  lua_getglobal(L, "require");
  lua_pushliteral(L, "luv");
  lua_call(L, 1, 0);
  lua_getfield(L, LUA_REGISTRYINDEX, "luv_context");
  if (lua_touserdata(L, -1))
    loop = *(uv_loop_t **)lua_touserdata(L, -1);
  lua_pop(L, 1);
  return loop;
}

static void quiet(void *ud, virErrorPtr err)
{
  (void)ud;
  (void)err;
}

static int l_version(lua_State *L)
{
  lua_pushliteral(L, LV_VERSION);
  return 1;
}

int luaopen_virt_core(lua_State *L)
{
  static int once;
  if (!lv_loop()) {
    uv_loop_t *loop = luv_loop_of(L);
    if (!loop || lv_loop_init(loop) < 0)
      return luaL_error(L, "luvirt: cannot set up the event loop");
  } else if (!lv_loop_on_thread())
    return luaL_error(L, "luvirt: virt must be loaded on the loop's thread");
  if (!once) {
    if (virInitialize() < 0)
      return lv_error_raise_last(L);
    /* errors come back as virt.Error values; don't also print them */
    virSetErrorFunc(NULL, quiet);
    once = 1;
  }
  lua_createtable(L, 0, lv_gen_table_size("virt"));
  luaopen_virt_error(L);
  lua_setfield(L, -2, "Error");
  luaopen_virt_task(L);
  luaopen_virt_connect(L);
  luaopen_virt_domain(L);
  luaopen_virt_domainevent(L);
  luaopen_virt_event(L);
  luaopen_virt_stream(L);
  lua_pushcfunction(L, l_version);
  lua_setfield(L, -2, "version");
  /* classes from the generator work (issue 4) */
  luaopen_virt_network(L);
  luaopen_virt_networkport(L);
  luaopen_virt_storagepool(L);
  luaopen_virt_storagevol(L);
  luaopen_virt_interface(L);
  luaopen_virt_nodedev(L);
  luaopen_virt_secret(L);
  luaopen_virt_nwfilter(L);
  luaopen_virt_nwfilterbinding(L);
  luaopen_virt_snapshot(L);
  luaopen_virt_checkpoint(L);
  luaopen_virt_qemu(L);
  luaopen_virt_lxc(L);
  luaopen_virt_admin(L);
  luaopen_virt_typedparams(L);
  /* end of classes from the generator work */
  lv_gen_register(L);
  return 1;
}
