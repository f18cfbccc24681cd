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
  "virt.Domain", 0, "Domain", dom_ref, dom_free, dom_name, dom_same, NULL, 1};

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

/* A string nobody took (the state closed while the call ran) is freed. */
static void f_op(lv_job *j)
{
  struct a_op *a = (struct a_op *)j;
  free(a->s);
  a->s = NULL;
}

/* argi: stack index of the numeric argument or 0; flagi: of the flags or 0 */
static int op(lua_State *L, int which, int argi, int flagi)
{
  LV_JOB_DECL(struct a_op, a, w_op, p_op);
  /* only a string result needs freeing; without a fini an inline call's
   * results are pushed without a protected call (~50 ns less a call) */
  if (which < (int)sizeof ret_of && ret_of[which] == RET_STR)
    a.job.fini = f_op;
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

/* ==================================================================
 * Hand-written overrides from the generator work (issue 4): the Domain
 * calls whose shapes host/gen cannot bind (structs with pointers, arrays
 * sized by other arguments, CPU bitmaps), with Sys::Virt's results.
 * ================================================================== */

/* Size of a CPU bitmap for this host, as Sys::Virt computes it. */
static int host_maplen(virDomainPtr dom)
{
  virNodeInfo ni;
  if (virNodeGetInfo(virDomainGetConnect(dom), &ni) < 0)
    return -1;
  return VIR_CPU_MAPLEN(VIR_NODEINFO_MAXCPUS(ni));
}

/* ------------------------------------------------- get_block_job_info */

struct a_bjob {
  lv_job job;
  virDomainPtr dom;
  const char *disk;
  unsigned int flags;
  int found;
  virDomainBlockJobInfo info;
};

static int w_bjob(lv_job *j)
{
  struct a_bjob *a = (struct a_bjob *)j;
  a->found = virDomainGetBlockJobInfo(a->dom, a->disk, &a->info, a->flags);
  return a->found < 0 ? -1 : 0;
}

static int p_bjob(lua_State *L, lv_job *j)
{
  struct a_bjob *a = (struct a_bjob *)j;
  if (!a->found) {
    lua_pushnil(L);
    return 1;
  }
  lua_createtable(L, 0, 4);
  lv_setfield_int(L, "type", a->info.type);
  lv_push_uint64(L, a->info.bandwidth);
  lua_setfield(L, -2, "bandwidth");
  lv_push_uint64(L, a->info.cur);
  lua_setfield(L, -2, "cur");
  lv_push_uint64(L, a->info.end);
  lua_setfield(L, -2, "end");
  return 1;
}

/* dom:get_block_job_info(disk, flags=0) -> { type, bandwidth, cur, end },
 * or nil when the disk has no job. */
static int d_get_block_job_info(lua_State *L)
{
  LV_JOB_DECL(struct a_bjob, a, w_bjob, p_bjob);
  a.dom = lv_job_hold(&a.job, L, 1, &lv_domain_class);
  a.disk = luaL_checkstring(L, 2);
  a.flags = lv_optflags(L, 3);
  return lv_job_run(L, &a.job);
}

/* ----------------------------------------------------- get_disk_errors */

struct a_diskerr {
  lv_job job;
  virDomainPtr dom;
  unsigned int flags;
  virDomainDiskErrorPtr errs;
  int n;
};

static int w_diskerr(lv_job *j)
{
  struct a_diskerr *a = (struct a_diskerr *)j;
  int n = virDomainGetDiskErrors(a->dom, NULL, 0, a->flags);
  if (n <= 0)
    return n;
  a->errs = calloc((size_t)n, sizeof *a->errs);
  if (!a->errs)
    return -1;
  a->n = virDomainGetDiskErrors(a->dom, a->errs, (unsigned int)n, a->flags);
  return a->n < 0 ? -1 : 0;
}

static int p_diskerr(lua_State *L, lv_job *j)
{
  struct a_diskerr *a = (struct a_diskerr *)j;
  int i;
  lua_createtable(L, a->n > 0 ? a->n : 0, 0);
  for (i = 0; i < a->n; i++) {
    lua_createtable(L, 0, 2);
    lv_setfield_str(L, "path", a->errs[i].disk);
    lv_setfield_int(L, "error", a->errs[i].error);
    lua_rawseti(L, -2, i + 1);
  }
  return 1;
}

static void f_diskerr(lv_job *j)
{
  struct a_diskerr *a = (struct a_diskerr *)j;
  int i;
  for (i = 0; a->errs && i < a->n; i++)
    free(a->errs[i].disk);
  free(a->errs);
  a->errs = NULL;
}

/* dom:get_disk_errors(flags=0) -> { {path=, error=}, ... } */
static int d_get_disk_errors(lua_State *L)
{
  LV_JOB_DECL(struct a_diskerr, a, w_diskerr, p_diskerr);
  a.job.fini = f_diskerr;
  a.dom = lv_job_hold(&a.job, L, 1, &lv_domain_class);
  a.flags = lv_optflags(L, 2);
  return lv_job_run(L, &a.job);
}

/* -------------------------------------------------------- memory_stats */

static const char *const memstat_names[VIR_DOMAIN_MEMORY_STAT_NR] = {
  [VIR_DOMAIN_MEMORY_STAT_SWAP_IN] = "swap_in",
  [VIR_DOMAIN_MEMORY_STAT_SWAP_OUT] = "swap_out",
  [VIR_DOMAIN_MEMORY_STAT_MAJOR_FAULT] = "major_fault",
  [VIR_DOMAIN_MEMORY_STAT_MINOR_FAULT] = "minor_fault",
  [VIR_DOMAIN_MEMORY_STAT_UNUSED] = "unused",
  [VIR_DOMAIN_MEMORY_STAT_AVAILABLE] = "available",
  [VIR_DOMAIN_MEMORY_STAT_ACTUAL_BALLOON] = "actual_balloon",
  [VIR_DOMAIN_MEMORY_STAT_RSS] = "rss",
  [VIR_DOMAIN_MEMORY_STAT_USABLE] = "usable",
  [VIR_DOMAIN_MEMORY_STAT_LAST_UPDATE] = "last_update",
  [VIR_DOMAIN_MEMORY_STAT_DISK_CACHES] = "disk_caches",
  [VIR_DOMAIN_MEMORY_STAT_HUGETLB_PGALLOC] = "hugetlb_pgalloc",
  [VIR_DOMAIN_MEMORY_STAT_HUGETLB_PGFAIL] = "hugetlb_pgfail",
};

struct a_memstats {
  lv_job job;
  virDomainPtr dom;
  unsigned int flags;
  virDomainMemoryStatStruct stats[VIR_DOMAIN_MEMORY_STAT_NR];
  int n;
};

static int w_memstats(lv_job *j)
{
  struct a_memstats *a = (struct a_memstats *)j;
  a->n = virDomainMemoryStats(a->dom, a->stats, VIR_DOMAIN_MEMORY_STAT_NR, a->flags);
  return a->n < 0 ? -1 : 0;
}

/* Tags this libvirt does not name keep their number as the key. */
static int p_memstats(lua_State *L, lv_job *j)
{
  struct a_memstats *a = (struct a_memstats *)j;
  int i;
  lua_createtable(L, 0, a->n);
  for (i = 0; i < a->n; i++) {
    int tag = a->stats[i].tag;
    lv_push_uint64(L, a->stats[i].val);
    if (tag >= 0 && tag < VIR_DOMAIN_MEMORY_STAT_NR && memstat_names[tag])
      lua_setfield(L, -2, memstat_names[tag]);
    else
      lua_rawseti(L, -2, tag);
  }
  return 1;
}

/* dom:memory_stats(flags=0) -> { swap_in=, unused=, available=, rss=, ... } */
static int d_memory_stats(lua_State *L)
{
  LV_JOB_DECL(struct a_memstats, a, w_memstats, p_memstats);
  a.dom = lv_job_hold(&a.job, L, 1, &lv_domain_class);
  a.flags = lv_optflags(L, 2);
  return lv_job_run(L, &a.job);
}

/* --------------------------------------------- get_security_label_list */

struct a_labels {
  lv_job job;
  virDomainPtr dom;
  virSecurityLabelPtr labels;
  int n;
};

static int w_labels(lv_job *j)
{
  struct a_labels *a = (struct a_labels *)j;
  a->n = virDomainGetSecurityLabelList(a->dom, &a->labels);
  return a->n < 0 ? -1 : 0;
}

static int p_labels(lua_State *L, lv_job *j)
{
  struct a_labels *a = (struct a_labels *)j;
  int i;
  lua_createtable(L, a->n, 0);
  for (i = 0; i < a->n; i++) {
    lua_createtable(L, 0, 2);
    lv_setfield_str(L, "label", a->labels[i].label);
    lv_setfield_int(L, "enforcing", a->labels[i].enforcing);
    lua_rawseti(L, -2, i + 1);
  }
  return 1;
}

static void f_labels(lv_job *j)
{
  free(((struct a_labels *)j)->labels);
}

/* dom:get_security_label_list() -> { {label=, enforcing=}, ... } */
static int d_get_security_label_list(lua_State *L)
{
  LV_JOB_DECL(struct a_labels, a, w_labels, p_labels);
  a.job.fini = f_labels;
  a.dom = lv_job_hold(&a.job, L, 1, &lv_domain_class);
  return lv_job_run(L, &a.job);
}

/* ------------------------------------------------------------ get_fs_info */

struct a_fsinfo {
  lv_job job;
  virDomainPtr dom;
  unsigned int flags;
  virDomainFSInfoPtr *info;
  int n;
};

static int w_fsinfo(lv_job *j)
{
  struct a_fsinfo *a = (struct a_fsinfo *)j;
  a->n = virDomainGetFSInfo(a->dom, &a->info, a->flags);
  return a->n < 0 ? -1 : 0;
}

static int p_fsinfo(lua_State *L, lv_job *j)
{
  struct a_fsinfo *a = (struct a_fsinfo *)j;
  int i;
  size_t k;
  lua_createtable(L, a->n, 0);
  for (i = 0; i < a->n; i++) {
    virDomainFSInfoPtr f = a->info[i];
    lua_createtable(L, 0, 4);
    lv_setfield_str(L, "mountpoint", f->mountpoint);
    lv_setfield_str(L, "name", f->name);
    lv_setfield_str(L, "fstype", f->fstype);
    lua_createtable(L, (int)f->ndevAlias, 0);
    for (k = 0; k < f->ndevAlias; k++) {
      lua_pushstring(L, f->devAlias[k]);
      lua_rawseti(L, -2, (lua_Integer)k + 1);
    }
    lua_setfield(L, -2, "devalias");
    lua_rawseti(L, -2, i + 1);
  }
  return 1;
}

static void f_fsinfo(lv_job *j)
{
  struct a_fsinfo *a = (struct a_fsinfo *)j;
  int i;
  for (i = 0; a->info && i < a->n; i++)
    virDomainFSInfoFree(a->info[i]);
  free(a->info);
  a->info = NULL;
}

/* dom:get_fs_info(flags=0) -> { {name=, fstype=, mountpoint=, devalias={...}}, ... } */
static int d_get_fs_info(lua_State *L)
{
  LV_JOB_DECL(struct a_fsinfo, a, w_fsinfo, p_fsinfo);
  a.job.fini = f_fsinfo;
  a.dom = lv_job_hold(&a.job, L, 1, &lv_domain_class);
  a.flags = lv_optflags(L, 2);
  return lv_job_run(L, &a.job);
}

/* -------------------------------------------------- get_interface_addresses */

struct a_ifaddr {
  lv_job job;
  virDomainPtr dom;
  unsigned int src, flags;
  virDomainInterfacePtr *ifaces;
  int n;
};

static int w_ifaddr(lv_job *j)
{
  struct a_ifaddr *a = (struct a_ifaddr *)j;
  a->n = virDomainInterfaceAddresses(a->dom, &a->ifaces, a->src, a->flags);
  return a->n < 0 ? -1 : 0;
}

static int p_ifaddr(lua_State *L, lv_job *j)
{
  struct a_ifaddr *a = (struct a_ifaddr *)j;
  int i;
  size_t k;
  lua_createtable(L, a->n, 0);
  for (i = 0; i < a->n; i++) {
    virDomainInterfacePtr f = a->ifaces[i];
    lua_createtable(L, 0, 3);
    lv_setfield_str(L, "name", f->name);
    lv_setfield_str(L, "hwaddr", f->hwaddr);
    lua_createtable(L, (int)f->naddrs, 0);
    for (k = 0; k < f->naddrs; k++) {
      lua_createtable(L, 0, 3);
      lv_setfield_str(L, "addr", f->addrs[k].addr);
      lv_setfield_int(L, "prefix", f->addrs[k].prefix);
      lv_setfield_int(L, "type", f->addrs[k].type);
      lua_rawseti(L, -2, (lua_Integer)k + 1);
    }
    lua_setfield(L, -2, "addrs");
    lua_rawseti(L, -2, i + 1);
  }
  return 1;
}

static void f_ifaddr(lv_job *j)
{
  struct a_ifaddr *a = (struct a_ifaddr *)j;
  int i;
  for (i = 0; a->ifaces && i < a->n; i++)
    virDomainInterfaceFree(a->ifaces[i]);
  free(a->ifaces);
  a->ifaces = NULL;
}

/* dom:get_interface_addresses(src, flags=0)
 *   -> { {name=, hwaddr=, addrs={ {addr=, prefix=, type=}, ... }}, ... } */
static int d_get_interface_addresses(lua_State *L)
{
  lua_Integer src;
  LV_JOB_DECL(struct a_ifaddr, a, w_ifaddr, p_ifaddr);
  a.job.fini = f_ifaddr;
  a.dom = lv_job_hold(&a.job, L, 1, &lv_domain_class);
  src = luaL_checkinteger(L, 2);
  luaL_argcheck(L, src >= 0 && src <= 0xffff, 2, "unknown address source");
  a.src = (unsigned int)src;
  a.flags = lv_optflags(L, 3);
  return lv_job_run(L, &a.job);
}

/* ------------------------------------------------------ get_iothread_info */

struct a_iothreads {
  lv_job job;
  virDomainPtr dom;
  unsigned int flags;
  virDomainIOThreadInfoPtr *info;
  int n;
};

static int w_iothreads(lv_job *j)
{
  struct a_iothreads *a = (struct a_iothreads *)j;
  a->n = virDomainGetIOThreadInfo(a->dom, &a->info, a->flags);
  return a->n < 0 ? -1 : 0;
}

static int p_iothreads(lua_State *L, lv_job *j)
{
  struct a_iothreads *a = (struct a_iothreads *)j;
  int i;
  lua_createtable(L, a->n, 0);
  for (i = 0; i < a->n; i++) {
    lua_createtable(L, 0, 2);
    lv_setfield_int(L, "number", a->info[i]->iothread_id);
    lua_pushlstring(L, (const char *)a->info[i]->cpumap, (size_t)a->info[i]->cpumaplen);
    lua_setfield(L, -2, "affinity");
    lua_rawseti(L, -2, i + 1);
  }
  return 1;
}

static void f_iothreads(lv_job *j)
{
  struct a_iothreads *a = (struct a_iothreads *)j;
  int i;
  for (i = 0; a->info && i < a->n; i++)
    virDomainIOThreadInfoFree(a->info[i]);
  free(a->info);
  a->info = NULL;
}

/* dom:get_iothread_info(flags=0) -> { {number=, affinity=<bitmap bytes>}, ... } */
static int d_get_iothread_info(lua_State *L)
{
  LV_JOB_DECL(struct a_iothreads, a, w_iothreads, p_iothreads);
  a.job.fini = f_iothreads;
  a.dom = lv_job_hold(&a.job, L, 1, &lv_domain_class);
  a.flags = lv_optflags(L, 2);
  return lv_job_run(L, &a.job);
}

/* ---------------------------------------------------------- get_vcpu_info */

struct a_vcpus {
  lv_job job;
  virDomainPtr dom;
  unsigned int flags;
  int n, maplen, live;
  virVcpuInfoPtr info;
  unsigned char *maps;
};

/* Sys::Virt: with flags 0 on a running domain, the live placement
 * (virDomainGetVcpus); otherwise only the pinning (virDomainGetVcpuPinInfo),
 * with cpu, cpuTime and state 0. */
static int w_vcpus(lv_job *j)
{
  struct a_vcpus *a = (struct a_vcpus *)j;
  virDomainInfo di;
  if ((a->maplen = host_maplen(a->dom)) < 0 || virDomainGetInfo(a->dom, &di) < 0)
    return -1;
  a->n = di.nrVirtCpu;
  a->info = calloc((size_t)a->n + 1, sizeof *a->info);
  a->maps = calloc((size_t)(a->n + 1) * (size_t)a->maplen, 1);
  if (!a->info || !a->maps)
    return -1;
  if (a->flags == 0 && virDomainIsActive(a->dom) == 1) {
    a->live = 1;
    a->n = virDomainGetVcpus(a->dom, a->info, a->n, a->maps, a->maplen);
  } else
    a->n = virDomainGetVcpuPinInfo(a->dom, a->n, a->maps, a->maplen, a->flags);
  return a->n < 0 ? -1 : 0;
}

static int p_vcpus(lua_State *L, lv_job *j)
{
  struct a_vcpus *a = (struct a_vcpus *)j;
  int i;
  lua_createtable(L, a->n, 0);
  for (i = 0; i < a->n; i++) {
    lua_createtable(L, 0, 5);
    lv_setfield_int(L, "number", a->live ? (lua_Integer)a->info[i].number : i);
    lv_setfield_int(L, "state", a->live ? a->info[i].state : 0);
    lv_push_uint64(L, a->live ? a->info[i].cpuTime : 0);
    lua_setfield(L, -2, "cpuTime");
    lv_setfield_int(L, "cpu", a->live ? a->info[i].cpu : 0);
    lua_pushlstring(L, (const char *)a->maps + (size_t)i * (size_t)a->maplen, (size_t)a->maplen);
    lua_setfield(L, -2, "affinity");
    lua_rawseti(L, -2, i + 1);
  }
  return 1;
}

static void f_vcpus(lv_job *j)
{
  struct a_vcpus *a = (struct a_vcpus *)j;
  free(a->info);
  free(a->maps);
  a->info = NULL;
  a->maps = NULL;
}

/* dom:get_vcpu_info(flags=0) -> { {number=, state=, cpuTime=, cpu=, affinity=}, ... } */
static int d_get_vcpu_info(lua_State *L)
{
  LV_JOB_DECL(struct a_vcpus, a, w_vcpus, p_vcpus);
  a.job.fini = f_vcpus;
  a.dom = lv_job_hold(&a.job, L, 1, &lv_domain_class);
  a.flags = lv_optflags(L, 2);
  return lv_job_run(L, &a.job);
}

/* ------------------------------------------------------ emulator pinning */

struct a_emu {
  lv_job job;
  virDomainPtr dom;
  unsigned int flags;
  int maplen;
  unsigned char *map;
};

static int w_emu(lv_job *j)
{
  struct a_emu *a = (struct a_emu *)j;
  if ((a->maplen = host_maplen(a->dom)) < 0 || !(a->map = calloc((size_t)a->maplen, 1)))
    return -1;
  return virDomainGetEmulatorPinInfo(a->dom, a->map, a->maplen, a->flags) < 0 ? -1 : 0;
}

static int p_emu(lua_State *L, lv_job *j)
{
  struct a_emu *a = (struct a_emu *)j;
  lua_pushlstring(L, (const char *)a->map, (size_t)a->maplen);
  return 1;
}

static void f_emu(lv_job *j)
{
  free(((struct a_emu *)j)->map);
}

/* dom:get_emulator_pin_info(flags=0) -> bitmap bytes, 8 CPUs a byte */
static int d_get_emulator_pin_info(lua_State *L)
{
  LV_JOB_DECL(struct a_emu, a, w_emu, p_emu);
  a.job.fini = f_emu;
  a.dom = lv_job_hold(&a.job, L, 1, &lv_domain_class);
  a.flags = lv_optflags(L, 2);
  return lv_job_run(L, &a.job);
}

/* -------------------------------------------------------------- pinning */

enum { PIN_VCPU, PIN_VCPU_FLAGS, PIN_EMULATOR, PIN_IOTHREAD };

struct a_pin {
  lv_job job;
  virDomainPtr dom;
  int what;
  unsigned int index, flags;
  const char *map;
  size_t maplen;
};

static int w_pin(lv_job *j)
{
  struct a_pin *a = (struct a_pin *)j;
  unsigned char *m = (unsigned char *)a->map;
  int len = (int)a->maplen;
  switch (a->what) {
  case PIN_VCPU: return virDomainPinVcpu(a->dom, a->index, m, len);
  case PIN_VCPU_FLAGS: return virDomainPinVcpuFlags(a->dom, a->index, m, len, a->flags);
  case PIN_EMULATOR: return virDomainPinEmulator(a->dom, m, len, a->flags);
  default: return virDomainPinIOThread(a->dom, a->index, m, len, a->flags);
  }
}

/* The bitmap is a Lua string (8 CPUs a byte), as in Sys::Virt. */
static int pin(lua_State *L, int what)
{
  int i = 2;
  LV_JOB_DECL(struct a_pin, a, w_pin, NULL);
  a.dom = lv_job_hold(&a.job, L, 1, &lv_domain_class);
  a.what = what;
  if (what != PIN_EMULATOR) {
    lua_Integer n = luaL_checkinteger(L, i++);
    luaL_argcheck(L, n >= 0 && n <= 0x7fffffff, 2, "index out of range");
    a.index = (unsigned int)n;
  }
  a.map = luaL_checklstring(L, i, &a.maplen);
  luaL_argcheck(L, a.maplen > 0 && a.maplen <= 0x7fffffff, i, "empty CPU bitmap");
  if (what == PIN_VCPU && !lua_isnoneornil(L, i + 1))
    a.what = PIN_VCPU_FLAGS;
  a.flags = lv_optflags(L, i + 1);
  return lv_job_run(L, &a.job);
}

/* dom:pin_vcpu(vcpu, mask, flags=nil): virDomainPinVcpu without flags */
static int d_pin_vcpu(lua_State *L) { return pin(L, PIN_VCPU); }
/* dom:pin_emulator(mask, flags=0) */
static int d_pin_emulator(lua_State *L) { return pin(L, PIN_EMULATOR); }
/* dom:pin_iothread(iothread, mask, flags=0) */
static int d_pin_iothread(lua_State *L) { return pin(L, PIN_IOTHREAD); }

static const luaL_Reg gen_overrides[] = {
  {"get_block_job_info", d_get_block_job_info},           /* virDomainGetBlockJobInfo */
  {"get_disk_errors", d_get_disk_errors},                 /* virDomainGetDiskErrors */
  {"memory_stats", d_memory_stats},                       /* virDomainMemoryStats */
  {"get_security_label_list", d_get_security_label_list}, /* virDomainGetSecurityLabelList */
  {"get_fs_info", d_get_fs_info},                         /* virDomainGetFSInfo */
  {"get_interface_addresses", d_get_interface_addresses}, /* virDomainInterfaceAddresses */
  {"get_iothread_info", d_get_iothread_info},             /* virDomainGetIOThreadInfo */
  {"get_vcpu_info", d_get_vcpu_info},                     /* virDomainGetVcpus virDomainGetVcpuPinInfo */
  {"get_emulator_pin_info", d_get_emulator_pin_info},     /* virDomainGetEmulatorPinInfo */
  {"pin_vcpu", d_pin_vcpu},                               /* virDomainPinVcpu virDomainPinVcpuFlags */
  {"pin_emulator", d_pin_emulator},                       /* virDomainPinEmulator */
  {"pin_iothread", d_pin_iothread},                       /* virDomainPinIOThread */
  {NULL, NULL}};
/* ============================ end of the overrides from the generator work */

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
  lv_class_add(L, &lv_domain_class, gen_overrides);   /* generator work (issue 4) */
  luaL_getmetatable(L, lv_domain_class.tname);
  lua_pushcfunction(L, d_tostring);
  lua_setfield(L, -2, "__tostring");
  lua_pop(L, 1);
  return 0;
}
