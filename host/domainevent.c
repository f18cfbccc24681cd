/*
 * domainevent.c: domain events (virConnectDomainEvent*), every event id,
 * delivered to Lua callbacks with Sys::Virt's argument lists:
 *   fn(conn, dom, ...) where ... depends on the event id (see README).
 *
 * libvirt dispatches events from its event loop, i.e. on our loop thread,
 * so the callbacks below may call Lua (under lv_pcall).
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#include <stdlib.h>
#include "lv.h"

/* Push fn, conn and a Domain for dom; NULL if not on the loop thread. */
static lua_State *begin(void *opaque, virDomainPtr dom)
{
  lv_cb *cb = opaque;
  lua_State *L = lv_cb_begin(cb);
  if (!L)
    return NULL;
  virDomainRef(dom);
  lv_obj_push(L, &lv_domain_class, dom, -1);   /* parent: the connection */
  return L;
}

#define CALL(L, n) lv_cb_call((L), 2 + (n), "a domain event callback")

static int ev_lifecycle(virConnectPtr c, virDomainPtr d, int event, int detail, void *op)
{
  lua_State *L = begin(op, d);
  (void)c;
  if (L) {
    lua_pushinteger(L, event);
    lua_pushinteger(L, detail);
    CALL(L, 2);
  }
  return 0;
}

static void ev_generic(virConnectPtr c, virDomainPtr d, void *op)
{
  lua_State *L = begin(op, d);
  (void)c;
  if (L)
    CALL(L, 0);
}

static void ev_rtc(virConnectPtr c, virDomainPtr d, long long off, void *op)
{
  lua_State *L = begin(op, d);
  (void)c;
  if (L) {
    lua_pushinteger(L, off);
    CALL(L, 1);
  }
}

static void ev_int(virConnectPtr c, virDomainPtr d, int v, void *op)
{
  lua_State *L = begin(op, d);
  (void)c;
  if (L) {
    lua_pushinteger(L, v);
    CALL(L, 1);
  }
}

static void ev_io_error(virConnectPtr c, virDomainPtr d, const char *src,
                        const char *alias, int action, void *op)
{
  lua_State *L = begin(op, d);
  (void)c;
  if (L) {
    lua_pushstring(L, src);
    lua_pushstring(L, alias);
    lua_pushinteger(L, action);
    CALL(L, 3);
  }
}

static void ev_io_error_reason(virConnectPtr c, virDomainPtr d, const char *src,
                               const char *alias, int action, const char *reason,
                               void *op)
{
  lua_State *L = begin(op, d);
  (void)c;
  if (L) {
    lua_pushstring(L, src);
    lua_pushstring(L, alias);
    lua_pushinteger(L, action);
    lua_pushstring(L, reason);
    CALL(L, 4);
  }
}

static void push_gaddr(lua_State *L, const virDomainEventGraphicsAddress *a)
{
  lua_createtable(L, 0, 3);
  if (a) {
    lv_setfield_int(L, "family", a->family);
    lv_setfield_str(L, "node", a->node);
    lv_setfield_str(L, "service", a->service);
  }
}

static void ev_graphics(virConnectPtr c, virDomainPtr d, int phase,
                        const virDomainEventGraphicsAddress *local,
                        const virDomainEventGraphicsAddress *remote,
                        const char *scheme, const virDomainEventGraphicsSubject *subj,
                        void *op)
{
  lua_State *L = begin(op, d);
  int i;
  (void)c;
  if (!L)
    return;
  lua_pushinteger(L, phase);
  push_gaddr(L, local);
  push_gaddr(L, remote);
  lua_pushstring(L, scheme);
  lua_createtable(L, subj ? subj->nidentity : 0, 0);
  for (i = 0; subj && i < subj->nidentity; i++) {
    lua_createtable(L, 0, 2);
    lv_setfield_str(L, "type", subj->identities[i].type);
    lv_setfield_str(L, "name", subj->identities[i].name);
    lua_rawseti(L, -2, i + 1);
  }
  CALL(L, 5);
}

static void ev_block_job(virConnectPtr c, virDomainPtr d, const char *disk,
                         int type, int status, void *op)
{
  lua_State *L = begin(op, d);
  (void)c;
  if (L) {
    lua_pushstring(L, disk);
    lua_pushinteger(L, type);
    lua_pushinteger(L, status);
    CALL(L, 3);
  }
}

static void ev_disk_change(virConnectPtr c, virDomainPtr d, const char *old,
                           const char *new, const char *alias, int reason, void *op)
{
  lua_State *L = begin(op, d);
  (void)c;
  if (L) {
    lua_pushstring(L, old);
    lua_pushstring(L, new);
    lua_pushstring(L, alias);
    lua_pushinteger(L, reason);
    CALL(L, 4);
  }
}

