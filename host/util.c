/*
 * util.c: small conversions every binding uses.
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#include <limits.h>
#include <math.h>
#include <stdlib.h>
#include "lv.h"

unsigned int lv_optflags(lua_State *L, int idx)
{
  lua_Integer f;
  if (lua_isnoneornil(L, idx))
    return 0;
  f = luaL_checkinteger(L, idx);
  luaL_argcheck(L, f >= 0 && f <= (lua_Integer)UINT_MAX, idx, "flags out of range");
  return (unsigned int)f;
}

/* Unsigned values never come out negative: above 2^63 they become floats. */
int lv_push_uint64(lua_State *L, unsigned long long v)
{
  if (v <= (unsigned long long)LUA_MAXINTEGER)
    lua_pushinteger(L, (lua_Integer)v);
  else
    lua_pushnumber(L, (lua_Number)v);
  return 1;
}

unsigned long long lv_check_uint64(lua_State *L, int idx)
{
  int isint;
  lua_Integer i = lua_tointegerx(L, idx, &isint);
  if (isint) {
    luaL_argcheck(L, i >= 0, idx, "value must not be negative");
    return (unsigned long long)i;
  } else {
    lua_Number n = luaL_checknumber(L, idx);
    luaL_argcheck(L, n >= 0 && n < 18446744073709551616.0 && n == floor(n), idx,
                  "value must be an unsigned 64-bit integer");
    return (unsigned long long)n;
  }
}

void lv_push_string_free(lua_State *L, char *s)
{
  if (s) {
    lua_pushstring(L, s);
    free(s);
  } else
    lua_pushnil(L);
}

void lv_setfield_int(lua_State *L, const char *k, lua_Integer v)
{
  lua_pushinteger(L, v);
  lua_setfield(L, -2, k);
}

void lv_setfield_str(lua_State *L, const char *k, const char *v)
{
  if (!v)
    return;
  lua_pushstring(L, v);
  lua_setfield(L, -2, k);
}
