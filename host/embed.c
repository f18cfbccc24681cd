/*
 * embed.c: the embedding API (luvirt.h), which the luvirt CLI uses too.
 *
 * libvirt's event implementation is process-global and cannot be taken
 * back, so the uv loop it is bound to (the caller's, or one of our own)
 * outlives an instance: a later instance must use the same loop, and an own
 * loop is kept for the next luvirt_new(NULL).
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

#define STARTED_KEY "luvirt.started"

struct luvirt {
  lua_State *L;
  lv_arena *arena;
  uv_loop_t *loop;
  int failed;
  int in_run;               /* inside luvirt_run: no nested run, no close */
  char *errmsg;
};

static luvirt *instance;
static uv_loop_t *own_loop;  /* made by luvirt_new(NULL), kept for the next */
static char new_error[256];  /* why the last luvirt_new failed */

static void set_error(luvirt *lv, const char *msg)
{
  char *copy = strdup(msg ? msg : "");
  if (copy) {
    free(lv->errmsg);
    lv->errmsg = copy;
  }
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

/* A module's bytecode (host/gen/dump.c, linked with the Lua this file is
 * compiled against) loads in a fraction of what parsing its source costs,
 * but only the Lua release that made it may run it: libluvirt.so can meet
 * another liblua than it was built with.  The check compares the release
 * of the library running with that of lua.h. */
static int bytecode_usable(void)
{
  static const char want[] = "$LuaVersion: " LUA_COPYRIGHT " $";
  return strncmp(lua_ident, want, sizeof want - 1) == 0;
}

static int load_embedded(lua_State *L)
{
  const lv_embedded *m = lua_touserdata(L, lua_upvalueindex(1));
  int rc = LUA_ERRSYNTAX;
  if (m->bytecode && bytecode_usable()) {
    rc = luaL_loadbufferx(L, m->bytecode, m->bclen, m->chunkname, "b");
    if (rc != LUA_OK)
      lua_pop(L, 1);        /* not this Lua's after all: the source */
  }
  if (rc != LUA_OK && luaL_loadbufferx(L, m->src, m->len, m->chunkname, "t") != LUA_OK)
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

/* Under pcall: a memory error while opening must not abort the caller. */
static int init_state(lua_State *L)
{
  luaL_openlibs(L);
  lua_newtable(L);
  lua_setfield(L, LUA_REGISTRYINDEX, STARTED_KEY);
  preload(L);
  set_paths(L);
  return 0;
}

/* What luaL_newstate sets up, on luvirt's allocator (host/alloc.c): a
 * panic function, and warnings off until a script says "@on". */
static int panic(lua_State *L)
{
  const char *msg = lua_tostring(L, -1);
  fprintf(stderr, "luvirt: PANIC: unprotected error in call to Lua API (%s)\n",
          msg ? msg : "error object is not a string");
  fflush(stderr);
  return 0;                     /* Lua then aborts */
}

/* warnings on: print, pieces continued until the last */
static void warn_on(void *ud, const char *msg, int tocont);

static void warn_off(void *ud, const char *msg, int tocont)
{
  lua_State *L = ud;
  if (!tocont && msg[0] == '@' && strcmp(msg + 1, "on") == 0)
    lua_setwarnf(L, warn_on, L);
}

static void warn_on(void *ud, const char *msg, int tocont)
{
  static int continuing;
  lua_State *L = ud;
  if (!continuing && !tocont && msg[0] == '@') {
    if (strcmp(msg + 1, "off") == 0)
      lua_setwarnf(L, warn_off, L);
    return;
  }
  if (!continuing)
    fputs("Lua warning: ", stderr);
  fputs(msg, stderr);
  if (!tocont)
    fputs("\n", stderr);
  continuing = tocont;
}

static lua_State *new_state(lv_arena **arena)
{
  lua_Alloc f = lv_alloc_new(arena);
  lua_State *L = lua_newstate(f, *arena);
  if (!L) {
    lv_alloc_free(*arena);
    *arena = NULL;
    return NULL;
  }
  lua_atpanic(L, panic);
  lua_setwarnf(L, warn_off, L);
  return L;
}

static luvirt *fail_new(luvirt *lv, const char *msg)
{
  snprintf(new_error, sizeof new_error, "luvirt_new: %s", msg);
  if (lv) {
    if (lv->L)
      lua_close(lv->L);
    lv_alloc_free(lv->arena);
    free(lv);
  }
  if (instance == lv)
    instance = NULL;
  return NULL;
}

luvirt *luvirt_new(uv_loop_t *loop)
{
  luvirt *lv;
  new_error[0] = '\0';
  if (instance)
    return fail_new(NULL, "an instance exists already (one per process)");
  if (!loop)
    loop = lv_loop() ? lv_loop() : own_loop;
  if (!loop) {
    loop = malloc(sizeof *loop);
    if (!loop)
      return fail_new(NULL, "not enough memory");
    if (uv_loop_init(loop) < 0) {
      free(loop);
      return fail_new(NULL, "cannot initialize a uv loop");
    }
    own_loop = loop;
  }
  if (lv_loop() && lv_loop() != loop)
    return fail_new(NULL, "libvirt's event loop is bound to another uv loop "
                          "(an earlier instance's): use that loop");
  if (lv_loop_init(loop) < 0)
    return fail_new(NULL, "cannot register libvirt's event implementation");
  if (!lv_loop_on_thread())
    return fail_new(NULL, "call it on the thread that runs the loop");
  lv = calloc(1, sizeof *lv);
  if (!lv)
    return fail_new(NULL, "not enough memory");
  lv->loop = loop;
  lv->L = new_state(&lv->arena);
  if (!lv->L)
    return fail_new(lv, "not enough memory");
  instance = lv;
  lua_pushcfunction(lv->L, init_state);
  if (lua_pcall(lv->L, 0, 0, 0) != LUA_OK)
    return fail_new(lv, lua_tostring(lv->L, -1));
  return lv;
}

lua_State *luvirt_state(luvirt *lv) { return lv->L; }
uv_loop_t *luvirt_loop(luvirt *lv) { return lv->loop; }
int luvirt_failed(luvirt *lv) { return lv->failed; }
int luvirt_backend_fd(luvirt *lv) { return uv_backend_fd(lv->loop); }
int luvirt_tasks(luvirt *lv) { (void)lv; return lv_task_pending(); }

const char *luvirt_errmsg(luvirt *lv)
{
  if (!lv)
    return new_error;
  return lv->errmsg ? lv->errmsg : "";
}

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
  /* remember it: if the loop goes idle while it is suspended, say so */
  lua_getfield(L, LUA_REGISTRYINDEX, STARTED_KEY);
  lua_pushvalue(L, -2);
  lua_rawseti(L, -2, luaL_len(L, -2) + 1);
  lua_pop(L, 2);
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
  if (!lv->L || !chunk) {
    set_error(lv, lv->L ? "luvirt_run_string: no chunk" : "luvirt_run_string: closed");
    return -1;
  }
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
  if (!L || argc < 0 || (argc > 0 && !argv)) {
    set_error(lv, L ? "luvirt_run_file: bad arguments" : "luvirt_run_file: closed");
    return -1;
  }
  if (path && strcmp(path, "-") == 0)
    path = NULL;
  if (luaL_loadfile(L, path) != LUA_OK) {
    set_error(lv, lua_tostring(L, -1));
    lua_pop(L, 1);
    return -1;
  }
  if (!lua_checkstack(L, argc + 8)) {
    lua_pop(L, 1);
    set_error(lv, "luvirt_run_file: too many arguments");
    return -1;
  }
  for (i = 0; i < argc; i++)
    lua_pushstring(L, argv[i]);
  return pstart(lv, argc);
}

/* The loop is idle: a started task that is still suspended can never be
 * woken (it waits on something nothing will do).  Report it as a failure
 * with where it waits, rather than exiting as if all went well. */
static void check_stuck(luvirt *lv)
{
  lua_State *L = lv->L;
  lua_Integer i, n;
  lua_getfield(L, LUA_REGISTRYINDEX, STARTED_KEY);
  n = luaL_len(L, -1);
  for (i = 1; i <= n; i++) {
    int top = lua_gettop(L);
    lua_rawgeti(L, top, i);
    if (!lv->failed && luaL_callmeta(L, top + 1, "__tostring") &&
        strstr(lua_tostring(L, -1), " suspended>")) {
      lua_getiuservalue(L, top + 1, 1);
      luaL_traceback(L, lua_tothread(L, -1),
                     "a task is suspended but nothing is left on the loop to wake it "
                     "(deadlock: it waits for a semaphore, event or task that never comes)", 0);
      lv->failed = 1;
      set_error(lv, lua_tostring(L, -1));
    }
    lua_settop(L, top);
  }
  lua_pop(L, 1);
  lua_newtable(L);                /* those were dealt with */
  lua_setfield(L, LUA_REGISTRYINDEX, STARTED_KEY);
}

/* lv_task_run_loop raises when the loop already runs (a luvirt_run from a
 * callback): under pcall that becomes an error return. */
static int protected_run(lua_State *L)
{
  luvirt *lv = lua_touserdata(L, 1);
  uv_run_mode mode = (uv_run_mode)lua_tointeger(L, 2);
  int rc = lv_task_run_loop(L, mode);
  if (rc == 0 && !lv->failed && mode == UV_RUN_DEFAULT)
    check_stuck(lv);
  lua_pushinteger(L, rc);
  return 1;
}

int luvirt_run(luvirt *lv, uv_run_mode mode)
{
  lua_State *L = lv->L;
  int rc;
  if (!L) {
    set_error(lv, "luvirt_run: closed");
    return -1;
  }
  if (mode != UV_RUN_DEFAULT && mode != UV_RUN_ONCE && mode != UV_RUN_NOWAIT) {
    set_error(lv, "luvirt_run: unknown mode");
    return -1;
  }
  lv->failed = 0;
  lv->in_run++;
  lua_pushcfunction(L, protected_run);
  lua_pushlightuserdata(L, lv);
  lua_pushinteger(L, mode);
  if (lua_pcall(L, 2, 1, 0) != LUA_OK) {
    lv->in_run--;
    set_error(lv, lua_tostring(L, -1));
    lua_pop(L, 1);
    return -1;
  }
  lv->in_run--;
  rc = (int)lua_tointeger(L, -1);
  lua_pop(L, 1);
  return lv->failed ? -1 : rc;
}

/* luv closes the handles it still has when the state is collected, but
 * their close callbacks then run into the freed state: close them first,
 * while it lives.  luv's handle metatables are the keys of registry
 * "uv_handle"; an active handle is referenced from the registry. */
static int close_luv_handles(lua_State *L)
{
  int n = 0;
  lua_settop(L, 0);
  if (lua_getfield(L, LUA_REGISTRYINDEX, "uv_handle") != LUA_TTABLE)
    return 0;
  lua_newtable(L);                       /* 2: the handles to close */
  lua_pushnil(L);
  while (lua_next(L, LUA_REGISTRYINDEX)) {
    if (lua_type(L, -1) == LUA_TUSERDATA && lua_getmetatable(L, -1)) {
      int is_handle = lua_rawget(L, 1) != LUA_TNIL;
      lua_pop(L, 1);
      if (is_handle) {
        lua_pushvalue(L, -1);
        lua_rawseti(L, 2, ++n);
      }
    }
    lua_pop(L, 1);
  }
  for (int i = 1; i <= n; i++) {
    lua_rawgeti(L, 2, i);
    lua_getfield(L, -1, "is_closing");
    lua_pushvalue(L, -2);
    if (lua_pcall(L, 1, 1, 0) == LUA_OK && !lua_toboolean(L, -1)) {
      lua_getfield(L, -2, "close");
      lua_pushvalue(L, -3);
      lua_pcall(L, 1, 0, 0);
    }
    lua_settop(L, 2);
  }
  return 0;
}

void luvirt_close(luvirt *lv)
{
  if (!lv || lv != instance)
    return;
  if (lv->in_run) {
    /* from a callback: closing the state would pull it from under the
     * running loop */
    fprintf(stderr, "luvirt_close: called while luvirt_run runs (from a callback?): ignored\n");
    return;
  }
  /* luv's handles are closed while the state lives (one loop iteration
   * runs their close callbacks).  Closing the state collects connections,
   * whose closes go to workers, and lv_task_shutdown waits for those (no
   * task is resumed any more); then libvirt has queued the removal of its
   * watches and timers and their free callbacks: flush them, and let one
   * more iteration finish the uv closes. */
  lua_pushcfunction(lv->L, close_luv_handles);
  if (lua_pcall(lv->L, 0, 0, 0) != LUA_OK)
    lua_pop(lv->L, 1);
  uv_run(lv->loop, UV_RUN_NOWAIT);
  lua_close(lv->L);
  lv->L = NULL;
  lv_task_shutdown();
  lv_loop_flush();
  uv_run(lv->loop, UV_RUN_NOWAIT);
  lv_loop_flush();
  lv_alloc_free(lv->arena);     /* nothing can reach the state's memory now */
  free(lv->errmsg);
  free(lv);
  instance = NULL;
}
