/*
 * admin.c: the libvirt-admin API as virt.admin: virt.admin.open(uri)
 * returns a virt.admin.Connect to a daemon's admin socket, whose servers
 * (virt.admin.Server) have clients (virt.admin.Client), thread pools and
 * client limits; the connection also sets the daemon's logging.
 * Simple calls are generated (host/gen); this file has the classes and what
 * does not fit a simple shape.
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#include <stdlib.h>
#include <string.h>
#include <libvirt/libvirt-admin.h>
#include "lv.h"

static int conn_ref(void *p) { return virAdmConnectRef(p); }
static int conn_free(void *p) { return virAdmConnectClose(p) < 0 ? -1 : 0; }

/* libvirt-admin has no virAdmServerRef/virAdmClientRef, but an async call
 * must keep its object alive while a script frees the Lua side: count the
 * extra references here and call libvirt's free with the last one. */
typedef struct shadow {
  void *ptr;
  int extra;
  struct shadow *next;
} shadow;
static shadow *shadows;
static uv_mutex_t shadow_m;
static uv_once_t shadow_once = UV_ONCE_INIT;
static void shadow_init(void) { uv_mutex_init(&shadow_m); }

static int shadow_ref(void *p)
{
  shadow *s;
  uv_once(&shadow_once, shadow_init);
  uv_mutex_lock(&shadow_m);
  for (s = shadows; s && s->ptr != p; s = s->next)
    ;
  if (!s && (s = calloc(1, sizeof *s))) {
    s->ptr = p;
    s->next = shadows;
    shadows = s;
  }
  if (s)
    s->extra++;
  uv_mutex_unlock(&shadow_m);
  return s ? 0 : -1;
}

/* 1: a shadow reference was dropped; 0: this was the last one. */
static int shadow_unref(void *p)
{
  shadow **sp, *s;
  int dropped = 0;
  uv_once(&shadow_once, shadow_init);
  uv_mutex_lock(&shadow_m);
  for (sp = &shadows; (s = *sp) && s->ptr != p; sp = &s->next)
    ;
  if (s) {
    dropped = 1;
    if (--s->extra == 0) {
      *sp = s->next;
      free(s);
    }
  }
  uv_mutex_unlock(&shadow_m);
  return dropped;
}

static int srv_free(void *p) { return shadow_unref(p) ? 0 : virAdmServerFree(p); }
static const char *srv_name(void *p) { return virAdmServerGetName(p); }
static int cli_free(void *p) { return shadow_unref(p) ? 0 : virAdmClientFree(p); }

static int srv_same(void *a, void *b)
{
  return strcmp(virAdmServerGetName(a), virAdmServerGetName(b)) == 0;
}

static int cli_same(void *a, void *b)
{
  return virAdmClientGetID(a) == virAdmClientGetID(b);
}

const lv_class lv_admconnect_class = {
  "virt.admin.Connect", 0, "admin.Connect", conn_ref, conn_free, NULL, NULL,
  "attempt to use a closed admin connection"};
const lv_class lv_admserver_class = {
  "virt.admin.Server", 0, "admin.Server", shadow_ref, srv_free, srv_name, srv_same, NULL};
const lv_class lv_admclient_class = {
  "virt.admin.Client", 0, "admin.Client", shadow_ref, cli_free, NULL, cli_same, NULL};

/* --------------------------------------------------------------- open */

struct a_open {
  lv_job job;
  const char *uri;
  unsigned int flags;
  virAdmConnectPtr conn;
};

static int w_open(lv_job *j)
{
  struct a_open *a = (struct a_open *)j;
  a->conn = virAdmConnectOpen(a->uri, a->flags);
  return a->conn ? 0 : -1;
}

static int p_open(lua_State *L, lv_job *j)
{
  struct a_open *a = (struct a_open *)j;
  lv_obj_push(L, &lv_admconnect_class, a->conn, 0);
  a->conn = NULL;
  return 1;
}

static void f_open(lv_job *j)
{
  struct a_open *a = (struct a_open *)j;
  if (a->conn)
    virAdmConnectClose(a->conn);
}

/* virt.admin.open(uri=nil, flags=0) -> admin.Connect; nil: the local
 * libvirtd's admin socket ("libvirtd:///system" or ":///session"). */
static int l_open(lua_State *L)
{
  LV_JOB_DECL(struct a_open, a, w_open, p_open);
  a.job.fini = f_open;
  a.uri = luaL_optstring(L, 1, NULL);
  a.flags = lv_optflags(L, 2);
  return lv_job_run(L, &a.job);
}

/* conn:close(): undoes the close callback and drops the connection now. */
static int c_close(lua_State *L)
{
  lv_obj_release(lv_obj_checkany(L, 1, &lv_admconnect_class));
  return 0;
}

/* ------------------------------------------------------- close callback */

/* fn(conn, reason) with reason one of virt.CLOSE_REASON_* */
static void on_close(virAdmConnectPtr conn, int reason, void *opaque)
{
  lua_State *L = lv_cb_begin(opaque);
  (void)conn;
  if (L) {
    lua_pushinteger(L, reason);
    lv_cb_call(L, 2, "an admin close callback");
  }
}

