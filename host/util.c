/*
 * util.c: small conversions every binding uses.
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#include <dlfcn.h>
#include <limits.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "lv.h"

/* The libraries' handles; dlopen is thread-safe, the lock only keeps the
 * bookkeeping of more than one Lua state right. */
static uv_mutex_t lazy_lock;
static uv_once_t lazy_once = UV_ONCE_INIT;
static struct { const char *lib; void *handle; } lazy_libs[] = {
  {"libvirt-qemu", NULL}, {"libvirt-lxc", NULL},
};

static void lazy_init(void)
{
  if (uv_mutex_init(&lazy_lock) != 0)
    abort();
}

void *lv_lazy_sym(lua_State *L, const char *lib, const char *name)
{
  char soname[64], why[256];
  void *handle = NULL, *fn = NULL;
  size_t i;
  why[0] = '\0';
  uv_once(&lazy_once, lazy_init);
  uv_mutex_lock(&lazy_lock);
  for (i = 0; i < sizeof lazy_libs / sizeof lazy_libs[0]; i++) {
    if (strcmp(lazy_libs[i].lib, lib) != 0)
      continue;
    if (!lazy_libs[i].handle) {
      /* libvirt's sonames have been .so.0 since the start */
      snprintf(soname, sizeof soname, "%s.so.0", lib);
      lazy_libs[i].handle = dlopen(soname, RTLD_NOW | RTLD_LOCAL);
      if (!lazy_libs[i].handle)
        snprintf(why, sizeof why, "%s", dlerror());
    }
    handle = lazy_libs[i].handle;
    break;
  }
  if (handle) {
    fn = dlsym(handle, name);
    if (!fn)
      snprintf(why, sizeof why, "%s has no function %s", lib, name);
  } else if (!why[0])
    snprintf(why, sizeof why, "%s is not a library luvirt loads", lib);
  uv_mutex_unlock(&lazy_lock);
  if (!fn && L)
    lv_error_raisef(L, VIR_ERR_NO_SUPPORT, "%s is not available: %s", name, why);
  return fn;
}

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
