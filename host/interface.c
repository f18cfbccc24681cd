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
  "virt.Interface", 0, "Interface", cls_ref, cls_free, cls_name, cls_same, NULL};

int luaopen_virt_interface(lua_State *L)
{
  lv_class_new(L, &lv_interface_class, NULL);
  lua_setfield(L, -2, "Interface");
  return 0;
}
