/*
 * error.c: virt.Error, the value every failed libvirt call raises.
 *
 * libvirt keeps its last error per thread, so a worker copies it with
 * lv_error_save() on the thread that failed and the loop thread turns the
 * copy into a virt.Error.
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "lv.h"

#define ERROR_MT "virt.Error"

static char *dupstr(const char *s)
{
  return s ? strdup(s) : NULL;
}

void lv_error_save(lv_error *e)
{
  virErrorPtr err = virGetLastError();
  memset(e, 0, sizeof *e);
  if (!err) {
    e->code = VIR_ERR_INTERNAL_ERROR;
    e->domain = VIR_FROM_NONE;
    e->level = VIR_ERR_ERROR;
    e->message = strdup("libvirt call failed without reporting an error");
    return;
  }
  e->code = err->code;
  e->domain = err->domain;
  e->level = err->level;
  e->int1 = err->int1;
  e->int2 = err->int2;
  e->message = dupstr(err->message);
  e->str1 = dupstr(err->str1);
  e->str2 = dupstr(err->str2);
  e->str3 = dupstr(err->str3);
  virResetLastError();
}

void lv_error_clear(lv_error *e)
{
  free(e->message);
  free(e->str1);
  free(e->str2);
  free(e->str3);
  memset(e, 0, sizeof *e);
}

static void setstr(lua_State *L, const char *k, const char *v)
{
  if (v) {
    lua_pushstring(L, v);
    lua_setfield(L, -2, k);
  }
}

static void setint(lua_State *L, const char *k, lua_Integer v)
{
  lua_pushinteger(L, v);
  lua_setfield(L, -2, k);
}

/* A virt.Error is a table (fields readable and settable by scripts, as a
 * Perl hash is) with the shared metatable. */
void lv_error_push(lua_State *L, lv_error *e)
{
  lua_createtable(L, 0, 9);
  setint(L, "code", e->code);
  setint(L, "domain", e->domain);
  setint(L, "level", e->level);
  setint(L, "int1", e->int1);
  setint(L, "int2", e->int2);
  setstr(L, "message", e->message ? e->message : "unknown libvirt error");
  setstr(L, "str1", e->str1);
  setstr(L, "str2", e->str2);
  setstr(L, "str3", e->str3);
  luaL_setmetatable(L, ERROR_MT);
  lv_error_clear(e);
}

int lv_error_raise(lua_State *L, lv_error *e)
{
  lv_error_push(L, e);
  return lua_error(L);
}

int lv_error_raise_last(lua_State *L)
{
  lv_error e;
  lv_error_save(&e);
  return lv_error_raise(L, &e);
}

int lv_error_raisef(lua_State *L, int code, const char *fmt, ...)
{
  lv_error e;
  char buf[512];
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(buf, sizeof buf, fmt, ap);
  va_end(ap);
  memset(&e, 0, sizeof e);
  e.code = code ? code : VIR_ERR_INTERNAL_ERROR;
  e.domain = VIR_FROM_NONE;
  e.level = VIR_ERR_ERROR;
  e.message = strdup(buf);
  return lv_error_raise(L, &e);
}

/* "libvirt error 42 (domain 10): Domain not found: no domain with matching name 'x'" */
static int error_tostring(lua_State *L)
{
  lua_Integer code, dom;
  const char *msg;
  luaL_checktype(L, 1, LUA_TTABLE);
  lua_getfield(L, 1, "code");
  code = lua_tointeger(L, -1);
  lua_getfield(L, 1, "domain");
  dom = lua_tointeger(L, -1);
  lua_getfield(L, 1, "message");
  msg = lua_tostring(L, -1);
  lua_pushfstring(L, "libvirt error %d (domain %d): %s", (int)code, (int)dom,
                  msg ? msg : "?");
  return 1;
}

/* virt.Error.new{code=, message=, ...}: lets Lua code raise errors of the
 * same kind (the stdlib does, for its own failures). */
static int error_new(lua_State *L)
{
  luaL_checktype(L, 1, LUA_TTABLE);
  lua_settop(L, 1);
  lua_getfield(L, 1, "code");
  if (lua_isnil(L, -1)) {
    lua_pushinteger(L, VIR_ERR_INTERNAL_ERROR);
    lua_setfield(L, 1, "code");
  }
  lua_getfield(L, 1, "message");
  if (lua_isnil(L, -1)) {
    lua_pushliteral(L, "unknown error");
    lua_setfield(L, 1, "message");
  }
  lua_settop(L, 1);
  luaL_setmetatable(L, ERROR_MT);
  return 1;
}

/* virt.Error.is(v): true for a virt.Error value. */
static int error_is(lua_State *L)
{
  lua_pushboolean(L, luaL_testudata(L, 1, ERROR_MT) != NULL ||
                         (lua_getmetatable(L, 1) &&
                          (luaL_getmetatable(L, ERROR_MT), lua_rawequal(L, -1, -2))));
  return 1;
}

/* virt.Error.last(): the calling thread's last libvirt error, or nil. */
static int error_last(lua_State *L)
{
  lv_error e;
  if (!virGetLastError()) {
    lua_pushnil(L);
    return 1;
  }
  lv_error_save(&e);
  lv_error_push(L, &e);
  return 1;
}

int luaopen_virt_error(lua_State *L)
{
  static const luaL_Reg fns[] = {
    {"new", error_new},
    {"is", error_is},
    {"last", error_last},
    {NULL, NULL}};
  /* virt.Error (class table), at its size with the ERR_* constants */
  lua_createtable(L, 0, lv_gen_table_size("Error"));
  luaL_setfuncs(L, fns, 0);
  if (luaL_newmetatable(L, ERROR_MT)) {
    lua_pushcfunction(L, error_tostring);
    lua_setfield(L, -2, "__tostring");
    lua_pushvalue(L, -2);
    lua_setfield(L, -2, "__index");    /* err.ERR_NO_DOMAIN etc. read through */
  }
  lua_pop(L, 1);
  return 1;
}
