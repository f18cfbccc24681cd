/*
 * network.c: virt.Network (virNetwork*) and the event registration every
 * non-domain object family shares (networks, storage pools, node devices,
 * secrets).  Simple calls are generated (host/gen); this file has what does
 * not fit a simple shape.
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#include <stdlib.h>
#include <string.h>
#include "lv.h"

static int net_ref(void *p) { return virNetworkRef(p); }
static int net_free(void *p) { return virNetworkFree(p); }
static const char *net_name(void *p) { return virNetworkGetName(p); }

/* libvirt hands out a new object per lookup: compare what identifies it. */
static int net_same(void *a, void *b)
{
  unsigned char ua[VIR_UUID_BUFLEN], ub[VIR_UUID_BUFLEN];
  return virNetworkGetConnect(a) == virNetworkGetConnect(b) &&
         virNetworkGetUUID(a, ua) == 0 && virNetworkGetUUID(b, ub) == 0 &&
         memcmp(ua, ub, sizeof ua) == 0;
}

const lv_class lv_network_class = {
  "virt.Network", 0, "Network", net_ref, net_free, net_name, net_same, NULL, 0};

/* ------------------------------------------------ object-family events
 *
 * Networks, storage pools, node devices and secrets register events the
 * same way: conn:<family>_event_register_any(obj_or_nil, id, fn) -> id, and
 * fn(conn, obj, ...) runs on the loop thread through lv_cb_deliver (pushed
 * and called under lua_pcall).  libvirt runs these callbacks from its event
 * loop, i.e. on our loop thread. */

void lv_objev_lifecycle(void *opaque, const lv_class *cls, void *obj, int event, int detail,
                        const char *where)
{
  lv_args a = LV_ARGS_INIT;
  lv_arg_obj(&a, cls, obj);
  lv_arg_int(&a, event);
  lv_arg_int(&a, detail);
  lv_cb_deliver(opaque, &a, where);
}

void lv_objev_generic(void *opaque, const lv_class *cls, void *obj, const char *where)
{
  lv_args a = LV_ARGS_INIT;
  lv_arg_obj(&a, cls, obj);
  lv_cb_deliver(opaque, &a, where);
}

int lv_objev_register(lua_State *L, const lv_objev_family *fam)
{
  lv_conn *c = lv_connect_checkobj(L, 1);
  void *obj = lua_isnoneornil(L, 2) ? NULL : lv_obj_check(L, 2, fam->cls);
  lua_Integer evid = luaL_checkinteger(L, 3);
  void (*f)(void);
  lv_cb *cb;
  int id;
  luaL_checktype(L, 4, LUA_TFUNCTION);
  f = evid >= 0 && evid <= 0xffff ? fam->callback_for((int)evid) : NULL;
  if (!f)
    return luaL_argerror(L, 3, lua_pushfstring(L, "unknown %s event id", fam->cls->label));
  cb = lv_cb_new(L, 4, 1, 1);
  id = fam->reg(c->obj.ptr, obj, (int)evid, f, cb);
  return lv_cb_registered(L, c, cb, id, fam->dereg);
}

int lv_objev_deregister(lua_State *L, const lv_objev_family *fam)
{
  return lv_cb_deregister(L, fam->dereg);
}

/* fn(conn, net, event, detail) */
static void ev_lifecycle(virConnectPtr c, virNetworkPtr n, int event, int detail, void *op)
{
  (void)c;
  lv_objev_lifecycle(op, &lv_network_class, n, event, detail, "a network event callback");
}

static void (*net_callback_for(int id))(void)
{
  switch (id) {
  case VIR_NETWORK_EVENT_ID_LIFECYCLE: return (void (*)(void))ev_lifecycle;
  }
  return NULL;
}

static int net_reg(virConnectPtr c, void *obj, int id, void (*f)(void), void *op)
{
  return virConnectNetworkEventRegisterAny(c, obj, id, (virConnectNetworkEventGenericCallback)f,
                                           op, lv_cb_free);
}

static int net_dereg(virConnectPtr c, int id)
{
  return virConnectNetworkEventDeregisterAny(c, id);
}

static const lv_objev_family net_events = {
  &lv_network_class, net_callback_for, net_reg, net_dereg};

static int c_network_event_register_any(lua_State *L) { return lv_objev_register(L, &net_events); }
static int c_network_event_deregister_any(lua_State *L) { return lv_objev_deregister(L, &net_events); }

/* ------------------------------------------ Sys::Virt's list_* helpers
 *
 * Sys::Virt's list_networks, list_storage_pools, list_volumes... count the
 * names, list them and look each one up, skipping one that went away in
 * between.  One job does all three so a task yields once. */

struct a_names {
  lv_job job;
  const lv_namelist *nl;
  void *recv;
  const char *arg;
  void **objs;
  int n;
};

static int w_names(lv_job *j)
{
  struct a_names *a = (struct a_names *)j;
  const lv_namelist *nl = a->nl;
  char **names;
  int n, k, i;
  n = nl->num(a->recv, a->arg);
  if (n < 0)
    return -1;
  names = calloc((size_t)n + 1, sizeof *names);
  a->objs = calloc((size_t)n + 1, sizeof *a->objs);
  if (!names || !a->objs) {
    free(names);
    return -1;
  }
  k = n ? nl->list(a->recv, a->arg, names, n) : 0;
  if (k < 0) {
    free(names);
    return -1;
  }
  for (i = 0; i < k; i++) {
    void *o = nl->lookup(a->recv, names[i]);
    if (o)
      a->objs[a->n++] = o;
    else
      virResetLastError();          /* gone since it was listed */
    free(names[i]);
  }
  free(names);
  return 0;
}

