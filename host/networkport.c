/*
 * networkport.c: virt.NetworkPort (virNetworkPort*): the ports of a virtual network.
 * Simple calls are generated (host/gen); this file has the class and what
 * does not fit a simple shape.
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#include <string.h>
#include "lv.h"

static int cls_ref(void *p) { return virNetworkPortRef(p); }
static int cls_free(void *p) { return virNetworkPortFree(p); }

/* A port has no name: __tostring shows its UUID (copied at once by the
 * caller, so one buffer per thread is enough). */
static const char *cls_name(void *p)
{
  static _Thread_local char buf[VIR_UUID_STRING_BUFLEN];
  return virNetworkPortGetUUIDString(p, buf) == 0 ? buf : NULL;
}

/* libvirt hands out a new object per lookup: compare what identifies it. */
static int cls_same(void *a, void *b)
{
  unsigned char ua[VIR_UUID_BUFLEN], ub[VIR_UUID_BUFLEN];
  return virNetworkGetConnect(virNetworkPortGetNetwork(a)) == virNetworkGetConnect(virNetworkPortGetNetwork(b)) &&
         virNetworkPortGetUUID(a, ua) == 0 && virNetworkPortGetUUID(b, ub) == 0 &&
         memcmp(ua, ub, sizeof ua) == 0;
}

const lv_class lv_networkport_class = {
  "virt.NetworkPort", 0, "NetworkPort", cls_ref, cls_free, cls_name, cls_same, NULL, 0};

static int get_params(void *o, const char *arg, unsigned int iarg,
                      virTypedParameterPtr *p, int *n, unsigned int fl)
{
  (void)arg;
  (void)iarg;
  return virNetworkPortGetParameters(o, p, n, fl);
}

static int set_params(void *o, const char *arg, unsigned int iarg,
                      virTypedParameterPtr p, int n, unsigned int fl)
{
  (void)arg;
  (void)iarg;
  return virNetworkPortSetParameters(o, p, n, fl);
}

static const lv_tp_method m_params = {
  &lv_networkport_class, LV_TP_ARG_NONE, get_params, set_params, NULL, 0, LV_POOL_SHORT};

/* port:get_parameters(flags=0) -> { ["inbound.average"] = ..., ... } */
static int p_get_parameters(lua_State *L) { return lv_tp_get(L, &m_params); }
/* port:set_parameters(params, flags=0): names the getter does not know are errors */
static int p_set_parameters(lua_State *L) { return lv_tp_set(L, &m_params); }

int luaopen_virt_networkport(lua_State *L)
{
  static const luaL_Reg methods[] = {
    {"get_parameters", p_get_parameters},  /* virNetworkPortGetParameters */
    {"set_parameters", p_set_parameters},  /* virNetworkPortSetParameters */
    {NULL, NULL}};
  lv_class_new(L, &lv_networkport_class, methods);
  lua_setfield(L, -2, "NetworkPort");
  return 0;
}
