/*
 * nwfilterbinding.c: virt.NWFilterBinding (virNWFilterBinding*): a filter bound to a port.
 * Simple calls are generated (host/gen); this file has the class and what
 * does not fit a simple shape.
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#include <string.h>
#include "lv.h"

static int cls_ref(void *p) { return virNWFilterBindingRef(p); }
static int cls_free(void *p) { return virNWFilterBindingFree(p); }
static const char *cls_name(void *p) { return virNWFilterBindingGetPortDev(p); }

/* libvirt hands out a new object per lookup: a binding is its port. */
static int cls_same(void *a, void *b)
{
  const char *na = virNWFilterBindingGetPortDev(a), *nb = virNWFilterBindingGetPortDev(b);
  return na && nb && strcmp(na, nb) == 0;
}

const lv_class lv_nwfilterbinding_class = {
  "virt.NWFilterBinding", 0, "NWFilterBinding", cls_ref, cls_free, cls_name, cls_same, NULL, 0};

int luaopen_virt_nwfilterbinding(lua_State *L)
{
  lv_class_new(L, &lv_nwfilterbinding_class, NULL);
  lua_setfield(L, -2, "NWFilterBinding");
  return 0;
}