/* conn:register_close_callback(fn): one per connection, as in libvirt. */
static int c_register_close_callback(lua_State *L)
{
  virAdmConnectPtr conn = lv_obj_check(L, 1, &lv_admconnect_class);
  lv_cb *cb;
  luaL_checktype(L, 2, LUA_TFUNCTION);
  cb = lv_cb_new(L, 2, 1, 0);
  if (virAdmConnectRegisterCloseCallback(conn, on_close, cb, lv_cb_free) < 0) {
    lv_error e;
    lv_error_save(&e);
    lv_cb_free(cb);
    return lv_error_raise(L, &e);
  }
  return 0;
}

static int c_unregister_close_callback(lua_State *L)
{
  virAdmConnectPtr conn = lv_obj_check(L, 1, &lv_admconnect_class);
  if (virAdmConnectUnregisterCloseCallback(conn, on_close) < 0)
    return lv_error_raise_last(L);
  return 0;
}

/* ------------------------------------------------------ typed parameters */

static int get_threadpool(void *o, const char *arg, unsigned int iarg,
                          virTypedParameterPtr *p, int *n, unsigned int fl)
{
  (void)arg;
  (void)iarg;
  return virAdmServerGetThreadPoolParameters(o, p, n, fl);
}

static int set_threadpool(void *o, const char *arg, unsigned int iarg,
                          virTypedParameterPtr p, int n, unsigned int fl)
{
  (void)arg;
  (void)iarg;
  return virAdmServerSetThreadPoolParameters(o, p, n, fl);
}

static int get_limits(void *o, const char *arg, unsigned int iarg,
                      virTypedParameterPtr *p, int *n, unsigned int fl)
{
  (void)arg;
  (void)iarg;
  return virAdmServerGetClientLimits(o, p, n, fl);
}

static int set_limits(void *o, const char *arg, unsigned int iarg,
                      virTypedParameterPtr p, int n, unsigned int fl)
{
  (void)arg;
  (void)iarg;
  return virAdmServerSetClientLimits(o, p, n, fl);
}

static int get_info(void *o, const char *arg, unsigned int iarg,
                    virTypedParameterPtr *p, int *n, unsigned int fl)
{
  (void)arg;
  (void)iarg;
  return virAdmClientGetInfo(o, p, n, fl);
}

static const lv_tp_method
  m_threadpool = {&lv_admserver_class, LV_TP_ARG_NONE, get_threadpool, set_threadpool, NULL, 0, LV_POOL_SHORT},
  m_limits = {&lv_admserver_class, LV_TP_ARG_NONE, get_limits, set_limits, NULL, 0, LV_POOL_SHORT},
  m_info = {&lv_admclient_class, LV_TP_ARG_NONE, get_info, NULL, NULL, 0, LV_POOL_SHORT};

static int s_get_threadpool(lua_State *L) { return lv_tp_get(L, &m_threadpool); }
static int s_set_threadpool(lua_State *L) { return lv_tp_set(L, &m_threadpool); }
static int s_get_limits(lua_State *L) { return lv_tp_get(L, &m_limits); }
static int s_set_limits(lua_State *L) { return lv_tp_set(L, &m_limits); }
static int cl_get_info(lua_State *L) { return lv_tp_get(L, &m_info); }

int luaopen_virt_admin(lua_State *L)
{
  static const luaL_Reg conn_methods[] = {
    {"close", c_close},                                        /* virAdmConnectClose */
    {"register_close_callback", c_register_close_callback},    /* virAdmConnectRegisterCloseCallback */
    {"unregister_close_callback", c_unregister_close_callback}, /* virAdmConnectUnregisterCloseCallback */
    {NULL, NULL}};
  static const luaL_Reg srv_methods[] = {
    {"get_threadpool_parameters", s_get_threadpool},  /* virAdmServerGetThreadPoolParameters */
    {"set_threadpool_parameters", s_set_threadpool},  /* virAdmServerSetThreadPoolParameters */
    {"get_client_limits", s_get_limits},              /* virAdmServerGetClientLimits */
    {"set_client_limits", s_set_limits},              /* virAdmServerSetClientLimits */
    {NULL, NULL}};
  static const luaL_Reg cli_methods[] = {
    {"get_info", cl_get_info},  /* virAdmClientGetInfo */
    {NULL, NULL}};
  static const luaL_Reg functions[] = {
    {"open", l_open},           /* virAdmConnectOpen */
    {NULL, NULL}};
  lua_newtable(L);
  luaL_setfuncs(L, functions, 0);
  lv_class_new(L, &lv_admconnect_class, conn_methods);
  lua_setfield(L, -2, "Connect");
  lv_class_new(L, &lv_admserver_class, srv_methods);
  lua_setfield(L, -2, "Server");
  lv_class_new(L, &lv_admclient_class, cli_methods);
  lua_setfield(L, -2, "Client");
  lua_setfield(L, -2, "admin");
  return 0;
}
