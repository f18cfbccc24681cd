/*
 * object.c: the layer every libvirt class shares, as luv's lhandle.c is for
 * its handles.  An object is a userdata holding an lv_obj; its first user
 * value keeps the parent (usually the connection) alive.
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#include <stdint.h>
#include <string.h>
#include "lv.h"

/* Each class's metatable, remembered when the class is made: its address
 * (what lua_topointer gives) for a check that costs a pointer comparison
 * instead of luaL_checkudata's lookup of the name in the registry, and a
 * registry reference to push it by.  A stale entry (another state's) never
 * matches a live table of this one, and every miss falls back to the full
 * check, so the cache can only be slow, never wrong. */
#define NMT 64
static struct {
  const lv_class *cls;
  const void *mt;
  int ref;
} mts[NMT];

static unsigned mt_slot(const lv_class *cls)
{
  unsigned h = (unsigned)(((uintptr_t)cls >> 4) & (NMT - 1)), n;
  for (n = 0; n < NMT && mts[h].cls && mts[h].cls != cls; n++)
    h = (h + 1) & (NMT - 1);
  return h;
}

/* The metatable of cls is on top of L: remember it. */
static void mt_remember(lua_State *L, const lv_class *cls)
{
  unsigned h = mt_slot(cls);
  if (mts[h].cls && mts[h].cls != cls)
    return;                     /* full: classes simply take the slow path */
  mts[h].cls = cls;
  mts[h].mt = lua_topointer(L, -1);
  lua_pushvalue(L, -1);
  mts[h].ref = luaL_ref(L, LUA_REGISTRYINDEX);
}

/* Is the userdata at idx exactly of class cls?  (fast path only) */
static int is_class(lua_State *L, int idx, const lv_class *cls)
{
  unsigned h = mt_slot(cls);
  const void *mt;
  /* a table may have been given the metatable: it must be a userdata */
  if (mts[h].cls != cls || lua_type(L, idx) != LUA_TUSERDATA || !lua_getmetatable(L, idx))
    return 0;
  mt = lua_topointer(L, -1);
  lua_pop(L, 1);
  return mt == mts[h].mt;
}

/* Is the value at idx an object of any luvirt class?  The class a parent
 * was last found to be is tried first (a list's objects share a parent). */
static int is_obj(lua_State *L, int idx)
{
  static unsigned last;
  const void *mt;
  unsigned i;
  if (lua_type(L, idx) != LUA_TUSERDATA || !lua_getmetatable(L, idx))
    return 0;
  mt = lua_topointer(L, -1);
  lua_pop(L, 1);
  if (mts[last].cls && mts[last].mt == mt)
    return 1;
  for (i = 0; i < NMT; i++)
    if (mts[i].cls && mts[i].mt == mt) {
      last = i;
      return 1;
    }
  /* a class the cache could not hold */
  if (luaL_getmetafield(L, idx, "__label") != LUA_TNIL) {
    lua_pop(L, 1);
    return 1;
  }
  return 0;
}

/* The ref is checked against the address: under another state (one that
 * made the entry and is gone, or runs beside this one) it is no table of
 * ours, and the name lookup does it. */
static void set_class_mt(lua_State *L, const lv_class *cls)
{
  unsigned h = mt_slot(cls);
  if (mts[h].cls == cls) {
    if (lua_rawgeti(L, LUA_REGISTRYINDEX, mts[h].ref) == LUA_TTABLE &&
        lua_topointer(L, -1) == mts[h].mt) {
      lua_setmetatable(L, -2);
      return;
    }
    lua_pop(L, 1);
  }
  luaL_setmetatable(L, cls->tname);
}

lv_obj *lv_obj_push(lua_State *L, const lv_class *cls, void *ptr, int parent)
{
  lv_obj *o;
  if (parent)
    parent = lua_absindex(L, parent);
  /* Born closed, filled after the metatable is set: a memory error in
   * between leaves nothing half-made behind. */
  o = lua_newuserdatauv(L, cls->size ? cls->size : sizeof *o, 1);
  memset(o, 0, cls->size ? cls->size : sizeof *o);
  o->cls = cls;
  o->flags = 0;
  set_class_mt(L, cls);
  if (parent) {
    lua_pushvalue(L, parent);
    lua_setiuservalue(L, -2, 1);
    if (is_obj(L, parent))
      o->flags |= ((lv_obj *)lua_touserdata(L, parent))->flags & LV_OBJ_INLINE;
  }
  o->ptr = ptr;
  return o;
}

