/*
 * domain.c: virt.Domain (virDomain*): lifecycle and information.
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#include <stdlib.h>
#include <string.h>
#include "lv.h"

static int dom_ref(void *p) { return virDomainRef(p); }
static int dom_free(void *p) { return virDomainFree(p); }
static const char *dom_name(void *p) { return virDomainGetName(p); }

/* Same domain: same UUID on the same connection. */
static int dom_same(void *a, void *b)
{
  unsigned char ua[VIR_UUID_BUFLEN], ub[VIR_UUID_BUFLEN];
  return virDomainGetConnect(a) == virDomainGetConnect(b) &&
         virDomainGetUUID(a, ua) == 0 && virDomainGetUUID(b, ub) == 0 &&
         memcmp(ua, ub, sizeof ua) == 0;
}

const lv_class lv_domain_class = {
  "virt.Domain", 0, "Domain", dom_ref, dom_free, dom_name, dom_same, NULL};

#define DOM(L) ((virDomainPtr)lv_obj_check((L), 1, &lv_domain_class))

/* ------------------------------------------- calls that answer locally */

static int d_get_name(lua_State *L)
{
  lua_pushstring(L, virDomainGetName(DOM(L)));
  return 1;
}

/* -1 (not running) comes back as -1, as in Sys::Virt */
static int d_get_id(lua_State *L)
{
  unsigned int id = virDomainGetID(DOM(L));
  lua_pushinteger(L, id == (unsigned int)-1 ? -1 : (lua_Integer)id);
  return 1;
}

static int d_get_uuid(lua_State *L)
{
  unsigned char uuid[VIR_UUID_BUFLEN];
  if (virDomainGetUUID(DOM(L), uuid) < 0)
    return lv_error_raise_last(L);
  lua_pushlstring(L, (const char *)uuid, sizeof uuid);
  return 1;
}

static int d_get_uuid_string(lua_State *L)
{
  char uuid[VIR_UUID_STRING_BUFLEN];
  if (virDomainGetUUIDString(DOM(L), uuid) < 0)
    return lv_error_raise_last(L);
  lua_pushstring(L, uuid);
  return 1;
}

/* ------------------------------------------- "domain [, arg], flags" calls */

enum { OP_CREATE, OP_DESTROY, OP_SHUTDOWN, OP_REBOOT, OP_RESET, OP_SUSPEND,
       OP_RESUME, OP_UNDEFINE, OP_IS_ACTIVE, OP_IS_PERSISTENT, OP_IS_UPDATED,
       OP_GET_AUTOSTART, OP_SET_AUTOSTART, OP_SET_MEMORY, OP_SET_MAX_MEMORY,
       OP_SET_VCPUS, OP_GET_MAX_MEMORY, OP_GET_MAX_VCPUS, OP_GET_OS_TYPE,
       OP_GET_XML, OP_MANAGED_SAVE, OP_HAS_MANAGED_SAVE, OP_MANAGED_SAVE_REMOVE,
       OP_GET_HOSTNAME, OP_GET_VCPUS_FLAGS };

enum { RET_NONE, RET_BOOL, RET_INT, RET_ULONG, RET_STR };
static const unsigned char ret_of[] = {
  [OP_IS_ACTIVE] = RET_BOOL, [OP_IS_PERSISTENT] = RET_BOOL,
  [OP_IS_UPDATED] = RET_BOOL, [OP_GET_AUTOSTART] = RET_BOOL,
  [OP_HAS_MANAGED_SAVE] = RET_BOOL, [OP_GET_MAX_MEMORY] = RET_ULONG,
  [OP_GET_MAX_VCPUS] = RET_INT, [OP_GET_VCPUS_FLAGS] = RET_INT,
  [OP_GET_OS_TYPE] = RET_STR, [OP_GET_XML] = RET_STR, [OP_GET_HOSTNAME] = RET_STR,
};

struct a_op {
  lv_job job;
  virDomainPtr dom;
  int op;
  unsigned int flags;
  int noflags;              /* flags not given: the call without flags, as Sys::Virt */
  unsigned long long arg;
  long long ret;
  char *s;
};

