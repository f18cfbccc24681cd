/*
 * snapshot.c: virt.DomainSnapshot (virDomainSnapshot*): domain snapshots.
 * Simple calls are generated (host/gen); this file has the class and what
 * does not fit a simple shape.
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#include <string.h>
#include "lv.h"

static int cls_ref(void *p) { return virDomainSnapshotRef(p); }
static int cls_free(void *p) { return virDomainSnapshotFree(p); }
static const char *cls_name(void *p) { return virDomainSnapshotGetName(p); }

/* libvirt hands out a new object per lookup: same name in the same domain. */
static int cls_same(void *a, void *b)
{
  virDomainPtr da = virDomainSnapshotGetDomain(a), db = virDomainSnapshotGetDomain(b);
  unsigned char ua[VIR_UUID_BUFLEN], ub[VIR_UUID_BUFLEN];
  return virDomainGetConnect(da) == virDomainGetConnect(db) &&
         virDomainGetUUID(da, ua) == 0 && virDomainGetUUID(db, ub) == 0 &&
         memcmp(ua, ub, sizeof ua) == 0 &&
         strcmp(virDomainSnapshotGetName(a), virDomainSnapshotGetName(b)) == 0;
}

const lv_class lv_snapshot_class = {
  "virt.DomainSnapshot", 0, "DomainSnapshot", cls_ref, cls_free, cls_name, cls_same, NULL, 0};

/* Sys::Virt's dom:list_snapshots() and snap:list_child_snapshots() */
static int num_dom(void *d, const char *a) { (void)a; return virDomainSnapshotNum(d, 0); }
static int list_dom(void *d, const char *a, char **n, int m) { (void)a; return virDomainSnapshotListNames(d, n, m, 0); }
static void *lookup_dom(void *d, const char *name) { return virDomainSnapshotLookupByName(d, name, 0); }
static int num_child(void *s, const char *a) { (void)a; return virDomainSnapshotNumChildren(s, 0); }
static int list_child(void *s, const char *a, char **n, int m) { (void)a; return virDomainSnapshotListChildrenNames(s, n, m, 0); }
static void *lookup_child(void *s, const char *name)
{
  return virDomainSnapshotLookupByName(virDomainSnapshotGetDomain(s), name, 0);
}
static const lv_namelist nl_dom = {&lv_domain_class, &lv_snapshot_class, num_dom, list_dom, lookup_dom, 0};
static const lv_namelist nl_child = {&lv_snapshot_class, &lv_snapshot_class, num_child, list_child, lookup_child, 0};
static int d_list_snapshots(lua_State *L) { return lv_namelist_call(L, &nl_dom); }
static int s_list_child_snapshots(lua_State *L) { return lv_namelist_call(L, &nl_child); }

int luaopen_virt_snapshot(lua_State *L)
{
  static const luaL_Reg methods[] = {
    {"list_child_snapshots", s_list_child_snapshots},
    {NULL, NULL}};
  static const luaL_Reg dom_methods[] = {
    {"list_snapshots", d_list_snapshots},
    {NULL, NULL}};
  lv_class_new(L, &lv_snapshot_class, methods);
  lua_setfield(L, -2, "DomainSnapshot");
  lv_class_add(L, &lv_domain_class, dom_methods);
  return 0;
}
