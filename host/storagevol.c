/*
 * storagevol.c: virt.StorageVol (virStorageVol*): the volumes of a storage pool.
 * Simple calls are generated (host/gen); this file has the class and what
 * does not fit a simple shape.
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#include <string.h>
#include "lv.h"

static int cls_ref(void *p) { return virStorageVolRef(p); }
static int cls_free(void *p) { return virStorageVolFree(p); }
static const char *cls_name(void *p) { return virStorageVolGetName(p); }

/* libvirt hands out a new object per lookup: a volume is its key. */
static int cls_same(void *a, void *b)
{
  const char *ka = virStorageVolGetKey(a), *kb = virStorageVolGetKey(b);
  return virStorageVolGetConnect(a) == virStorageVolGetConnect(b) && ka && kb && strcmp(ka, kb) == 0;
}

const lv_class lv_storagevol_class = {
  "virt.StorageVol", 0, "StorageVol", cls_ref, cls_free, cls_name, cls_same, NULL, 0};

/* Sys::Virt's pool:list_volumes() */
static int num(void *p, const char *a) { (void)a; return virStoragePoolNumOfVolumes(p); }
static int list(void *p, const char *a, char **n, int m) { (void)a; return virStoragePoolListVolumes(p, n, m); }
static void *lookup(void *p, const char *name) { return virStorageVolLookupByName(p, name); }
static const lv_namelist nl = {&lv_storagepool_class, &lv_storagevol_class, num, list, lookup, 0};
static int p_list_volumes(lua_State *L) { return lv_namelist_call(L, &nl); }

int luaopen_virt_storagevol(lua_State *L)
{
  static const luaL_Reg pool_methods[] = {
    {"list_volumes", p_list_volumes},
    {NULL, NULL}};
  lv_class_new(L, &lv_storagevol_class, NULL);
  lua_setfield(L, -2, "StorageVol");
  lv_class_add(L, &lv_storagepool_class, pool_methods);
  return 0;
}