static int w_op(lv_job *j)
{
  struct a_op *a = (struct a_op *)j;
  virDomainPtr d = a->dom;
  long long r = -1;
  int autostart = 0;
  switch (a->op) {
  case OP_CREATE: r = a->noflags ? virDomainCreate(d) : virDomainCreateWithFlags(d, a->flags); break;
  case OP_DESTROY: r = a->noflags ? virDomainDestroy(d) : virDomainDestroyFlags(d, a->flags); break;
  case OP_SHUTDOWN: r = a->noflags ? virDomainShutdown(d) : virDomainShutdownFlags(d, a->flags); break;
  case OP_REBOOT: r = virDomainReboot(d, a->flags); break;
  case OP_RESET: r = virDomainReset(d, a->flags); break;
  case OP_SUSPEND: r = virDomainSuspend(d); break;
  case OP_RESUME: r = virDomainResume(d); break;
  case OP_UNDEFINE: r = a->noflags ? virDomainUndefine(d) : virDomainUndefineFlags(d, a->flags); break;
  case OP_IS_ACTIVE: r = virDomainIsActive(d); break;
  case OP_IS_PERSISTENT: r = virDomainIsPersistent(d); break;
  case OP_IS_UPDATED: r = virDomainIsUpdated(d); break;
  case OP_GET_AUTOSTART:
    r = virDomainGetAutostart(d, &autostart);
    if (r == 0)
      r = autostart;
    break;
  case OP_SET_AUTOSTART: r = virDomainSetAutostart(d, (int)a->arg); break;
  case OP_SET_MEMORY:
    r = a->noflags ? virDomainSetMemory(d, (unsigned long)a->arg)
                   : virDomainSetMemoryFlags(d, (unsigned long)a->arg, a->flags);
    break;
  case OP_SET_MAX_MEMORY: r = virDomainSetMaxMemory(d, (unsigned long)a->arg); break;
  case OP_SET_VCPUS:
    r = a->noflags ? virDomainSetVcpus(d, (unsigned int)a->arg)
                   : virDomainSetVcpusFlags(d, (unsigned int)a->arg, a->flags);
    break;
  case OP_GET_MAX_MEMORY: {
    unsigned long m = virDomainGetMaxMemory(d);
    if (m == 0)
      return -1;
    a->ret = (long long)m;
    return 0;
  }
  case OP_GET_MAX_VCPUS: r = virDomainGetMaxVcpus(d); break;
  case OP_GET_VCPUS_FLAGS: r = virDomainGetVcpusFlags(d, a->flags); break;
  case OP_GET_OS_TYPE: a->s = virDomainGetOSType(d); return a->s ? 0 : -1;
  case OP_GET_XML: a->s = virDomainGetXMLDesc(d, a->flags); return a->s ? 0 : -1;
  case OP_GET_HOSTNAME: a->s = virDomainGetHostname(d, a->flags); return a->s ? 0 : -1;
  case OP_MANAGED_SAVE: r = virDomainManagedSave(d, a->flags); break;
  case OP_HAS_MANAGED_SAVE: r = virDomainHasManagedSaveImage(d, a->flags); break;
  case OP_MANAGED_SAVE_REMOVE: r = virDomainManagedSaveRemove(d, a->flags); break;
  }
  a->ret = r;
  return r < 0 ? -1 : 0;
}

static int p_op(lua_State *L, lv_job *j)
{
  struct a_op *a = (struct a_op *)j;
  switch (a->op < (int)sizeof ret_of ? ret_of[a->op] : RET_NONE) {
  case RET_BOOL: lua_pushboolean(L, a->ret > 0); return 1;
  case RET_INT: lua_pushinteger(L, a->ret); return 1;
  case RET_ULONG: lv_push_uint64(L, (unsigned long long)a->ret); return 1;
  case RET_STR: lv_push_string_free(L, a->s); a->s = NULL; return 1;
  }
  return 0;
}

/* argi: stack index of the numeric argument or 0; flagi: of the flags or 0 */
static int op(lua_State *L, int which, int argi, int flagi)
{
  LV_JOB_DECL(struct a_op, a, w_op, p_op);
  a.dom = lv_job_hold(&a.job, L, 1, &lv_domain_class);
  a.op = which;
  if (argi) {
    if (which == OP_SET_AUTOSTART) {
      luaL_checkany(L, argi);
      a.arg = lua_isinteger(L, argi) ? lua_tointeger(L, argi) != 0 : lua_toboolean(L, argi);
    } else {
      a.arg = lv_check_uint64(L, argi);
      luaL_argcheck(L, a.arg <= (which == OP_SET_VCPUS ? 0xffffffffULL : (unsigned long long)~0UL),
                    argi, "value out of range");
    }
  }
  if (flagi) {
    a.noflags = lua_isnoneornil(L, flagi);
    a.flags = lv_optflags(L, flagi);
  }
  return lv_job_run(L, &a.job);
}