lv_obj *lv_obj_test(lua_State *L, int idx, const lv_class *cls)
{
  if (is_class(L, idx, cls))
    return lua_touserdata(L, idx);
  return luaL_testudata(L, idx, cls->tname);
}

lv_obj *lv_obj_checkany(lua_State *L, int idx, const lv_class *cls)
{
  lv_obj *o = lv_obj_test(L, idx, cls);
  return o ? o : luaL_checkudata(L, idx, cls->tname);   /* raises the type error */
}

lv_obj *lv_obj_open(lua_State *L, int idx, const lv_class *cls)
{
  lv_obj *o = lv_obj_checkany(L, idx, cls);
  if (!o->ptr) {
    if (cls->dead)
      luaL_error(L, "%s", cls->dead);
    luaL_error(L, "attempt to use a freed %s", cls->label);
  }
  return o;
}

void *lv_obj_check(lua_State *L, int idx, const lv_class *cls)
{
  return lv_obj_open(L, idx, cls)->ptr;
}

int lv_obj_release(lv_obj *o)
{
  void *p = o->ptr;
  o->ptr = NULL;
  if (p && (o->flags & LV_OBJ_BUSYMASK)) {
    o->flags |= LV_OBJ_FREEPEND;  /* a call still uses it: its job frees it */
    return 0;
  }
  return p ? o->cls->free(p) : 0;
}

/* __gc and __close: free the libvirt reference; never blocks (virXFree
 * only drops a reference; a connection's close is the connection class's
 * own business). */
static int obj_gc(lua_State *L)
{
  lv_obj *o = lua_touserdata(L, 1);
  if (o && o->cls && o->cls->free != NULL)
    lv_obj_release(o);
  return 0;
}

static int obj_tostring(lua_State *L)
{
  lv_obj *o = lua_touserdata(L, 1);
  if (!o->ptr)
    lua_pushfstring(L, "<%s (freed)>", o->cls->label);
  else if (o->cls->name) {
    const char *n = o->cls->name(o->ptr);
    lua_pushfstring(L, "<%s %s>", o->cls->label, n ? n : "?");
  } else
    lua_pushfstring(L, "<%s %p>", o->cls->label, o->ptr);
  return 1;
}

/* Two wrappers of the same libvirt object compare equal: libvirt hands out
 * the same pointer for the same object while it is referenced. */
static int obj_eq(lua_State *L)
{
  lv_obj *a = lua_touserdata(L, 1), *b = lua_touserdata(L, 2);
  int eq = a && b && a->cls == b->cls && a->ptr && b->ptr;
  if (eq && a->ptr != b->ptr)
    eq = a->cls->same && a->cls->same(a->ptr, b->ptr);
  lua_pushboolean(L, eq);
  return 1;
}

/* The class table is the metatable's __index, so methods and constants
 * live together as in Sys::Virt's packages. */
void lv_class_new(lua_State *L, const lv_class *cls, const luaL_Reg *methods)
{
  luaL_newmetatable(L, cls->tname);
  mt_remember(L, cls);
  lua_createtable(L, 0, lv_gen_table_size(cls->label));   /* methods, constants */
  if (methods)
    luaL_setfuncs(L, methods, 0);
  lua_pushvalue(L, -1);
  lua_setfield(L, -3, "__index");
  /* A class with more to do on collection (a connection) replaces both. */
  lua_pushcfunction(L, obj_gc);
  lua_setfield(L, -3, "__gc");
  lua_pushcfunction(L, obj_gc);
  lua_setfield(L, -3, "__close");
  lua_pushcfunction(L, obj_tostring);
  lua_setfield(L, -3, "__tostring");
  lua_pushcfunction(L, obj_eq);
  lua_setfield(L, -3, "__eq");
  lua_pushstring(L, cls->label);
  lua_setfield(L, -3, "__label");
  lua_remove(L, -2);   /* leave the class table */
}

void lv_class_add(lua_State *L, const lv_class *cls, const luaL_Reg *methods)
{
  luaL_getmetatable(L, cls->tname);
  if (lua_isnil(L, -1))
    luaL_error(L, "luvirt: class %s is not registered", cls->tname);
  lua_getfield(L, -1, "__index");
  luaL_setfuncs(L, methods, 0);
  lua_pop(L, 2);
}

