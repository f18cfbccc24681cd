/*
 * nwfilter.c: virt.NWFilter (virNWFilter*): network filters.
 * Simple calls are generated (host/gen); this file has the class and what
 * does not fit a simple shape.
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#include <string.h>
#include "lv.h"

static int cls_ref(void *p) { return virNWFilterRef(p); }
static int cls_free(void *p) { return virNWFilterFree(p); }
static const char *cls_name(void *p) { return virNWFilterGetName(p); }

/* libvirt hands out a new object per lookup: compare what identifies it
 * (a filter has no accessor for its connection). */
static int cls_same(void *a, void *b)
{
  unsigned char ua[VIR_UUID_BUFLEN], ub[VIR_UUID_BUFLEN];
  return virNWFilterGetUUID(a, ua) == 0 && virNWFilterGetUUID(b, ub) == 0 &&
         memcmp(ua, ub, sizeof ua) == 0;
}

const lv_class lv_nwfilter_class = {
  "virt.NWFilter", 0, "NWFilter", cls_ref, cls_free, cls_name, cls_same, NULL, 0};

/* Sys::Virt's conn:list_nwfilters() */
static int num(void *c, const char *a) { (void)a; return virConnectNumOfNWFilters(c); }
static int list(void *c, const char *a, char **n, int m) { (void)a; return virConnectListNWFilters(c, n, m); }
static void *lookup(void *c, const char *name) { return virNWFilterLookupByName(c, name); }
static const lv_namelist nl = {&lv_connect_class, &lv_nwfilter_class, num, list, lookup, 0};
static int c_list_nwfilters(lua_State *L) { return lv_namelist_call(L, &nl); }

int luaopen_virt_nwfilter(lua_State *L)
{
  static const luaL_Reg conn_methods[] = {
    {"list_nwfilters", c_list_nwfilters},
    {NULL, NULL}};
  lv_class_new(L, &lv_nwfilter_class, NULL);
  lua_setfield(L, -2, "NWFilter");
  lv_class_add(L, &lv_connect_class, conn_methods);
  return 0;
}
