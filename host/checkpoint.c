/*
 * checkpoint.c: virt.DomainCheckpoint (virDomainCheckpoint*): domain checkpoints.
 * Simple calls are generated (host/gen); this file has the class and what
 * does not fit a simple shape.
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#include <string.h>
#include "lv.h"

static int cls_ref(void *p) { return virDomainCheckpointRef(p); }
static int cls_free(void *p) { return virDomainCheckpointFree(p); }
static const char *cls_name(void *p) { return virDomainCheckpointGetName(p); }

/* libvirt hands out a new object per lookup: same name in the same domain. */
static int cls_same(void *a, void *b)
{
  virDomainPtr da = virDomainCheckpointGetDomain(a), db = virDomainCheckpointGetDomain(b);
  unsigned char ua[VIR_UUID_BUFLEN], ub[VIR_UUID_BUFLEN];
  return virDomainGetConnect(da) == virDomainGetConnect(db) &&
         virDomainGetUUID(da, ua) == 0 && virDomainGetUUID(db, ub) == 0 &&
         memcmp(ua, ub, sizeof ua) == 0 &&
         strcmp(virDomainCheckpointGetName(a), virDomainCheckpointGetName(b)) == 0;
}

const lv_class lv_checkpoint_class = {
  "virt.DomainCheckpoint", 0, "DomainCheckpoint", cls_ref, cls_free, cls_name, cls_same, NULL, 0};

int luaopen_virt_checkpoint(lua_State *L)
{
  lv_class_new(L, &lv_checkpoint_class, NULL);
  lua_setfield(L, -2, "DomainCheckpoint");
  return 0;
}
