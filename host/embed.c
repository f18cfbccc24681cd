/*
 * embed.c: the embedding API (luvirt.h), which the luvirt CLI uses too.
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <lualib.h>
#include "luvirt.h"
#include "lv.h"
#include "lv_embed.h"

/* luv is linked into the host and the shared library, not into the plain
 * Lua module (which loads the system's luv.so instead). */
#include <luv/luv.h>

struct luvirt {
  lua_State *L;
  uv_loop_t *loop;
  int own_loop;
  int failed;
  char *errmsg;
};

static luvirt *instance;

static void set_error(luvirt *lv, const char *msg)
{
  free(lv->errmsg);
  lv->errmsg = strdup(msg ? msg : "");
}

/* luv's callbacks: report errors, never exit (luv's default would). */
static int luv_pcall_cb(lua_State *L, int nargs, int nresults, int flags)
{
  int base = lua_gettop(L) - nargs;   /* the function's index */
  (void)flags;
  if (lv_pcall(L, nargs, nresults, "a luv callback") != 0)
    return -LUA_ERRRUN;
  return lua_gettop(L) - base + 1;
}

static int open_luv(lua_State *L)
{
  luv_set_loop(L, instance->loop);
  luaopen_luv(L);
  luv_set_callback(L, luv_pcall_cb);
  return 1;
}

static int load_embedded(lua_State *L)
{
  const lv_embedded *m = lua_touserdata(L, lua_upvalueindex(1));
  if (luaL_loadbuffer(L, m->src, m->len, m->chunkname) != LUA_OK)
    return lua_error(L);
  lua_pushvalue(L, 1);
  lua_call(L, 1, 1);
  return 1;
}

static void preload(lua_State *L)
{
  const lv_embedded *m;
  luaL_getsubtable(L, LUA_REGISTRYINDEX, LUA_PRELOAD_TABLE);
  lua_pushcfunction(L, open_luv);
  lua_setfield(L, -2, "luv");
  lua_pushcfunction(L, luaopen_virt_core);
  lua_setfield(L, -2, "virt.core");
  for (m = lv_embedded_modules; m->name; m++) {
    lua_pushlightuserdata(L, (void *)m);
    lua_pushcclosure(L, load_embedded, 1);
    lua_setfield(L, -2, m->name);
  }
  lua_pop(L, 1);
}

/* The stdlib and scripts' libraries: installed copy, or the source tree
 * the binary was built in. */
static void set_paths(lua_State *L)
{
  const char *extra = getenv("LUVIRT_PATH");
  lua_getglobal(L, "package");
  lua_getfield(L, -1, "path");
  lua_pushfstring(L, "%s;%s/stdlib/?.lua;%s/?.lua;%s/stdlib/?.lua;%s",
                  extra ? extra : "./?.lua", LUVIRT_SRCDIR, LUVIRT_SRCDIR,
                  LUVIRT_DATADIR, lua_tostring(L, -1));
  lua_setfield(L, -3, "path");
  lua_pop(L, 2);
}

luvirt *luvirt_new(uv_loop_t *loop)
{
  luvirt *lv;
  if (instance)
    return NULL;
  lv = calloc(1, sizeof *lv);
  if (!lv)
    return NULL;
  if (!loop) {
    loop = malloc(sizeof *loop);
    if (!loop || uv_loop_init(loop) < 0) {
      free(loop);
      free(lv);
      return NULL;
    }
    lv->own_loop = 1;
  }
  lv->loop = loop;
  if (lv_loop_init(loop) < 0 || !(lv->L = luaL_newstate())) {
    if (lv->own_loop) {
      uv_loop_close(loop);
      free(loop);
    }
    free(lv);
    return NULL;
  }
  instance = lv;
  luaL_openlibs(lv->L);
  preload(lv->L);
  set_paths(lv->L);
  return lv;
}

lua_State *luvirt_state(luvirt *lv) { return lv->L; }
uv_loop_t *luvirt_loop(luvirt *lv) { return lv->loop; }
const char *luvirt_errmsg(luvirt *lv) { return lv->errmsg ? lv->errmsg : ""; }
int luvirt_failed(luvirt *lv) { return lv->failed; }
int luvirt_backend_fd(luvirt *lv) { return uv_backend_fd(lv->loop); }
int luvirt_backend_timeout(luvirt *lv) { return uv_backend_timeout(lv->loop); }

/* report(msg): a task started by luvirt_run_* failed: remember, stop. */
static int report(lua_State *L)
{
  luvirt *lv = lua_touserdata(L, lua_upvalueindex(1));
  lv->failed = 1;
  set_error(lv, luaL_tolstring(L, 1, NULL));
  uv_stop(lv->loop);
  return 0;
}

