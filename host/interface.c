/*
 * interface.c: virt.Interface (virInterface*): host network interfaces.
 * Simple calls are generated (host/gen); this file has the class and what
 * does not fit a simple shape.
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#include <string.h>
#include "lv.h"

static int cls_ref(void *p) { return virInterfaceRef(p); }
static int cls_free(void *p) { return virInterfaceFree(p); }
static const char *cls_name(void *p) { return virInterfaceGetName(p); }

/* libvirt hands out a new object per lookup: an interface is its name. */
static int cls_same(void *a, void *b)
{
  const char *na = virInterfaceGetName(a), *nb = virInterfaceGetName(b);
  return virInterfaceGetConnect(a) == virInterfaceGetConnect(b) && na && nb && strcmp(na, nb) == 0;
}

const lv_class lv_interface_class = {
  "virt.Interface", 0, "Interface", cls_ref, cls_free, cls_name, cls_same, NULL, 0};

/* Sys::Virt's conn:list_interfaces() / list_defined_interfaces() */
static int num_active(void *c, const char *a) { (void)a; return virConnectNumOfInterfaces(c); }
static int num_defined(void *c, const char *a) { (void)a; return virConnectNumOfDefinedInterfaces(c); }
static int list_active(void *c, const char *a, char **n, int m) { (void)a; return virConnectListInterfaces(c, n, m); }
static int list_defined(void *c, const char *a, char **n, int m) { (void)a; return virConnectListDefinedInterfaces(c, n, m); }
static void *lookup(void *c, const char *name) { return virInterfaceLookupByName(c, name); }
static const lv_namelist nl_active = {&lv_connect_class, &lv_interface_class, num_active, list_active, lookup, 0};
static const lv_namelist nl_defined = {&lv_connect_class, &lv_interface_class, num_defined, list_defined, lookup, 0};
static int c_list_interfaces(lua_State *L) { return lv_namelist_call(L, &nl_active); }
static int c_list_defined_interfaces(lua_State *L) { return lv_namelist_call(L, &nl_defined); }

int luaopen_virt_interface(lua_State *L)
{
  static const luaL_Reg conn_methods[] = {
    {"list_interfaces", c_list_interfaces},
    {"list_defined_interfaces", c_list_defined_interfaces},
    {NULL, NULL}};
  lv_class_new(L, &lv_interface_class, NULL);
  lua_setfield(L, -2, "Interface");
  lv_class_add(L, &lv_connect_class, conn_methods);
  return 0;
}
