/*
 * secret.c: virt.Secret (virSecret*) and secret events.
 * Simple calls are generated (host/gen); this file has the class and what
 * does not fit a simple shape.
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#include <stdlib.h>
#include <string.h>
#include "lv.h"

static int sec_ref(void *p) { return virSecretRef(p); }
static int sec_free(void *p) { return virSecretFree(p); }
static const char *sec_name(void *p) { return virSecretGetUsageID(p); }

/* libvirt hands out a new object per lookup: compare what identifies it. */
static int sec_same(void *a, void *b)
{
  unsigned char ua[VIR_UUID_BUFLEN], ub[VIR_UUID_BUFLEN];
  return virSecretGetConnect(a) == virSecretGetConnect(b) &&
         virSecretGetUUID(a, ua) == 0 && virSecretGetUUID(b, ub) == 0 &&
         memcmp(ua, ub, sizeof ua) == 0;
}

const lv_class lv_secret_class = {
  "virt.Secret", 0, "Secret", sec_ref, sec_free, sec_name, sec_same, NULL, 0};

/* fn(conn, secret, event, detail) */
static void ev_lifecycle(virConnectPtr c, virSecretPtr s, int event, int detail, void *op)
{
  (void)c;
  lv_objev_lifecycle(op, &lv_secret_class, s, event, detail, "a secret event callback");
}

/* fn(conn, secret) */
static void ev_generic(virConnectPtr c, virSecretPtr s, void *op)
{
  (void)c;
  lv_objev_generic(op, &lv_secret_class, s, "a secret event callback");
}

static void (*callback_for(int id))(void)
{
  switch (id) {
  case VIR_SECRET_EVENT_ID_LIFECYCLE: return (void (*)(void))ev_lifecycle;
  case VIR_SECRET_EVENT_ID_VALUE_CHANGED: return (void (*)(void))ev_generic;
  }
  return NULL;
}

static int reg(virConnectPtr c, void *obj, int id, void (*f)(void), void *op)
{
  return virConnectSecretEventRegisterAny(c, obj, id,
                                               (virConnectSecretEventGenericCallback)f,
                                               op, lv_cb_free);
}

static int dereg(virConnectPtr c, int id)
{
  return virConnectSecretEventDeregisterAny(c, id);
}

static const lv_objev_family events = {&lv_secret_class, callback_for, reg, dereg};

static int c_register(lua_State *L) { return lv_objev_register(L, &events); }
static int c_deregister(lua_State *L) { return lv_objev_deregister(L, &events); }

/* ------------------------------------------------------------ get_value */

struct a_value {
  lv_job job;
  virSecretPtr sec;
  unsigned int flags;
  unsigned char *value;
  size_t size;
};

static int w_value(lv_job *j)
{
  struct a_value *a = (struct a_value *)j;
  a->value = virSecretGetValue(a->sec, &a->size, a->flags);
  return a->value ? 0 : -1;
}

static int p_value(lua_State *L, lv_job *j)
{
  struct a_value *a = (struct a_value *)j;
  lua_pushlstring(L, (const char *)a->value, a->size);
  return 1;
}

/* The value is a secret: wipe it before freeing. */
static void f_value(lv_job *j)
{
  struct a_value *a = (struct a_value *)j;
  if (a->value) {
    memset(a->value, 0, a->size);
    free(a->value);
  }
  a->value = NULL;
}

/* secret:get_value(flags=0) -> bytes */
static int s_get_value(lua_State *L)
{
  LV_JOB_DECL(struct a_value, a, w_value, p_value);
  a.job.fini = f_value;
  a.sec = lv_job_hold(&a.job, L, 1, &lv_secret_class);
  a.flags = lv_optflags(L, 2);
  return lv_job_run(L, &a.job);
}

/* Sys::Virt's conn:list_secrets(): listed by UUID */
static int num(void *c, const char *a) { (void)a; return virConnectNumOfSecrets(c); }
static int list(void *c, const char *a, char **n, int m) { (void)a; return virConnectListSecrets(c, n, m); }
static void *lookup(void *c, const char *uuid) { return virSecretLookupByUUIDString(c, uuid); }
static const lv_namelist nl = {&lv_connect_class, &lv_secret_class, num, list, lookup, 0};
static int c_list_secrets(lua_State *L) { return lv_namelist_call(L, &nl); }

int luaopen_virt_secret(lua_State *L)
{
  static const luaL_Reg methods[] = {
    {"get_value", s_get_value},  /* virSecretGetValue */
    {NULL, NULL}};
  static const luaL_Reg conn_methods[] = {
    {"secret_event_register_any", c_register},     /* virConnectSecretEventRegisterAny */
    {"secret_event_deregister_any", c_deregister}, /* virConnectSecretEventDeregisterAny */
    {"list_secrets", c_list_secrets},
    {NULL, NULL}};
  lv_class_new(L, &lv_secret_class, methods);
  lua_setfield(L, -2, "Secret");
  lv_class_add(L, &lv_connect_class, conn_methods);
  return 0;
}