static int p_names(lua_State *L, lv_job *j)
{
  struct a_names *a = (struct a_names *)j;
  int i;
  lua_createtable(L, a->n, 0);
  for (i = 0; i < a->n; i++) {
    lv_obj_push(L, a->nl->cls, a->objs[i], 1);
    a->objs[i] = NULL;
    lua_rawseti(L, -2, i + 1);
  }
  return 1;
}

static void f_names(lv_job *j)
{
  struct a_names *a = (struct a_names *)j;
  int i;
  if (!a->objs)
    return;
  for (i = 0; i < a->n; i++)
    if (a->objs[i])
      a->nl->cls->free(a->objs[i]);
  free(a->objs);
  a->objs = NULL;
}

int lv_namelist_call(lua_State *L, const lv_namelist *nl)
{
  LV_JOB_DECL(struct a_names, a, w_names, p_names);
  a.job.fini = f_names;
  a.nl = nl;
  a.recv = lv_job_hold(&a.job, L, 1, nl->recv);
  if (nl->has_arg)
    a.arg = luaL_optstring(L, 2, NULL);
  return lv_job_run(L, &a.job);
}

static int num_active(void *c, const char *a) { (void)a; return virConnectNumOfNetworks(c); }
static int num_defined(void *c, const char *a) { (void)a; return virConnectNumOfDefinedNetworks(c); }
static int list_active(void *c, const char *a, char **n, int m) { (void)a; return virConnectListNetworks(c, n, m); }
static int list_defined(void *c, const char *a, char **n, int m) { (void)a; return virConnectListDefinedNetworks(c, n, m); }
static void *lookup(void *c, const char *name) { return virNetworkLookupByName(c, name); }

static const lv_namelist nl_active = {&lv_connect_class, &lv_network_class, num_active, list_active, lookup, 0};
static const lv_namelist nl_defined = {&lv_connect_class, &lv_network_class, num_defined, list_defined, lookup, 0};

/* conn:list_networks() / conn:list_defined_networks() -> { Network... } */
static int c_list_networks(lua_State *L) { return lv_namelist_call(L, &nl_active); }
static int c_list_defined_networks(lua_State *L) { return lv_namelist_call(L, &nl_defined); }

/* --------------------------------------------------------- DHCP leases */

struct a_leases {
  lv_job job;
  virNetworkPtr net;
  const char *mac;
  unsigned int flags;
  virNetworkDHCPLeasePtr *leases;
  int n;
};

static int w_leases(lv_job *j)
{
  struct a_leases *a = (struct a_leases *)j;
  a->n = virNetworkGetDHCPLeases(a->net, a->mac, &a->leases, a->flags);
  return a->n < 0 ? -1 : 0;
}

/* Sys::Virt's keys: iface, expirytime, type, mac, iaid, ipaddr, prefix,
 * hostname, clientid. */
static int p_leases(lua_State *L, lv_job *j)
{
  struct a_leases *a = (struct a_leases *)j;
  int i;
  lua_createtable(L, a->n, 0);
  for (i = 0; i < a->n; i++) {
    virNetworkDHCPLeasePtr l = a->leases[i];
    lua_createtable(L, 0, 9);
    lv_setfield_str(L, "iface", l->iface);
    lv_setfield_int(L, "expirytime", l->expirytime);
    lv_setfield_int(L, "type", l->type);
    lv_setfield_str(L, "mac", l->mac);
    lv_setfield_str(L, "iaid", l->iaid);
    lv_setfield_str(L, "ipaddr", l->ipaddr);
    lv_setfield_int(L, "prefix", l->prefix);
    lv_setfield_str(L, "hostname", l->hostname);
    lv_setfield_str(L, "clientid", l->clientid);
    lua_rawseti(L, -2, i + 1);
  }
  return 1;
}

static void f_leases(lv_job *j)
{
  struct a_leases *a = (struct a_leases *)j;
  int i;
  if (!a->leases)
    return;
  for (i = 0; i < a->n; i++)
    virNetworkDHCPLeaseFree(a->leases[i]);
  free(a->leases);
  a->leases = NULL;
}

/* net:get_dhcp_leases(mac=nil, flags=0) -> { {iface=, ipaddr=, ...}, ... } */
static int n_get_dhcp_leases(lua_State *L)
{
  LV_JOB_DECL(struct a_leases, a, w_leases, p_leases);
  a.job.fini = f_leases;
  a.net = lv_job_hold(&a.job, L, 1, &lv_network_class);
  a.mac = luaL_optstring(L, 2, NULL);
  a.flags = lv_optflags(L, 3);
  return lv_job_run(L, &a.job);
}

int luaopen_virt_network(lua_State *L)
{
  static const luaL_Reg methods[] = {
    {"get_dhcp_leases", n_get_dhcp_leases},  /* virNetworkGetDHCPLeases */
    {NULL, NULL}};
  static const luaL_Reg conn_methods[] = {
    {"network_event_register_any", c_network_event_register_any},     /* virConnectNetworkEventRegisterAny */
    {"network_event_deregister_any", c_network_event_deregister_any}, /* virConnectNetworkEventDeregisterAny */
    {"list_networks", c_list_networks},
    {"list_defined_networks", c_list_defined_networks},
    {NULL, NULL}};
  lv_class_new(L, &lv_network_class, methods);
  lua_setfield(L, -2, "Network");
  lv_class_add(L, &lv_connect_class, conn_methods);
  return 0;
}