static int d_create(lua_State *L) { return op(L, OP_CREATE, 0, 2); }
static int d_destroy(lua_State *L) { return op(L, OP_DESTROY, 0, 2); }
static int d_shutdown(lua_State *L) { return op(L, OP_SHUTDOWN, 0, 2); }
static int d_reboot(lua_State *L) { return op(L, OP_REBOOT, 0, 2); }
static int d_reset(lua_State *L) { return op(L, OP_RESET, 0, 2); }
static int d_suspend(lua_State *L) { return op(L, OP_SUSPEND, 0, 0); }
static int d_resume(lua_State *L) { return op(L, OP_RESUME, 0, 0); }
static int d_undefine(lua_State *L) { return op(L, OP_UNDEFINE, 0, 2); }
static int d_is_active(lua_State *L) { return op(L, OP_IS_ACTIVE, 0, 0); }
static int d_is_persistent(lua_State *L) { return op(L, OP_IS_PERSISTENT, 0, 0); }
static int d_is_updated(lua_State *L) { return op(L, OP_IS_UPDATED, 0, 0); }
static int d_get_autostart(lua_State *L) { return op(L, OP_GET_AUTOSTART, 0, 0); }
static int d_set_autostart(lua_State *L) { return op(L, OP_SET_AUTOSTART, 2, 0); }
static int d_set_memory(lua_State *L) { return op(L, OP_SET_MEMORY, 2, 3); }
static int d_set_max_memory(lua_State *L) { return op(L, OP_SET_MAX_MEMORY, 2, 0); }
static int d_set_vcpus(lua_State *L) { return op(L, OP_SET_VCPUS, 2, 3); }
static int d_get_max_memory(lua_State *L) { return op(L, OP_GET_MAX_MEMORY, 0, 0); }
static int d_get_max_vcpus(lua_State *L) { return op(L, OP_GET_MAX_VCPUS, 0, 0); }
static int d_get_vcpus(lua_State *L) { return op(L, OP_GET_VCPUS_FLAGS, 0, 2); }
static int d_get_os_type(lua_State *L) { return op(L, OP_GET_OS_TYPE, 0, 0); }
static int d_get_xml_description(lua_State *L) { return op(L, OP_GET_XML, 0, 2); }
static int d_get_hostname(lua_State *L) { return op(L, OP_GET_HOSTNAME, 0, 2); }
static int d_managed_save(lua_State *L) { return op(L, OP_MANAGED_SAVE, 0, 2); }
static int d_has_managed_save_image(lua_State *L) { return op(L, OP_HAS_MANAGED_SAVE, 0, 2); }
static int d_managed_save_remove(lua_State *L) { return op(L, OP_MANAGED_SAVE_REMOVE, 0, 2); }

/* ------------------------------------------------------------ get_info */

struct a_info {
  lv_job job;
  virDomainPtr dom;
  virDomainInfo info;
};

static int w_info(lv_job *j)
{
  struct a_info *a = (struct a_info *)j;
  return virDomainGetInfo(a->dom, &a->info);
}

static int p_info(lua_State *L, lv_job *j)
{
  struct a_info *a = (struct a_info *)j;
  lua_createtable(L, 0, 5);
  lv_setfield_int(L, "state", a->info.state);
  lv_push_uint64(L, a->info.maxMem);
  lua_setfield(L, -2, "maxMem");
  lv_push_uint64(L, a->info.memory);
  lua_setfield(L, -2, "memory");
  lv_setfield_int(L, "nrVirtCpu", a->info.nrVirtCpu);
  lv_push_uint64(L, a->info.cpuTime);
  lua_setfield(L, -2, "cpuTime");
  return 1;
}

/* dom:get_info() -> { state, maxMem, memory, nrVirtCpu, cpuTime } */
static int d_get_info(lua_State *L)
{
  LV_JOB_DECL(struct a_info, a, w_info, p_info);
  a.dom = lv_job_hold(&a.job, L, 1, &lv_domain_class);
  return lv_job_run(L, &a.job);
}

struct a_state {
  lv_job job;
  virDomainPtr dom;
  unsigned int flags;
  int state, reason;
};

static int w_state(lv_job *j)
{
  struct a_state *a = (struct a_state *)j;
  return virDomainGetState(a->dom, &a->state, &a->reason, a->flags);
}

static int p_state(lua_State *L, lv_job *j)
{
  struct a_state *a = (struct a_state *)j;
  lua_pushinteger(L, a->state);
  lua_pushinteger(L, a->reason);
  return 2;
}