static const char runner[] =
  "local report, fn = ...\n"
  "local function handler(e)\n"
  "  if type(e) ~= 'string' then e = tostring(e) end\n"
  "  return debug.traceback(e, 2)\n"
  "end\n"
  "return function(...)\n"
  "  local ok, err = xpcall(fn, handler, ...)\n"
  "  if not ok then report(err) end\n"
  "end\n";

/* The chunk is on top of L with nargs arguments above it: run it as a
 * task whose failure is reported. */
static int start(luvirt *lv, int nargs)
{
  lua_State *L = lv->L;
  int fidx = lua_gettop(L) - nargs;
  if (luaL_loadbuffer(L, runner, sizeof runner - 1, "=luvirt") != LUA_OK)
    goto fail;
  lua_pushlightuserdata(L, lv);
  lua_pushcclosure(L, report, 1);
  lua_pushvalue(L, fidx);
  if (lua_pcall(L, 2, 1, 0) != LUA_OK)
    goto fail;
  lua_replace(L, fidx);                     /* wrapped fn in place of fn */
  lua_getfield(L, LUA_REGISTRYINDEX, LUA_LOADED_TABLE);
  lua_getfield(L, -1, "virt.core");
  if (lua_isnil(L, -1)) {                   /* tasks need the module */
    lua_pop(L, 2);
    luaL_requiref(L, "virt.core", luaopen_virt_core, 0);
  }
  lua_pop(L, lua_gettop(L) - fidx - nargs);
  lv_task_spawn(L, nargs);
  lua_pop(L, 1);
  return 0;
fail:
  set_error(lv, lua_tostring(L, -1));
  lua_settop(L, fidx - 1);
  return -1;
}

static int protected_start(lua_State *L)
{
  luvirt *lv = lua_touserdata(L, 1);
  int nargs = (int)lua_tointeger(L, 2);
  lua_remove(L, 1);
  lua_remove(L, 1);
  lua_pushinteger(L, start(lv, nargs));
  return 1;
}

/* start() under pcall: a memory error must not escape to the caller */
static int pstart(luvirt *lv, int nargs)
{
  lua_State *L = lv->L;
  int base = lua_gettop(L) - nargs - 1, rc;
  lua_pushcfunction(L, protected_start);
  lua_insert(L, base + 1);
  lua_pushlightuserdata(L, lv);
  lua_insert(L, base + 2);
  lua_pushinteger(L, nargs);
  lua_insert(L, base + 3);
  if (lua_pcall(L, nargs + 3, 1, 0) != LUA_OK) {
    set_error(lv, lua_tostring(L, -1));
    lua_settop(L, base);
    return -1;
  }
  rc = (int)lua_tointeger(L, -1);
  lua_settop(L, base);
  return rc;
}

int luvirt_run_string(luvirt *lv, const char *chunk, const char *name)
{
  if (luaL_loadbuffer(lv->L, chunk, strlen(chunk), name ? name : "=(string)") != LUA_OK) {
    set_error(lv, lua_tostring(lv->L, -1));
    lua_pop(lv->L, 1);
    return -1;
  }
  return pstart(lv, 0);
}

int luvirt_run_file(luvirt *lv, const char *path, int argc, char **argv)
{
  lua_State *L = lv->L;
  int i;
  if (path && strcmp(path, "-") == 0)
    path = NULL;
  if (luaL_loadfile(L, path) != LUA_OK) {
    set_error(lv, lua_tostring(L, -1));
    lua_pop(L, 1);
    return -1;
  }
  luaL_checkstack(L, argc + 2, "too many arguments");
  for (i = 0; i < argc; i++)
    lua_pushstring(L, argv[i]);
  return pstart(lv, argc);
}

int luvirt_run(luvirt *lv, uv_run_mode mode)
{
  int rc;
  lv->failed = 0;
  lv_loop_flush();
  rc = uv_run(lv->loop, mode);
  return lv->failed ? -1 : rc;
}

void luvirt_close(luvirt *lv)
{
  if (!lv)
    return;
  /* Closing the state collects connections; their closes go to workers.
   * Then let the loop finish them and run libvirt's free callbacks. */
  lua_close(lv->L);
  lv->L = NULL;
  lv_task_shutdown();
  lv_loop_flush();
  uv_run(lv->loop, UV_RUN_DEFAULT);
  lv_loop_flush();
  if (lv->own_loop) {
    /* libvirt's and our handles stay registered on the process-global
     * event implementation; the loop memory is kept for them. */
  }
  free(lv->errmsg);
  free(lv);
  instance = NULL;
}
