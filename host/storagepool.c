/*
 * storagepool.c: virt.StoragePool (virStoragePool*) and storage pool events.
 * Simple calls are generated (host/gen); this file has the class and what
 * does not fit a simple shape.
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#include <string.h>
#include "lv.h"

static int pool_ref(void *p) { return virStoragePoolRef(p); }
static int pool_free(void *p) { return virStoragePoolFree(p); }
static const char *pool_name(void *p) { return virStoragePoolGetName(p); }

/* libvirt hands out a new object per lookup: compare what identifies it. */
static int pool_same(void *a, void *b)
{
  unsigned char ua[VIR_UUID_BUFLEN], ub[VIR_UUID_BUFLEN];
  return virStoragePoolGetConnect(a) == virStoragePoolGetConnect(b) &&
         virStoragePoolGetUUID(a, ua) == 0 && virStoragePoolGetUUID(b, ub) == 0 &&
         memcmp(ua, ub, sizeof ua) == 0;
}

const lv_class lv_storagepool_class = {
  "virt.StoragePool", 0, "StoragePool", pool_ref, pool_free, pool_name, pool_same, NULL, 0};

/* fn(conn, pool, event, detail) */
static void ev_lifecycle(virConnectPtr c, virStoragePoolPtr p, int event, int detail, void *op)
{
  (void)c;
  lv_objev_lifecycle(op, &lv_storagepool_class, p, event, detail, "a storage pool event callback");
}

/* fn(conn, pool) */
static void ev_generic(virConnectPtr c, virStoragePoolPtr p, void *op)
{
  (void)c;
  lv_objev_generic(op, &lv_storagepool_class, p, "a storage pool event callback");
}

static void (*callback_for(int id))(void)
{
  switch (id) {
  case VIR_STORAGE_POOL_EVENT_ID_LIFECYCLE: return (void (*)(void))ev_lifecycle;
  case VIR_STORAGE_POOL_EVENT_ID_REFRESH: return (void (*)(void))ev_generic;
  }
  return NULL;
}

static int reg(virConnectPtr c, void *obj, int id, void (*f)(void), void *op)
{
  return virConnectStoragePoolEventRegisterAny(c, obj, id,
                                               (virConnectStoragePoolEventGenericCallback)f,
                                               op, lv_cb_free);
}

static int dereg(virConnectPtr c, int id)
{
  return virConnectStoragePoolEventDeregisterAny(c, id);
}

static const lv_objev_family events = {&lv_storagepool_class, callback_for, reg, dereg};

static int c_register(lua_State *L) { return lv_objev_register(L, &events); }
static int c_deregister(lua_State *L) { return lv_objev_deregister(L, &events); }

/* Sys::Virt's conn:list_storage_pools() / list_defined_storage_pools() */
static int num_active(void *c, const char *a) { (void)a; return virConnectNumOfStoragePools(c); }
static int num_defined(void *c, const char *a) { (void)a; return virConnectNumOfDefinedStoragePools(c); }
static int list_active(void *c, const char *a, char **n, int m) { (void)a; return virConnectListStoragePools(c, n, m); }
static int list_defined(void *c, const char *a, char **n, int m) { (void)a; return virConnectListDefinedStoragePools(c, n, m); }
static void *lookup(void *c, const char *name) { return virStoragePoolLookupByName(c, name); }
static const lv_namelist nl_active = {&lv_connect_class, &lv_storagepool_class, num_active, list_active, lookup, 0};
static const lv_namelist nl_defined = {&lv_connect_class, &lv_storagepool_class, num_defined, list_defined, lookup, 0};
static int c_list_storage_pools(lua_State *L) { return lv_namelist_call(L, &nl_active); }
static int c_list_defined_storage_pools(lua_State *L) { return lv_namelist_call(L, &nl_defined); }

int luaopen_virt_storagepool(lua_State *L)
{
  static const luaL_Reg conn_methods[] = {
    {"storage_pool_event_register_any", c_register},     /* virConnectStoragePoolEventRegisterAny */
    {"storage_pool_event_deregister_any", c_deregister}, /* virConnectStoragePoolEventDeregisterAny */
    {"list_storage_pools", c_list_storage_pools},
    {"list_defined_storage_pools", c_list_defined_storage_pools},
    {NULL, NULL}};
  lv_class_new(L, &lv_storagepool_class, NULL);
  lua_setfield(L, -2, "StoragePool");
  lv_class_add(L, &lv_connect_class, conn_methods);
  return 0;
}