static void ev_str_int(virConnectPtr c, virDomainPtr d, const char *s, int v, void *op)
{
  lua_State *L = begin(op, d);
  (void)c;
  if (L) {
    lua_pushstring(L, s);
    lua_pushinteger(L, v);
    CALL(L, 2);
  }
}

static void ev_pm(virConnectPtr c, virDomainPtr d, int reason, void *op)
{
  ev_int(c, d, reason, op);
}

static void ev_balloon(virConnectPtr c, virDomainPtr d, unsigned long long actual, void *op)
{
  lua_State *L = begin(op, d);
  (void)c;
  if (L) {
    lv_push_uint64(L, actual);
    CALL(L, 1);
  }
}

static void ev_str(virConnectPtr c, virDomainPtr d, const char *s, void *op)
{
  lua_State *L = begin(op, d);
  (void)c;
  if (L) {
    lua_pushstring(L, s);
    CALL(L, 1);
  }
}

static void ev_params(virConnectPtr c, virDomainPtr d, virTypedParameterPtr p,
                      int n, void *op)
{
  lua_State *L = begin(op, d);
  (void)c;
  if (L) {
    lv_tp_push(L, p, n);
    CALL(L, 1);
  }
}

static void ev_agent(virConnectPtr c, virDomainPtr d, int state, int reason, void *op)
{
  lua_State *L = begin(op, d);
  (void)c;
  if (L) {
    lua_pushinteger(L, state);
    lua_pushinteger(L, reason);
    CALL(L, 2);
  }
}

static void ev_int_str(virConnectPtr c, virDomainPtr d, int type, const char *s, void *op)
{
  lua_State *L = begin(op, d);
  (void)c;
  if (L) {
    lua_pushinteger(L, type);
    lua_pushstring(L, s);
    CALL(L, 2);
  }
}

static void ev_threshold(virConnectPtr c, virDomainPtr d, const char *dev,
                         const char *path, unsigned long long threshold,
                         unsigned long long excess, void *op)
{
  lua_State *L = begin(op, d);
  (void)c;
  if (L) {
    lua_pushstring(L, dev);
    lua_pushstring(L, path);
    lv_push_uint64(L, threshold);
    lv_push_uint64(L, excess);
    CALL(L, 4);
  }
}

static void ev_memfail(virConnectPtr c, virDomainPtr d, int recipient, int action,
                       unsigned int flags, void *op)
{
  lua_State *L = begin(op, d);
  (void)c;
  if (L) {
    lua_pushinteger(L, recipient);
    lua_pushinteger(L, action);
    lua_pushinteger(L, flags);
    CALL(L, 3);
  }
}

static void ev_memdev(virConnectPtr c, virDomainPtr d, const char *alias,
                      unsigned long long size, void *op)
{
  lua_State *L = begin(op, d);
  (void)c;
  if (L) {
    lua_pushstring(L, alias);
    lv_push_uint64(L, size);
    CALL(L, 2);
  }
}

/* The C callback for each event id, in libvirt's order. */
static virConnectDomainEventGenericCallback callback_for(int id)
{
#define CB(f) VIR_DOMAIN_EVENT_CALLBACK(f)
  switch (id) {
  case VIR_DOMAIN_EVENT_ID_LIFECYCLE: return CB(ev_lifecycle);
  case VIR_DOMAIN_EVENT_ID_REBOOT: return CB(ev_generic);
  case VIR_DOMAIN_EVENT_ID_RTC_CHANGE: return CB(ev_rtc);
  case VIR_DOMAIN_EVENT_ID_WATCHDOG: return CB(ev_int);
  case VIR_DOMAIN_EVENT_ID_IO_ERROR: return CB(ev_io_error);
  case VIR_DOMAIN_EVENT_ID_GRAPHICS: return CB(ev_graphics);
  case VIR_DOMAIN_EVENT_ID_IO_ERROR_REASON: return CB(ev_io_error_reason);
  case VIR_DOMAIN_EVENT_ID_CONTROL_ERROR: return CB(ev_generic);
  case VIR_DOMAIN_EVENT_ID_BLOCK_JOB: return CB(ev_block_job);
  case VIR_DOMAIN_EVENT_ID_DISK_CHANGE: return CB(ev_disk_change);
  case VIR_DOMAIN_EVENT_ID_TRAY_CHANGE: return CB(ev_str_int);
  case VIR_DOMAIN_EVENT_ID_PMWAKEUP: return CB(ev_pm);
  case VIR_DOMAIN_EVENT_ID_PMSUSPEND: return CB(ev_pm);
  case VIR_DOMAIN_EVENT_ID_BALLOON_CHANGE: return CB(ev_balloon);
  case VIR_DOMAIN_EVENT_ID_PMSUSPEND_DISK: return CB(ev_pm);
  case VIR_DOMAIN_EVENT_ID_DEVICE_REMOVED: return CB(ev_str);
  case VIR_DOMAIN_EVENT_ID_BLOCK_JOB_2: return CB(ev_block_job);
  case VIR_DOMAIN_EVENT_ID_TUNABLE: return CB(ev_params);
  case VIR_DOMAIN_EVENT_ID_AGENT_LIFECYCLE: return CB(ev_agent);
  case VIR_DOMAIN_EVENT_ID_DEVICE_ADDED: return CB(ev_str);
  case VIR_DOMAIN_EVENT_ID_MIGRATION_ITERATION: return CB(ev_int);
  case VIR_DOMAIN_EVENT_ID_JOB_COMPLETED: return CB(ev_params);
  case VIR_DOMAIN_EVENT_ID_DEVICE_REMOVAL_FAILED: return CB(ev_str);
  case VIR_DOMAIN_EVENT_ID_METADATA_CHANGE: return CB(ev_int_str);
  case VIR_DOMAIN_EVENT_ID_BLOCK_THRESHOLD: return CB(ev_threshold);
  case VIR_DOMAIN_EVENT_ID_MEMORY_FAILURE: return CB(ev_memfail);
  case VIR_DOMAIN_EVENT_ID_MEMORY_DEVICE_SIZE_CHANGE: return CB(ev_memdev);
  }
#undef CB
  return NULL;
}

