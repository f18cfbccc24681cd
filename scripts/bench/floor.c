/*
 * floor.c: a Lua C module (benchfloor) with the least a Lua binding of
 * virDomainGetInfo can do, for floor.lua: no objects, no checks, no jobs.
 *
 *   local f = package.loadlib(BIN .. "/floor.so", "luaopen_benchfloor")()
 *   local dom = f.open(uri, name)     -- a light userdata, never freed
 *   f.info(dom)    -- { state=, maxMem=, memory=, nrVirtCpu=, cpuTime= }
 *   f.values(dom)  -- the same five numbers, no table
 *
 * Built without linking Lua: it takes Lua's API from the program that
 * loads it (build/luvirt exports it), so that it runs on the same Lua, with
 * the same allocator, as luvirt's own get_info.
 *
 * Copyright (C) 2026 the luvirt authors
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#include <lua.h>
#include <lauxlib.h>
#include <libvirt/libvirt.h>
#include <libvirt/virterror.h>

static int f_open(lua_State *L)
{
  virConnectPtr conn = virConnectOpen(luaL_checkstring(L, 1));
  virDomainPtr dom;
  if (!conn)
    return luaL_error(L, "virConnectOpen: %s", virGetLastErrorMessage());
  dom = virDomainLookupByName(conn, luaL_checkstring(L, 2));
  if (!dom)
    return luaL_error(L, "virDomainLookupByName: %s", virGetLastErrorMessage());
  lua_pushlightuserdata(L, dom);
  return 1;
}

static virDomainPtr get(lua_State *L, virDomainInfo *info)
{
  virDomainPtr dom = lua_touserdata(L, 1);
  if (!dom)
    luaL_argerror(L, 1, "a domain from open() expected");
  if (virDomainGetInfo(dom, info) < 0)
    luaL_error(L, "virDomainGetInfo: %s", virGetLastErrorMessage());
  return dom;
}

static int f_info(lua_State *L)
{
  virDomainInfo i;
  get(L, &i);
  lua_createtable(L, 0, 5);
  lua_pushinteger(L, i.state);
  lua_setfield(L, -2, "state");
  lua_pushinteger(L, (lua_Integer)i.maxMem);
  lua_setfield(L, -2, "maxMem");
  lua_pushinteger(L, (lua_Integer)i.memory);
  lua_setfield(L, -2, "memory");
  lua_pushinteger(L, i.nrVirtCpu);
  lua_setfield(L, -2, "nrVirtCpu");
  lua_pushinteger(L, (lua_Integer)i.cpuTime);
  lua_setfield(L, -2, "cpuTime");
  return 1;
}

static int f_values(lua_State *L)
{
  virDomainInfo i;
  get(L, &i);
  lua_pushinteger(L, i.state);
  lua_pushinteger(L, (lua_Integer)i.maxMem);
  lua_pushinteger(L, (lua_Integer)i.memory);
  lua_pushinteger(L, i.nrVirtCpu);
  lua_pushinteger(L, (lua_Integer)i.cpuTime);
  return 5;
}

int luaopen_benchfloor(lua_State *L);

int luaopen_benchfloor(lua_State *L)
{
  static const luaL_Reg fns[] = {
    {"open", f_open},
    {"info", f_info},
    {"values", f_values},
    {NULL, NULL},
  };
  luaL_newlib(L, fns);
  return 1;
}