/* local state, reason = dom:get_state() */
static int d_get_state(lua_State *L)
{
  LV_JOB_DECL(struct a_state, a, w_state, p_state);
  a.dom = lv_job_hold(&a.job, L, 1, &lv_domain_class);
  a.flags = lv_optflags(L, 2);
  return lv_job_run(L, &a.job);
}

/* dom:free(): drop this reference now rather than at collection. */
static int d_free(lua_State *L)
{
  lv_obj *o = lv_obj_checkany(L, 1, &lv_domain_class);
  lv_obj_release(o);
  return 0;
}

/* The connection this domain belongs to (Sys::Virt keeps it too). */
static int d_get_connection(lua_State *L)
{
  lv_obj_checkany(L, 1, &lv_domain_class);
  lua_getiuservalue(L, 1, 1);
  return 1;
}

static int d_tostring(lua_State *L)
{
  lv_obj *o = lv_obj_checkany(L, 1, &lv_domain_class);
  if (!o->ptr)
    lua_pushliteral(L, "<Domain (freed)>");
  else {
    unsigned int id = virDomainGetID(o->ptr);
    virResetLastError();
    if (id == (unsigned int)-1)
      lua_pushfstring(L, "<Domain %s>", virDomainGetName(o->ptr));
    else
      lua_pushfstring(L, "<Domain %s id=%d>", virDomainGetName(o->ptr), (int)id);
  }
  return 1;
}

int luaopen_virt_domain(lua_State *L)
{
  static const luaL_Reg methods[] = {
    {"get_name", d_get_name},                          /* virDomainGetName */
    {"get_id", d_get_id},                              /* virDomainGetID */
    {"get_uuid", d_get_uuid},                          /* virDomainGetUUID */
    {"get_uuid_string", d_get_uuid_string},            /* virDomainGetUUIDString */
    {"create", d_create},                              /* virDomainCreateWithFlags virDomainCreate */
    {"destroy", d_destroy},                            /* virDomainDestroyFlags virDomainDestroy */
    {"shutdown", d_shutdown},                          /* virDomainShutdownFlags virDomainShutdown */
    {"reboot", d_reboot},                              /* virDomainReboot */
    {"reset", d_reset},                                /* virDomainReset */
    {"suspend", d_suspend},                            /* virDomainSuspend */
    {"resume", d_resume},                              /* virDomainResume */
    {"undefine", d_undefine},                          /* virDomainUndefineFlags virDomainUndefine */
    {"is_active", d_is_active},                        /* virDomainIsActive */
    {"is_persistent", d_is_persistent},                /* virDomainIsPersistent */
    {"is_updated", d_is_updated},                      /* virDomainIsUpdated */
    {"get_autostart", d_get_autostart},                /* virDomainGetAutostart */
    {"set_autostart", d_set_autostart},                /* virDomainSetAutostart */
    {"set_memory", d_set_memory},                      /* virDomainSetMemoryFlags virDomainSetMemory */
    {"set_max_memory", d_set_max_memory},              /* virDomainSetMaxMemory */
    {"set_vcpus", d_set_vcpus},                        /* virDomainSetVcpusFlags virDomainSetVcpus */
    {"get_max_memory", d_get_max_memory},              /* virDomainGetMaxMemory */
    {"get_max_vcpus", d_get_max_vcpus},                /* virDomainGetMaxVcpus */
    {"get_vcpus", d_get_vcpus},                        /* virDomainGetVcpusFlags */
    {"get_os_type", d_get_os_type},                    /* virDomainGetOSType */
    {"get_xml_description", d_get_xml_description},    /* virDomainGetXMLDesc */
    {"get_hostname", d_get_hostname},                  /* virDomainGetHostname */
    {"managed_save", d_managed_save},                  /* virDomainManagedSave */
    {"has_managed_save_image", d_has_managed_save_image}, /* virDomainHasManagedSaveImage */
    {"managed_save_remove", d_managed_save_remove},    /* virDomainManagedSaveRemove */
    {"get_info", d_get_info},                          /* virDomainGetInfo */
    {"get_state", d_get_state},                        /* virDomainGetState */
    {"free", d_free},                                  /* virDomainFree */
    {"get_connection", d_get_connection},              /* virDomainGetConnect */
    {NULL, NULL}};
  lv_class_new(L, &lv_domain_class, methods);
  lua_setfield(L, -2, "Domain");
  luaL_getmetatable(L, lv_domain_class.tname);
  lua_pushcfunction(L, d_tostring);
  lua_setfield(L, -2, "__tostring");
  lua_pop(L, 1);
  return 0;
}