static int dereg_any(virConnectPtr conn, int id)
{
  return virConnectDomainEventDeregisterAny(conn, id);
}

/* conn:domain_event_register_any(dom_or_nil, virt.Domain.EVENT_ID_*, fn) -> id
 * Registration is local bookkeeping plus one RPC the first time; it runs
 * inline (libvirt needs the callback pointer and opaque at once). */
static int c_domain_event_register_any(lua_State *L)
{
  lv_conn *c = lv_connect_checkobj(L, 1);
  virDomainPtr dom = lua_isnoneornil(L, 2) ? NULL : lv_obj_check(L, 2, &lv_domain_class);
  lua_Integer evid = luaL_checkinteger(L, 3);
  virConnectDomainEventGenericCallback f;
  lv_cb *cb;
  int id;
  luaL_checktype(L, 4, LUA_TFUNCTION);
  f = evid >= 0 && evid <= 0xffff ? callback_for((int)evid) : NULL;
  if (!f)
    return luaL_argerror(L, 3, "unknown domain event id");
  cb = lv_cb_new(L, 4, 1, 1);
  id = virConnectDomainEventRegisterAny(c->obj.ptr, dom, (int)evid, f, cb, lv_cb_free);
  return lv_cb_registered(L, c, cb, id, dereg_any);
}

static int c_domain_event_deregister_any(lua_State *L)
{
  return lv_cb_deregister(L, dereg_any);
}

/* The legacy API: one lifecycle callback per connection. */
static int dereg_legacy(virConnectPtr conn, int id)
{
  (void)id;
  return virConnectDomainEventDeregister(conn, ev_lifecycle);
}

static int c_domain_event_register(lua_State *L)
{
  lv_conn *c = lv_connect_checkobj(L, 1);
  lv_cb *cb;
  luaL_checktype(L, 2, LUA_TFUNCTION);
  cb = lv_cb_new(L, 2, 1, 1);
  if (virConnectDomainEventRegister(c->obj.ptr, ev_lifecycle, cb, lv_cb_free) < 0) {
    lv_error e;
    lv_error_save(&e);
    lv_cb_free(cb);
    return lv_error_raise(L, &e);
  }
  lv_connect_track(c, -1, dereg_legacy);
  return 0;
}

static int c_domain_event_deregister(lua_State *L)
{
  lv_conn *c = lv_connect_checkobj(L, 1);
  if (virConnectDomainEventDeregister(c->obj.ptr, ev_lifecycle) < 0)
    return lv_error_raise_last(L);
  lv_connect_untrack(c, -1, dereg_legacy);
  return 0;
}

int luaopen_virt_domainevent(lua_State *L)
{
  static const luaL_Reg methods[] = {
    {"domain_event_register_any", c_domain_event_register_any},     /* virConnectDomainEventRegisterAny */
    {"domain_event_deregister_any", c_domain_event_deregister_any}, /* virConnectDomainEventDeregisterAny */
    {"domain_event_register", c_domain_event_register},             /* virConnectDomainEventRegister */
    {"domain_event_deregister", c_domain_event_deregister},         /* virConnectDomainEventDeregister */
    {NULL, NULL}};
  lv_class_add(L, &lv_connect_class, methods);
  return 0;
}
