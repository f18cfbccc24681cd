/*
 * nodedev.c: virt.NodeDevice (virNodeDevice*) and node device events.
 * Simple calls are generated (host/gen); this file has the class and what
 * does not fit a simple shape.
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#include <stdlib.h>
#include <string.h>
#include "lv.h"

static int dev_ref(void *p) { return virNodeDeviceRef(p); }
static int dev_free(void *p) { return virNodeDeviceFree(p); }
static const char *dev_name(void *p) { return virNodeDeviceGetName(p); }

/* libvirt hands out a new object per lookup: a device is its name. */
static int dev_same(void *a, void *b)
{
  const char *na = virNodeDeviceGetName(a), *nb = virNodeDeviceGetName(b);
  return na && nb && strcmp(na, nb) == 0;
}

const lv_class lv_nodedev_class = {
  "virt.NodeDevice", 0, "NodeDevice", dev_ref, dev_free, dev_name, dev_same, NULL, 0};

/* fn(conn, dev, event, detail) */
static void ev_lifecycle(virConnectPtr c, virNodeDevicePtr d, int event, int detail, void *op)
{
  (void)c;
  lv_objev_lifecycle(op, &lv_nodedev_class, d, event, detail, "a node device event callback");
}

/* fn(conn, dev) */
static void ev_generic(virConnectPtr c, virNodeDevicePtr d, void *op)
{
  (void)c;
  lv_objev_generic(op, &lv_nodedev_class, d, "a node device event callback");
}

static void (*callback_for(int id))(void)
{
  switch (id) {
  case VIR_NODE_DEVICE_EVENT_ID_LIFECYCLE: return (void (*)(void))ev_lifecycle;
  case VIR_NODE_DEVICE_EVENT_ID_UPDATE: return (void (*)(void))ev_generic;
  }
  return NULL;
}

static int reg(virConnectPtr c, void *obj, int id, void (*f)(void), void *op)
{
  return virConnectNodeDeviceEventRegisterAny(c, obj, id,
                                               (virConnectNodeDeviceEventGenericCallback)f,
                                               op, lv_cb_free);
}

static int dereg(virConnectPtr c, int id)
{
  return virConnectNodeDeviceEventDeregisterAny(c, id);
}

static const lv_objev_family events = {&lv_nodedev_class, callback_for, reg, dereg};

static int c_register(lua_State *L) { return lv_objev_register(L, &events); }
static int c_deregister(lua_State *L) { return lv_objev_deregister(L, &events); }

/* ------------------------------------------------- list_capabilities */

struct a_caps {
  lv_job job;
  virNodeDevicePtr dev;
  char **names;
  int n;
};

/* Count then list in one job: a device may gain a capability in between,
 * so the list call is given the count it was sized for. */
static int w_caps(lv_job *j)
{
  struct a_caps *a = (struct a_caps *)j;
  int n = virNodeDeviceNumOfCaps(a->dev);
  if (n < 0)
    return -1;
  a->names = calloc((size_t)n + 1, sizeof *a->names);
  if (!a->names)
    return -1;
  a->n = virNodeDeviceListCaps(a->dev, a->names, n);
  return a->n < 0 ? -1 : 0;
}

static int p_caps(lua_State *L, lv_job *j)
{
  struct a_caps *a = (struct a_caps *)j;
  int i;
  lua_createtable(L, a->n, 0);
  for (i = 0; i < a->n; i++) {
    lua_pushstring(L, a->names[i]);
    lua_rawseti(L, -2, i + 1);
  }
  return 1;
}

static void f_caps(lv_job *j)
{
  struct a_caps *a = (struct a_caps *)j;
  int i;
  if (!a->names)
    return;
  for (i = 0; i < a->n; i++)
    free(a->names[i]);
  free(a->names);
  a->names = NULL;
}

/* dev:list_capabilities() -> { "net", ... } (Sys::Virt: no maxnames) */
static int d_list_capabilities(lua_State *L)
{
  LV_JOB_DECL(struct a_caps, a, w_caps, p_caps);
  a.job.fini = f_caps;
  a.dev = lv_job_hold(&a.job, L, 1, &lv_nodedev_class);
  return lv_job_run(L, &a.job);
}

/* Sys::Virt's conn:list_node_devices(cap=nil) */
static int num(void *c, const char *cap) { return virNodeNumOfDevices(c, cap, 0); }
static int list(void *c, const char *cap, char **n, int m) { return virNodeListDevices(c, cap, n, m, 0); }
static void *lookup(void *c, const char *name) { return virNodeDeviceLookupByName(c, name); }
static const lv_namelist nl = {&lv_connect_class, &lv_nodedev_class, num, list, lookup, 1};
static int c_list_node_devices(lua_State *L) { return lv_namelist_call(L, &nl); }

int luaopen_virt_nodedev(lua_State *L)
{
  static const luaL_Reg methods[] = {
    {"list_capabilities", d_list_capabilities},  /* virNodeDeviceListCaps */
    {NULL, NULL}};
  static const luaL_Reg conn_methods[] = {
    {"node_device_event_register_any", c_register},     /* virConnectNodeDeviceEventRegisterAny */
    {"node_device_event_deregister_any", c_deregister}, /* virConnectNodeDeviceEventDeregisterAny */
    {"list_node_devices", c_list_node_devices},
    {NULL, NULL}};
  lv_class_new(L, &lv_nodedev_class, methods);
  lua_setfield(L, -2, "NodeDevice");
  lv_class_add(L, &lv_connect_class, conn_methods);
  return 0;
}