/* ------------------------------------------------- callbacks into Lua
 *
 * libvirt calls event callbacks with C values from its event loop.  They
 * become Lua values only inside the lua_pcall below, so an error while
 * making them (no memory, no stack) is reported like the function's own
 * and never unwinds through libvirt. */

static lv_arg *next_arg(lv_args *a, char t)
{
  static lv_arg spare;            /* more than LV_MAXARGS: a bug, but no overflow */
  lv_arg *g = a->n < LV_MAXARGS ? &a->a[a->n++] : &spare;
  g->t = t;
  return g;
}

void lv_arg_int(lv_args *a, long long v) { next_arg(a, 'i')->v.i = v; }
void lv_arg_uint64(lv_args *a, unsigned long long v) { next_arg(a, 'u')->v.u = v; }
void lv_arg_str(lv_args *a, const char *s) { next_arg(a, 's')->v.s = s; }

void lv_arg_obj(lv_args *a, const lv_class *cls, void *ptr)
{
  lv_arg *g = next_arg(a, 'o');
  g->v.o.cls = cls;
  g->v.o.ptr = ptr;
}

void lv_arg_push(lv_args *a, lv_arg_pushfn push, const void *data)
{
  lv_arg *g = next_arg(a, 'f');
  g->v.f.push = push;
  g->v.f.data = data;
}

typedef struct deliver_ctx {
  int fn;
  lv_later_fn push;
  void *data;
} deliver_ctx;

/* Runs under lua_pcall: the function, its arguments, the call. */
static int deliver_k(lua_State *L)
{
  deliver_ctx *d = lua_touserdata(L, 1);
  int n;
  lua_settop(L, 0);
  luaL_checkstack(L, 8, "callback arguments");
  lua_rawgeti(L, LUA_REGISTRYINDEX, d->fn);
  n = d->push ? d->push(L, d->data) : 0;
  lua_call(L, n, 0);
  return 0;
}

int lv_deliver(int fn, lv_later_fn push, void *data, const char *where)
{
  lua_State *L = lv_main_state();
  deliver_ctx d;
  d.fn = fn;
  d.push = push;
  d.data = data;
  /* a light C function and a light userdata allocate nothing; lv_pcall
   * needs one more slot, the report of a failure two */
  if (!L || !lv_loop_on_thread() || !lua_checkstack(L, 4))
    return -1;
  lua_pushcfunction(L, deliver_k);
  lua_pushlightuserdata(L, &d);
  return lv_pcall(L, 1, 0, where);
}

typedef struct cb_call {
  const lv_cb *cb;
  const lv_args *args;
} cb_call;

static int push_cb_args(lua_State *L, void *data)
{
  const cb_call *c = data;
  int base = lua_gettop(L), conn = 0, i;
  luaL_checkstack(L, c->args->n + 8, "callback arguments");
  if (c->cb->conn != LUA_NOREF) {
    lua_rawgeti(L, LUA_REGISTRYINDEX, c->cb->conn);
    conn = lua_gettop(L);
  }
  for (i = 0; i < c->args->n && i < LV_MAXARGS; i++) {
    const lv_arg *g = &c->args->a[i];
    switch (g->t) {
    case 'i': lua_pushinteger(L, (lua_Integer)g->v.i); break;
    case 'u': lv_push_uint64(L, g->v.u); break;
    case 's': lua_pushstring(L, g->v.s); break;   /* NULL pushes nil */
    case 'o': {
      /* the object owns ptr from here: take our reference at once (nothing
       * between the two can raise or collect) */
      lv_obj *o = lv_obj_push(L, g->v.o.cls, g->v.o.ptr, conn);
      if (g->v.o.cls->ref(g->v.o.ptr) < 0)
        o->ptr = NULL;
      break;
    }
    case 'f':
      luaL_checkstack(L, 8, "callback arguments");
      g->v.f.push(L, g->v.f.data);
      break;
    }
  }
  return lua_gettop(L) - base;
}

void lv_cb_deliver(lv_cb *cb, const lv_args *args, const char *where)
{
  cb_call c;
  c.cb = cb;
  c.args = args;
  lv_deliver(cb->fn, push_cb_args, &c, where);
}
