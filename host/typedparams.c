/*
 * typedparams.c: libvirt typed parameters <-> Lua tables keyed by name.
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#include "lv.h"

/* Push params as { name = value, ... }; unsigned and 64-bit values never
 * come out negative; a string list (repeated name) becomes an array. */
void lv_tp_push(lua_State *L, virTypedParameterPtr params, int n)
{
  int i;
  lua_createtable(L, 0, n > 0 ? n : 0);
  for (i = 0; i < n; i++) {
    virTypedParameterPtr p = &params[i];
    switch (p->type) {
    case VIR_TYPED_PARAM_INT:
      lua_pushinteger(L, p->value.i);
      break;
    case VIR_TYPED_PARAM_UINT:
      lua_pushinteger(L, p->value.ui);
      break;
    case VIR_TYPED_PARAM_LLONG:
      lua_pushinteger(L, p->value.l);
      break;
    case VIR_TYPED_PARAM_ULLONG:
      lv_push_uint64(L, p->value.ul);
      break;
    case VIR_TYPED_PARAM_DOUBLE:
      lua_pushnumber(L, p->value.d);
      break;
    case VIR_TYPED_PARAM_BOOLEAN:
      lua_pushboolean(L, p->value.b);
      break;
    case VIR_TYPED_PARAM_STRING:
      lua_getfield(L, -1, p->field);
      if (lua_isstring(L, -1)) {            /* second of a repeated name */
        lua_createtable(L, 2, 0);
        lua_insert(L, -2);
        lua_rawseti(L, -2, 1);
        lua_pushstring(L, p->value.s ? p->value.s : "");
        lua_rawseti(L, -2, 2);
      } else if (lua_istable(L, -1)) {
        lua_pushstring(L, p->value.s ? p->value.s : "");
        lua_rawseti(L, -2, luaL_len(L, -2) + 1);
      } else {
        lua_pop(L, 1);
        lua_pushstring(L, p->value.s ? p->value.s : "");
      }
      break;
    default:
      continue;
    }
    lua_setfield(L, -2, p->field);
  }
}

/* ======================================================================
 * Lua tables -> typed parameters, and the methods built on them.
 *
 * A table is read on the loop thread into an lv_tpin (names and values,
 * anchored on the binding's stack so they survive a yield); the worker
 * gives each name its C type -- from the getter's answer when the call has
 * a getter (as Sys::Virt does), else from lv_tp_defs, the table gen.lua
 * builds from libvirt's documentation -- and a name that has no type is an
 * error, never dropped.
 * ==================================================================== */

#include <float.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>

enum { TPV_INT, TPV_NUM, TPV_BOOL, TPV_STR, TPV_LIST };

/* An error of our own for a job: recorded in the job, which work() then
 * returns with LV_WORK_FAILED (0, so that the runner does not replace it
 * with libvirt's last error). */
#define WORK_FAIL(j) ((j)->failed ? 0 : -1)

static int tp_fail(lv_job *job, int code, const char *fmt, const char *a, const char *b)
{
  char msg[1024];
  snprintf(msg, sizeof msg, fmt, a ? a : "", b ? b : "");
  lv_error_clear(&job->err);
  job->err.code = code;
  job->err.domain = VIR_FROM_NONE;
  job->err.level = VIR_ERR_ERROR;
  job->err.message = strdup(msg);
  job->failed = 1;
  return -1;
}

/* Keep a value alive while the call runs: the caller may change its table
 * during a yield. */
static void anchor(lua_State *L, int anchors, int vidx, int *k)
{
  lua_pushvalue(L, vidx);
  lua_rawseti(L, anchors, ++*k);
}

void lv_tpin_check(lua_State *L, int idx, lv_tpin *in)
{
  int n = 0, i = 0, k = 0, anchors;
  idx = lua_absindex(L, idx);
  luaL_checktype(L, idx, LUA_TTABLE);
  lua_pushnil(L);
  while (lua_next(L, idx)) {
    n++;
    lua_pop(L, 1);
  }
  in->n = n;
  in->items = lua_newuserdatauv(L, (size_t)(n ? n : 1) * sizeof *in->items, 1);
  memset(in->items, 0, (size_t)(n ? n : 1) * sizeof *in->items);
  lua_newtable(L);
  lua_pushvalue(L, -1);
  lua_setiuservalue(L, -3, 1);
  anchors = lua_gettop(L);
  lua_pushnil(L);
  while (i < n && lua_next(L, idx)) {
    lv_tpin_item *it = &in->items[i++];
    if (lua_type(L, -2) != LUA_TSTRING)
      luaL_argerror(L, idx, "parameter names must be strings");
    it->name = lua_tostring(L, -2);
    anchor(L, anchors, -2, &k);
    switch (lua_type(L, -1)) {
    case LUA_TNUMBER:
      if (lua_isinteger(L, -1)) {
        it->kind = TPV_INT;
        it->i = lua_tointeger(L, -1);
      } else {
        it->kind = TPV_NUM;
        it->d = lua_tonumber(L, -1);
      }
      break;
    case LUA_TBOOLEAN:
      it->kind = TPV_BOOL;
      it->i = lua_toboolean(L, -1);
      break;
    case LUA_TSTRING:
      it->kind = TPV_STR;
      it->s = lua_tostring(L, -1);
      anchor(L, anchors, -1, &k);
      break;
    case LUA_TTABLE: {
      lua_Integer j, len = (lua_Integer)lua_rawlen(L, -1);
      luaL_argcheck(L, len < 65536, idx, "list too long");
      it->kind = TPV_LIST;
      it->nstrs = (int)len;
      it->strs = lua_newuserdatauv(L, (size_t)(len ? len : 1) * sizeof *it->strs, 0);
      anchor(L, anchors, -1, &k);
      lua_pop(L, 1);
      for (j = 1; j <= len; j++) {
        if (lua_rawgeti(L, -1, j) != LUA_TSTRING)
          luaL_argerror(L, idx, lua_pushfstring(L, "parameter '%s': item %I is not a string",
                                                it->name, j));
        it->strs[j - 1] = lua_tostring(L, -1);
        anchor(L, anchors, -1, &k);
        lua_pop(L, 1);
      }
      break;
    }
    default:
      luaL_argerror(L, idx, lua_pushfstring(L, "parameter '%s' has a %s value", it->name,
                                            luaL_typename(L, -1)));
    }
    lua_pop(L, 1);
  }
  lua_pop(L, 1);                    /* the anchors; the userdata keeps them */
}

static const char *kind_name(int kind)
{
  static const char *const n[] = {"an integer", "a number", "a boolean", "a string", "a list"};
  return n[kind];
}

static int add_one(lv_job *job, virTypedParameterPtr *p, int *n, int *max, const lv_tpin_item *it, int type,
                   int multi)
{
  const char *name = it->name;
  int r, i;
  switch (type) {
  case VIR_TYPED_PARAM_INT:
    if (it->kind != TPV_INT || it->i < INT_MIN || it->i > INT_MAX)
      break;
    return virTypedParamsAddInt(p, n, max, name, (int)it->i);
  case VIR_TYPED_PARAM_UINT:
    if (it->kind != TPV_INT || it->i < 0 || it->i > (lua_Integer)UINT_MAX)
      break;
    return virTypedParamsAddUInt(p, n, max, name, (unsigned int)it->i);
  case VIR_TYPED_PARAM_LLONG:
    if (it->kind == TPV_INT)
      return virTypedParamsAddLLong(p, n, max, name, it->i);
    break;
  case VIR_TYPED_PARAM_ULLONG:
    if (it->kind == TPV_INT && it->i >= 0)
      return virTypedParamsAddULLong(p, n, max, name, (unsigned long long)it->i);
    /* above 2^63 Lua has only floats (what lv_push_uint64 hands out) */
    if (it->kind == TPV_NUM && it->d >= 0 && it->d < 18446744073709551616.0 &&
        it->d == (double)(unsigned long long)it->d)
      return virTypedParamsAddULLong(p, n, max, name, (unsigned long long)it->d);
    break;
  case VIR_TYPED_PARAM_DOUBLE:
    if (it->kind == TPV_INT)
      return virTypedParamsAddDouble(p, n, max, name, (double)it->i);
    if (it->kind == TPV_NUM)
      return virTypedParamsAddDouble(p, n, max, name, it->d);
    break;
  case VIR_TYPED_PARAM_BOOLEAN:
    if (it->kind == TPV_BOOL || (it->kind == TPV_INT && (it->i == 0 || it->i == 1)))
      return virTypedParamsAddBoolean(p, n, max, name, (int)it->i);
    break;
  case VIR_TYPED_PARAM_STRING:
    if (it->kind == TPV_STR)
      return virTypedParamsAddString(p, n, max, name, it->s);
    if (it->kind == TPV_LIST && multi) {
      for (i = 0, r = 0; i < it->nstrs && r == 0; i++)
        r = virTypedParamsAddString(p, n, max, name, it->strs[i]);
      return r;
    }
    break;
  }
  {
    static const char *const tn[] = {"?", "an int", "an unsigned int", "a long long",
                                     "an unsigned long long", "a double", "a boolean",
                                     "a string"};
    static const char *const range[] = {"", " (-2147483648..2147483647)", " (0..4294967295)", "",
                                        " (0..2^64-1)", "", "", ""};
    char what[160];
    int t = type >= 1 && type <= 7 ? type : 0;
    if (it->kind == TPV_INT && t && t != VIR_TYPED_PARAM_STRING && t != VIR_TYPED_PARAM_BOOLEAN)
      snprintf(what, sizeof what, "%s%s, not %lld", tn[t], range[t], (long long)it->i);
    else
      snprintf(what, sizeof what, "%s, not %s", tn[t], kind_name(it->kind));
    return tp_fail(job, VIR_ERR_INVALID_ARG, "parameter '%s' must be %s", name, what);
  }
}

/* The names a call accepts, one per call, with their types: the getter's
 * answer (known, nknown) when prefix is NULL, else the lv_tp_defs whose
 * macro starts with prefix.  *pos starts at 0; 0 at the end. */
typedef struct tp_name {
  const char *name;
  int type, multi;
} tp_name;

static int next_name(virTypedParameterPtr known, int nknown, const char *prefix, int *pos,
                     tp_name *out)
{
  if (!prefix) {
    if (*pos >= nknown)
      return 0;
    out->name = known[*pos].field;
    out->type = known[*pos].type;
    out->multi = 1;                 /* a getter answers a list as a repeated name */
    ++*pos;
    return 1;
  }
  while (lv_tp_defs[*pos].cname) {
    const lv_tp_def *d = &lv_tp_defs[(*pos)++];
    if (strncmp(d->cname, prefix, strlen(prefix)) == 0) {
      out->name = d->name;
      out->type = d->type;
      out->multi = d->multi;
      return 1;
    }
  }
  return 0;
}

/* "a, b, c" of the names a call accepts, for the error on an unknown one. */
static void accepted(char *buf, size_t size, virTypedParameterPtr known, int nknown,
                     const char *prefix)
{
  size_t used = 0;
  int pos = 0, count = 0;
  tp_name t;
  buf[0] = '\0';
  while (used + 4 < size && next_name(known, nknown, prefix, &pos, &t))
    used += (size_t)snprintf(buf + used, size - used, "%s%s", count++ ? ", " : "", t.name);
  if (used >= size)
    buf[size - 1] = '\0';
}

int lv_tpin_build(lv_job *job, const lv_tpin *in, virTypedParameterPtr known, int nknown,
                  const char *prefix, virTypedParameterPtr *out, int *nout)
{
  int i, max = 0;
  *out = NULL;
  *nout = 0;
  for (i = 0; i < in->n; i++) {
    const lv_tpin_item *it = &in->items[i];
    int pos = 0, found = 0;
    tp_name t;
    while (!found && next_name(known, nknown, prefix, &pos, &t))
      found = strcmp(t.name, it->name) == 0;
    if (!found || !t.type) {
      char list[700];
      accepted(list, sizeof list, known, nknown, prefix);
      return tp_fail(job, VIR_ERR_INVALID_ARG, "unknown parameter '%s' (accepted here: %s)",
                     it->name, list[0] ? list : "none");
    }
    if (add_one(job, out, nout, &max, it, t.type, t.multi) < 0)
      return -1;
  }
  return 0;
}

/* ------------------------------------------------ jobs with parameters
 *
 * Every job below that ends up holding a typed-parameter array (a getter's
 * answer, or what lv_tpin_build made for a setter) starts with a tp_job,
 * so one fini frees it, whether push() took the values or nobody did. */

typedef struct tp_job {
  lv_job job;
  virTypedParameterPtr params;
  int n;
} tp_job;

#define TP_JOB_DECL(type, var, workfn, pushfn)      \
  type var;                                          \
  lv_job_init(&var.tp.job, sizeof var, (workfn), (pushfn))

static void f_params(lv_job *j)
{
  tp_job *t = (tp_job *)j;
  virTypedParamsFree(t->params, t->n);
  t->params = NULL;
}

/* ------------------------------------------------ generic get/set methods */

struct a_tpget {
  tp_job tp;
  const lv_tp_method *m;
  void *obj;
  const char *arg;
  unsigned int iarg, flags;
};

static int w_tpget(lv_job *j)
{
  struct a_tpget *a = (struct a_tpget *)j;
  return a->m->get(a->obj, a->arg, a->iarg, &a->tp.params, &a->tp.n, a->flags);
}

static int p_tpget(lua_State *L, lv_job *j)
{
  struct a_tpget *a = (struct a_tpget *)j;
  lv_tp_push(L, a->tp.params, a->tp.n);
  return 1;
}

/* Arguments between the object and the table/flags, as m->arg says. */
static int tp_args(lua_State *L, const lv_tp_method *m, const char **arg, unsigned int *iarg)
{
  int i = 2;
  if (m->arg == LV_TP_ARG_STR)
    *arg = luaL_checkstring(L, i++);
  else if (m->arg == LV_TP_ARG_UINT) {
    lua_Integer v = luaL_checkinteger(L, i);
    luaL_argcheck(L, v >= 0 && v <= (lua_Integer)UINT_MAX, i, "value out of range");
    *iarg = (unsigned int)v;
    i++;
  }
  return i;
}

/* obj:get_xxx([arg,] flags=0) -> { name = value, ... } */
int lv_tp_get(lua_State *L, const lv_tp_method *m)
{
  int i;
  TP_JOB_DECL(struct a_tpget, a, w_tpget, p_tpget);
  a.tp.job.fini = f_params;
  a.m = m;
  a.obj = lv_job_hold(&a.tp.job, L, 1, m->cls);
  i = tp_args(L, m, &a.arg, &a.iarg);
  a.flags = lv_optflags(L, i);
  return lv_job_run(L, &a.tp.job);
}

struct a_tpset {
  tp_job tp;
  const lv_tp_method *m;
  void *obj;
  const char *arg;
  unsigned int iarg, flags;
  lv_tpin in;
  virTypedParameterPtr known;
  int nknown;
};

static int w_tpset(lv_job *j)
{
  struct a_tpset *a = (struct a_tpset *)j;
  const lv_tp_method *m = a->m;
  if (m->get) {
    /* the getter takes one of live/config, not both: types are the same */
    unsigned int gf = m->getflags_mask ? (a->flags & m->getflags_mask) : 0;
    if ((gf & 3) == 3)
      gf &= ~1u;
    if (m->get(a->obj, a->arg, a->iarg, &a->known, &a->nknown, gf) < 0)
      return -1;
    if (lv_tpin_build(j, &a->in, a->known, a->nknown, NULL, &a->tp.params, &a->tp.n) < 0)
      return WORK_FAIL(j);
  } else if (lv_tpin_build(j, &a->in, NULL, 0, m->prefix, &a->tp.params, &a->tp.n) < 0)
    return WORK_FAIL(j);
  return m->set(a->obj, a->arg, a->iarg, a->tp.params, a->tp.n, a->flags);
}

static void f_tpset(lv_job *j)
{
  struct a_tpset *a = (struct a_tpset *)j;
  f_params(j);
  if (a->known)
    virTypedParamsFree(a->known, a->nknown);
  a->known = NULL;
}

/* obj:set_xxx([arg,] { name = value, ... }, flags=0) */
int lv_tp_set(lua_State *L, const lv_tp_method *m)
{
  int i;
  TP_JOB_DECL(struct a_tpset, a, w_tpset, NULL);
  a.tp.job.fini = f_tpset;
  a.tp.job.pool = m->pool;
  a.m = m;
  a.obj = lv_job_hold(&a.tp.job, L, 1, m->cls);
  i = tp_args(L, m, &a.arg, &a.iarg);
  a.flags = lv_optflags(L, i + 1);
  lv_tpin_check(L, i, &a.in);
  return lv_job_run(L, &a.tp.job);
}

/* For getters that fill a caller-allocated array: ask the size, then fill. */
int lv_tp_alloc(virTypedParameterPtr *params, int n)
{
  *params = NULL;
  if (n <= 0)
    return 0;
  *params = calloc((size_t)n, sizeof **params);
  return *params ? 0 : -1;
}

/* ------------------------------------------------ getters' calling shapes */

/* Caller-allocated arrays: ask the count with a NULL array, then fill. */
#define TWO_STEP(fname, call)                                                 \
  static int fname(void *o, const char *arg, unsigned int iarg,               \
                   virTypedParameterPtr *p, int *n, unsigned int fl)          \
  {                                                                           \
    virTypedParameterPtr params = NULL;                                       \
    (void)arg;                                                                \
    (void)iarg;                                                               \
    *n = 0;                                                                   \
    if ((call) < 0)                                                           \
      return -1;                                                              \
    if (lv_tp_alloc(p, *n) < 0)                                               \
      return -1;                                                              \
    if (*n == 0)                                                              \
      return 0;                                                               \
    params = *p;                                                              \
    return (call) < 0 ? -1 : 0;                                               \
  }

TWO_STEP(get_memory, virDomainGetMemoryParameters(o, params, n, fl))
TWO_STEP(get_numa, virDomainGetNumaParameters(o, params, n, fl))
TWO_STEP(get_blkio, virDomainGetBlkioParameters(o, params, n, fl))
TWO_STEP(get_interface, virDomainGetInterfaceParameters(o, arg, params, n, fl))
TWO_STEP(get_iotune, virDomainGetBlockIoTune(o, arg, params, n, fl))
TWO_STEP(get_node_memory, virNodeGetMemoryParameters(o, params, n, fl))
TWO_STEP(get_block_stats, virDomainBlockStatsFlags(o, arg, params, n, fl))

/* The scheduler's count comes from virDomainGetSchedulerType. */
static int sched_count(void *o, int *n)
{
  char *type = virDomainGetSchedulerType(o, n);
  if (!type)
    return -1;
  free(type);
  return 0;
}

#define SCHED(fname, call)                                                    \
  static int fname(void *o, const char *arg, unsigned int iarg,               \
                   virTypedParameterPtr *p, int *n, unsigned int fl)          \
  {                                                                           \
    (void)arg;                                                                \
    (void)iarg;                                                               \
    (void)fl;                                                                 \
    if (sched_count(o, n) < 0 || lv_tp_alloc(p, *n) < 0)                      \
      return -1;                                                              \
    return *n == 0 ? 0 : (call);                                              \
  }

SCHED(get_sched_flags, virDomainGetSchedulerParametersFlags(o, *p, n, fl))
SCHED(get_sched, virDomainGetSchedulerParameters(o, *p, n))

/* libvirt allocates the array. */
#define ALLOCATED(fname, call)                                                \
  static int fname(void *o, const char *arg, unsigned int iarg,               \
                   virTypedParameterPtr *p, int *n, unsigned int fl)          \
  {                                                                           \
    (void)arg;                                                                \
    (void)iarg;                                                               \
    return (call) < 0 ? -1 : 0;                                               \
  }

ALLOCATED(get_perf, virDomainGetPerfEvents(o, p, n, fl))
ALLOCATED(get_launch_security, virDomainGetLaunchSecurityInfo(o, p, n, fl))
ALLOCATED(get_guest_info, virDomainGetGuestInfo(o, iarg, p, n, fl))
ALLOCATED(get_sev, virNodeGetSEVInfo(o, p, n, fl))

static int get_guest_vcpus(void *o, const char *arg, unsigned int iarg,
                           virTypedParameterPtr *p, int *n, unsigned int fl)
{
  unsigned int un = 0;
  (void)arg;
  (void)iarg;
  if (virDomainGetGuestVcpus(o, p, &un, fl) < 0)
    return -1;
  *n = (int)un;
  return 0;
}

/* Setters. */
#define SETTER(fname, call)                                                   \
  static int fname(void *o, const char *arg, unsigned int iarg,               \
                   virTypedParameterPtr p, int n, unsigned int fl)            \
  {                                                                           \
    (void)arg;                                                                \
    (void)iarg;                                                               \
    return call;                                                              \
  }

SETTER(set_memory, virDomainSetMemoryParameters(o, p, n, fl))
SETTER(set_numa, virDomainSetNumaParameters(o, p, n, fl))
SETTER(set_blkio, virDomainSetBlkioParameters(o, p, n, fl))
SETTER(set_interface, virDomainSetInterfaceParameters(o, arg, p, n, fl))
SETTER(set_iotune, virDomainSetBlockIoTune(o, arg, p, n, fl))
SETTER(set_perf, virDomainSetPerfEvents(o, p, n, fl))
SETTER(set_sched_flags, virDomainSetSchedulerParametersFlags(o, p, n, fl))
SETTER(set_node_memory, virNodeSetMemoryParameters(o, p, n, fl))
SETTER(set_launch_security, virDomainSetLaunchSecurityState(o, p, n, fl))
SETTER(set_iothread, virDomainSetIOThreadParams(o, iarg, p, n, fl))
SETTER(set_identity, virConnectSetIdentity(o, p, n, fl))

static int set_sched(void *o, const char *arg, unsigned int iarg,
                     virTypedParameterPtr p, int n, unsigned int fl)
{
  (void)arg;
  (void)iarg;
  (void)fl;
  return virDomainSetSchedulerParameters(o, p, n);
}

#define D &lv_domain_class
#define C &lv_connect_class
#define AFFECT (VIR_DOMAIN_AFFECT_LIVE | VIR_DOMAIN_AFFECT_CONFIG)
#define S LV_POOL_SHORT
static const lv_tp_method
  m_memory = {D, LV_TP_ARG_NONE, get_memory, set_memory, NULL, AFFECT, S},
  m_numa = {D, LV_TP_ARG_NONE, get_numa, set_numa, NULL, AFFECT, S},
  m_blkio = {D, LV_TP_ARG_NONE, get_blkio, set_blkio, NULL, AFFECT, S},
  m_interface = {D, LV_TP_ARG_STR, get_interface, set_interface, NULL, AFFECT, S},
  m_iotune = {D, LV_TP_ARG_STR, get_iotune, set_iotune, NULL, AFFECT, S},
  m_perf = {D, LV_TP_ARG_NONE, get_perf, set_perf, NULL, AFFECT, S},
  m_sched = {D, LV_TP_ARG_NONE, get_sched, set_sched, NULL, 0, S},
  m_sched_flags = {D, LV_TP_ARG_NONE, get_sched_flags, set_sched_flags, NULL, AFFECT, S},
  m_launch_get = {D, LV_TP_ARG_NONE, get_launch_security, NULL, NULL, 0, S},
  m_launch_set = {D, LV_TP_ARG_NONE, NULL, set_launch_security, "VIR_DOMAIN_LAUNCH_SECURITY_", 0, S},
  m_guest_info = {D, LV_TP_ARG_UINT, get_guest_info, NULL, NULL, 0, S},
  m_guest_vcpus = {D, LV_TP_ARG_NONE, get_guest_vcpus, NULL, NULL, 0, S},
  m_iothread = {D, LV_TP_ARG_UINT, NULL, set_iothread, "VIR_DOMAIN_IOTHREAD_", 0, S},
  m_node_memory = {C, LV_TP_ARG_NONE, get_node_memory, set_node_memory, NULL, 0, S},
  m_sev = {C, LV_TP_ARG_NONE, get_sev, NULL, NULL, 0, S},
  m_identity = {C, LV_TP_ARG_NONE, NULL, set_identity, "VIR_CONNECT_IDENTITY_", 0, S};
#undef D
#undef C
#undef S

static int d_get_memory_parameters(lua_State *L) { return lv_tp_get(L, &m_memory); }
static int d_set_memory_parameters(lua_State *L) { return lv_tp_set(L, &m_memory); }
static int d_get_numa_parameters(lua_State *L) { return lv_tp_get(L, &m_numa); }
static int d_set_numa_parameters(lua_State *L) { return lv_tp_set(L, &m_numa); }
static int d_get_blkio_parameters(lua_State *L) { return lv_tp_get(L, &m_blkio); }
static int d_set_blkio_parameters(lua_State *L) { return lv_tp_set(L, &m_blkio); }
static int d_get_interface_parameters(lua_State *L) { return lv_tp_get(L, &m_interface); }
static int d_set_interface_parameters(lua_State *L) { return lv_tp_set(L, &m_interface); }
static int d_get_block_iotune(lua_State *L) { return lv_tp_get(L, &m_iotune); }
static int d_set_block_iotune(lua_State *L) { return lv_tp_set(L, &m_iotune); }
static int d_get_perf_events(lua_State *L) { return lv_tp_get(L, &m_perf); }
static int d_set_perf_events(lua_State *L) { return lv_tp_set(L, &m_perf); }
static int d_get_launch_security_info(lua_State *L) { return lv_tp_get(L, &m_launch_get); }
static int d_set_launch_security_state(lua_State *L) { return lv_tp_set(L, &m_launch_set); }
static int d_get_guest_info(lua_State *L) { return lv_tp_get(L, &m_guest_info); }
static int d_get_guest_vcpus(lua_State *L) { return lv_tp_get(L, &m_guest_vcpus); }
static int d_set_iothread(lua_State *L) { return lv_tp_set(L, &m_iothread); }
static int c_get_node_memory_parameters(lua_State *L) { return lv_tp_get(L, &m_node_memory); }
static int c_set_node_memory_parameters(lua_State *L) { return lv_tp_set(L, &m_node_memory); }
static int c_get_node_sev_info(lua_State *L) { return lv_tp_get(L, &m_sev); }
static int c_set_identity(lua_State *L) { return lv_tp_set(L, &m_identity); }

/* Sys::Virt calls the flag-less scheduler functions when no flags are given
 * (old drivers lack the others). */
static int d_get_scheduler_parameters(lua_State *L)
{
  return lv_tp_get(L, lua_isnoneornil(L, 2) ? &m_sched : &m_sched_flags);
}
static int d_set_scheduler_parameters(lua_State *L)
{
  return lv_tp_set(L, lua_isnoneornil(L, 3) ? &m_sched : &m_sched_flags);
}

/* ----------------------------------------------------------- job stats */

struct a_jobstats {
  tp_job tp;
  virDomainPtr dom;
  unsigned int flags;
  int type;
};

static int w_jobstats(lv_job *j)
{
  struct a_jobstats *a = (struct a_jobstats *)j;
  return virDomainGetJobStats(a->dom, &a->type, &a->tp.params, &a->tp.n, a->flags);
}

static int p_jobstats(lua_State *L, lv_job *j)
{
  struct a_jobstats *a = (struct a_jobstats *)j;
  lua_pushinteger(L, a->type);
  lv_tp_push(L, a->tp.params, a->tp.n);
  return 2;
}

/* local type, stats = dom:get_job_stats(flags=0) */
static int d_get_job_stats(lua_State *L)
{
  TP_JOB_DECL(struct a_jobstats, a, w_jobstats, p_jobstats);
  a.tp.job.fini = f_params;
  a.dom = lv_job_hold(&a.tp.job, L, 1, &lv_domain_class);
  a.flags = lv_optflags(L, 2);
  return lv_job_run(L, &a.tp.job);
}

/* ----------------------------------------------------------- CPU stats */

struct a_cpustats {
  tp_job tp;                /* tp.n: the whole array, nparams per CPU */
  virDomainPtr dom;
  int start;
  unsigned int ncpus, flags;
  int nparams;
};

static int w_cpustats(lv_job *j)
{
  struct a_cpustats *a = (struct a_cpustats *)j;
  int per;
  /* per-CPU count first (for the total: with start -1) */
  per = virDomainGetCPUStats(a->dom, NULL, 0, a->start, a->start < 0 ? 1 : 0, a->flags);
  if (per < 0)
    return -1;
  a->nparams = per;
  a->tp.n = per * (int)(a->start < 0 ? 1 : a->ncpus);
  if (lv_tp_alloc(&a->tp.params, a->tp.n) < 0)
    return -1;
  if (a->tp.n == 0)
    return 0;
  per = virDomainGetCPUStats(a->dom, a->tp.params, (unsigned int)per, a->start,
                             a->start < 0 ? 1 : a->ncpus, a->flags);
  return per < 0 ? -1 : 0;
}

static int p_cpustats(lua_State *L, lv_job *j)
{
  struct a_cpustats *a = (struct a_cpustats *)j;
  int ncpu = a->nparams ? a->tp.n / a->nparams : 0, i;
  lua_createtable(L, ncpu, 0);
  for (i = 0; i < ncpu; i++) {
    lv_tp_push(L, a->tp.params + i * a->nparams, a->nparams);
    lua_rawseti(L, -2, i + 1);
  }
  return 1;
}

/* dom:get_cpu_stats(start_cpu, ncpus, flags=0) -> { {cpu_time=...}, ... }
 * start_cpu -1 (with ncpus 1) gives the total over all CPUs. */
static int d_get_cpu_stats(lua_State *L)
{
  lua_Integer start, n;
  TP_JOB_DECL(struct a_cpustats, a, w_cpustats, p_cpustats);
  a.tp.job.fini = f_params;
  a.dom = lv_job_hold(&a.tp.job, L, 1, &lv_domain_class);
  start = luaL_checkinteger(L, 2);
  n = luaL_checkinteger(L, 3);
  luaL_argcheck(L, start >= -1 && start <= INT_MAX, 2, "start CPU out of range");
  luaL_argcheck(L, n >= 0 && n <= 65536, 3, "CPU count out of range");
  a.start = (int)start;
  a.ncpus = (unsigned int)n;
  a.flags = lv_optflags(L, 4);
  return lv_job_run(L, &a.tp.job);
}

/* --------------------------------------------------------- block stats */

struct a_blockstats {
  tp_job tp;
  virDomainPtr dom;
  const char *path;
  unsigned int flags;
  int legacy;
  virDomainBlockStatsStruct st;
};

static int w_blockstats(lv_job *j)
{
  struct a_blockstats *a = (struct a_blockstats *)j;
  virErrorPtr e;
  if (get_block_stats(a->dom, a->path, 0, &a->tp.params, &a->tp.n, a->flags) == 0)
    return 0;
  /* drivers without the typed version still have the struct one */
  e = virGetLastError();
  if (!e || e->code != VIR_ERR_NO_SUPPORT || a->flags)
    return -1;
  f_params(j);
  a->tp.n = 0;
  a->legacy = 1;
  return virDomainBlockStats(a->dom, a->path, &a->st, sizeof a->st);
}

/* Sys::Virt's keys for the typed names that differ from the struct's. */
static const char *block_key(const char *field)
{
  if (strcmp(field, VIR_DOMAIN_BLOCK_STATS_READ_REQ) == 0) return "rd_req";
  if (strcmp(field, VIR_DOMAIN_BLOCK_STATS_WRITE_REQ) == 0) return "wr_req";
  if (strcmp(field, VIR_DOMAIN_BLOCK_STATS_FLUSH_REQ) == 0) return "flush_reqs";
  return field;
}

static int p_blockstats(lua_State *L, lv_job *j)
{
  struct a_blockstats *a = (struct a_blockstats *)j;
  int i;
  if (a->legacy) {
    lua_createtable(L, 0, 5);
    lv_setfield_int(L, "rd_req", a->st.rd_req);
    lv_setfield_int(L, "rd_bytes", a->st.rd_bytes);
    lv_setfield_int(L, "wr_req", a->st.wr_req);
    lv_setfield_int(L, "wr_bytes", a->st.wr_bytes);
    lv_setfield_int(L, "errs", a->st.errs);
    return 1;
  }
  lv_tp_push(L, a->tp.params, a->tp.n);
  for (i = 0; i < a->tp.n; i++) {
    const char *f = a->tp.params[i].field, *k = block_key(f);
    if (k != f) {
      lua_getfield(L, -1, f);
      lua_setfield(L, -2, k);
      lua_pushnil(L);
      lua_setfield(L, -2, f);
    }
  }
  return 1;
}

/* dom:block_stats(path, flags=0) -> { rd_req=, rd_bytes=, wr_req=, wr_bytes=, errs=, ... } */
static int d_block_stats(lua_State *L)
{
  TP_JOB_DECL(struct a_blockstats, a, w_blockstats, p_blockstats);
  a.tp.job.fini = f_params;
  a.dom = lv_job_hold(&a.tp.job, L, 1, &lv_domain_class);
  a.path = luaL_checkstring(L, 2);
  a.flags = lv_optflags(L, 3);
  return lv_job_run(L, &a.tp.job);
}

/* ------------------------------------------------- node CPU/memory stats */

struct a_nodestats {
  lv_job job;
  virConnectPtr conn;
  int which, num;
  unsigned int flags;
  void *stats;
  int n;
};

static int w_nodestats(lv_job *j)
{
  struct a_nodestats *a = (struct a_nodestats *)j;
  size_t size = a->which ? sizeof(virNodeMemoryStats) : sizeof(virNodeCPUStats);
  int r;
  a->n = 0;
  r = a->which ? virNodeGetMemoryStats(a->conn, a->num, NULL, &a->n, a->flags)
               : virNodeGetCPUStats(a->conn, a->num, NULL, &a->n, a->flags);
  if (r < 0)
    return -1;
  if (a->n <= 0)
    return 0;
  a->stats = calloc((size_t)a->n, size);
  if (!a->stats)
    return tp_fail(j, VIR_ERR_NO_MEMORY, "out of memory%s%s", NULL, NULL), WORK_FAIL(j);
  r = a->which ? virNodeGetMemoryStats(a->conn, a->num, a->stats, &a->n, a->flags)
               : virNodeGetCPUStats(a->conn, a->num, a->stats, &a->n, a->flags);
  return r < 0 ? -1 : 0;
}

static int p_nodestats(lua_State *L, lv_job *j)
{
  struct a_nodestats *a = (struct a_nodestats *)j;
  int i;
  lua_createtable(L, 0, a->n);
  for (i = 0; i < a->n; i++) {
    if (a->which) {
      virNodeMemoryStatsPtr s = (virNodeMemoryStatsPtr)a->stats + i;
      lv_push_uint64(L, s->value);
      lua_setfield(L, -2, s->field);
    } else {
      virNodeCPUStatsPtr s = (virNodeCPUStatsPtr)a->stats + i;
      lv_push_uint64(L, s->value);
      lua_setfield(L, -2, s->field);
    }
  }
  return 1;
}

static void f_nodestats(lv_job *j)
{
  struct a_nodestats *a = (struct a_nodestats *)j;
  free(a->stats);
  a->stats = NULL;
}

static int nodestats(lua_State *L, int which)
{
  lua_Integer num;
  LV_JOB_DECL(struct a_nodestats, a, w_nodestats, p_nodestats);
  a.job.fini = f_nodestats;
  a.conn = lv_job_hold(&a.job, L, 1, &lv_connect_class);
  num = luaL_optinteger(L, 2, -1);
  luaL_argcheck(L, num >= -1 && num <= INT_MAX, 2, "out of range");
  a.which = which;
  a.num = (int)num;
  a.flags = lv_optflags(L, 3);
  return lv_job_run(L, &a.job);
}

/* conn:get_node_cpu_stats(cpu=-1, flags=0) -> { kernel=, user=, idle=, iowait=, ... } */
static int c_get_node_cpu_stats(lua_State *L) { return nodestats(L, 0); }
/* conn:get_node_memory_stats(cell=-1, flags=0) -> { total=, free=, buffers=, cached= } */
static int c_get_node_memory_stats(lua_State *L) { return nodestats(L, 1); }

/* ------------------------------------------------ get_all_domain_stats */

struct a_allstats {
  lv_job job;
  virConnectPtr conn;
  unsigned int stats, flags;
  virDomainPtr *doms;       /* NULL-terminated, referenced; NULL: all */
  int ndoms;
  virDomainStatsRecordPtr *recs;
  int n;
};

static int w_allstats(lv_job *j)
{
  struct a_allstats *a = (struct a_allstats *)j;
  a->n = a->doms ? virDomainListGetStats(a->doms, a->stats, &a->recs, a->flags)
                 : virConnectGetAllDomainStats(a->conn, a->stats, &a->recs, a->flags);
  return a->n < 0 ? -1 : 0;
}

static int p_allstats(lua_State *L, lv_job *j)
{
  struct a_allstats *a = (struct a_allstats *)j;
  int i;
  lua_createtable(L, a->n, 0);
  for (i = 0; i < a->n; i++) {
    lv_obj *o;
    lua_createtable(L, 0, 2);
    /* the object's own reference, taken once it exists (nothing between
     * can raise): a push that fails before leaks none */
    o = lv_obj_push(L, &lv_domain_class, a->recs[i]->dom, 1);
    if (virDomainRef(a->recs[i]->dom) < 0)
      o->ptr = NULL;
    lua_setfield(L, -2, "dom");
    lv_tp_push(L, a->recs[i]->params, a->recs[i]->nparams);
    lua_setfield(L, -2, "data");
    lua_rawseti(L, -2, i + 1);
  }
  return 1;
}

static void f_allstats(lv_job *j)
{
  struct a_allstats *a = (struct a_allstats *)j;
  int i;
  if (a->recs)
    virDomainStatsRecordListFree(a->recs);
  a->recs = NULL;
  if (a->doms) {
    for (i = 0; i < a->ndoms; i++)
      virDomainFree(a->doms[i]);
    free(a->doms);
    a->doms = NULL;
  }
}

/* conn:get_all_domain_stats(stats, doms=nil, flags=0) -> { {dom=, data={...}}, ... } */
static int c_get_all_domain_stats(lua_State *L)
{
  lua_Integer stats;
  LV_JOB_DECL(struct a_allstats, a, w_allstats, p_allstats);
  a.job.fini = f_allstats;
  a.conn = lv_job_hold(&a.job, L, 1, &lv_connect_class);
  stats = luaL_optinteger(L, 2, 0);
  luaL_argcheck(L, stats >= 0 && stats <= (lua_Integer)UINT_MAX, 2, "out of range");
  a.stats = (unsigned int)stats;
  a.flags = lv_optflags(L, 4);
  if (!lua_isnoneornil(L, 3)) {
    lua_Integer i, n;
    luaL_checktype(L, 3, LUA_TTABLE);
    n = (lua_Integer)lua_rawlen(L, 3);
    luaL_argcheck(L, n < 1000000, 3, "too many domains");
    for (i = 1; i <= n; i++) {      /* check all before taking references */
      lua_rawgeti(L, 3, i);
      lv_obj_check(L, -1, &lv_domain_class);
      lua_pop(L, 1);
    }
    /* The worker may run while the caller drops its table: reference. */
    a.doms = calloc((size_t)n + 1, sizeof *a.doms);
    if (!a.doms)
      return luaL_error(L, "not enough memory");
    for (i = 1; i <= n; i++) {
      lua_rawgeti(L, 3, i);
      a.doms[i - 1] = lv_obj_check(L, -1, &lv_domain_class);
      virDomainRef(a.doms[i - 1]);
      a.ndoms++;
      lua_pop(L, 1);
    }
  }
  return lv_job_run(L, &a.job);
}

/* ---------------------------------------------------------- block copy */

struct a_copy {
  tp_job tp;
  virDomainPtr dom;
  const char *disk, *destxml;
  unsigned int flags;
  lv_tpin in;
};

static int w_copy(lv_job *j)
{
  struct a_copy *a = (struct a_copy *)j;
  if (lv_tpin_build(j, &a->in, NULL, 0, "VIR_DOMAIN_BLOCK_COPY_", &a->tp.params, &a->tp.n) < 0)
    return WORK_FAIL(j);
  return virDomainBlockCopy(a->dom, a->disk, a->destxml, a->tp.params, a->tp.n, a->flags);
}

/* dom:block_copy(disk, destxml, params=nil, flags=0) */
static int d_block_copy(lua_State *L)
{
  TP_JOB_DECL(struct a_copy, a, w_copy, NULL);
  a.tp.job.fini = f_params;
  a.tp.job.pool = LV_POOL_LONG;
  a.dom = lv_job_hold(&a.tp.job, L, 1, &lv_domain_class);
  a.disk = luaL_checkstring(L, 2);
  a.destxml = luaL_checkstring(L, 3);
  a.flags = lv_optflags(L, 5);
  if (!lua_isnoneornil(L, 4))
    lv_tpin_check(L, 4, &a.in);
  return lv_job_run(L, &a.tp.job);
}

/* ------------------------------------------------------------ migration */

struct a_migrate {
  tp_job tp;
  virDomainPtr dom, ddom;
  virConnectPtr dconn;
  const char *uri, *dname, *miguri;
  unsigned long bandwidth;
  unsigned int flags;
  int with_params;
  lv_tpin in;
};

static int w_migrate(lv_job *j)
{
  struct a_migrate *a = (struct a_migrate *)j;
  virTypedParameterPtr params;
  if (a->with_params &&
      lv_tpin_build(j, &a->in, NULL, 0, "VIR_MIGRATE_PARAM_", &a->tp.params, &a->tp.n) < 0)
    return WORK_FAIL(j);
  params = a->tp.params;
  if (a->dconn) {
    a->ddom = a->with_params
      ? virDomainMigrate3(a->dom, a->dconn, params, (unsigned int)a->tp.n, a->flags)
      : virDomainMigrate(a->dom, a->dconn, a->flags, a->dname, a->miguri, a->bandwidth);
    return a->ddom ? 0 : -1;
  }
  return a->with_params
    ? virDomainMigrateToURI3(a->dom, a->uri, params, (unsigned int)a->tp.n, a->flags)
    : virDomainMigrateToURI(a->dom, a->uri, a->flags, a->dname, a->bandwidth);
}

static int p_migrate(lua_State *L, lv_job *j)
{
  struct a_migrate *a = (struct a_migrate *)j;
  if (!a->dconn)
    return 0;
  lv_obj_push(L, &lv_domain_class, a->ddom, 2);   /* lives on the destination */
  a->ddom = NULL;
  return 1;
}

static void f_migrate(lv_job *j)
{
  struct a_migrate *a = (struct a_migrate *)j;
  f_params(j);
  if (a->ddom)
    virDomainFree(a->ddom);
  a->ddom = NULL;
}

static unsigned long check_bandwidth(lua_State *L, int idx)
{
  unsigned long long v = lua_isnoneornil(L, idx) ? 0 : lv_check_uint64(L, idx);
  luaL_argcheck(L, v <= ULONG_MAX, idx, "bandwidth out of range");
  return (unsigned long)v;
}

/* The two forms of both methods from argument 3 on: (params, flags), or
 * Sys::Virt's older (flags, dname, [miguri,] bandwidth). */
static int migrate_run(lua_State *L, struct a_migrate *a, int with_miguri)
{
  if (lua_istable(L, 3)) {
    a->with_params = 1;
    a->flags = lv_optflags(L, 4);
    lv_tpin_check(L, 3, &a->in);
  } else {
    a->flags = lv_optflags(L, 3);
    a->dname = luaL_optstring(L, 4, NULL);
    if (with_miguri)
      a->miguri = luaL_optstring(L, 5, NULL);
    a->bandwidth = check_bandwidth(L, with_miguri ? 6 : 5);
  }
  return lv_job_run(L, &a->tp.job);
}

/* dom:migrate(destconn, params, flags=0) -> Domain on destconn, or Sys::Virt's
 * older form dom:migrate(destconn, flags=0, dname=nil, uri=nil, bandwidth=0). */
static int d_migrate(lua_State *L)
{
  TP_JOB_DECL(struct a_migrate, a, w_migrate, p_migrate);
  a.tp.job.fini = f_migrate;
  a.tp.job.pool = LV_POOL_LONG;
  a.dom = lv_job_hold(&a.tp.job, L, 1, &lv_domain_class);
  a.dconn = lv_job_hold(&a.tp.job, L, 2, &lv_connect_class);
  return migrate_run(L, &a, 1);
}

/* dom:migrate_to_uri(desturi, params, flags=0), or the older
 * dom:migrate_to_uri(desturi, flags=0, dname=nil, bandwidth=0). */
static int d_migrate_to_uri(lua_State *L)
{
  TP_JOB_DECL(struct a_migrate, a, w_migrate, p_migrate);
  a.tp.job.fini = f_migrate;
  a.tp.job.pool = LV_POOL_LONG;
  a.dom = lv_job_hold(&a.tp.job, L, 1, &lv_domain_class);
  a.uri = luaL_checkstring(L, 2);
  return migrate_run(L, &a, 0);
}

/* -------------------------------------------------------- save/restore */

struct a_save {
  tp_job tp;
  virDomainPtr dom;
  virConnectPtr conn;
  const char *file, *dxml;
  unsigned int flags;
  int form;                 /* 0 plain, 1 flags, 2 params */
  lv_tpin in;
};

/* The file and dxml arguments join the parameters unless already there. */
static int save_params(struct a_save *a)
{
  virTypedParameterPtr *p = &a->tp.params;
  int *n = &a->tp.n, max;
  if (lv_tpin_build(&a->tp.job, &a->in, NULL, 0, "VIR_DOMAIN_SAVE_PARAM_", p, n) < 0)
    return -1;
  max = *n;
  if (a->file && !virTypedParamsGet(*p, *n, VIR_DOMAIN_SAVE_PARAM_FILE) &&
      virTypedParamsAddString(p, n, &max, VIR_DOMAIN_SAVE_PARAM_FILE, a->file) < 0)
    return -1;
  if (a->dxml && !virTypedParamsGet(*p, *n, VIR_DOMAIN_SAVE_PARAM_DXML) &&
      virTypedParamsAddString(p, n, &max, VIR_DOMAIN_SAVE_PARAM_DXML, a->dxml) < 0)
    return -1;
  return 0;
}

static int w_save(lv_job *j)
{
  struct a_save *a = (struct a_save *)j;
  if (a->form == 2 && save_params(a) < 0)
    return WORK_FAIL(j);
  if (a->dom) {
    switch (a->form) {
    case 0: return virDomainSave(a->dom, a->file);
    case 1: return virDomainSaveFlags(a->dom, a->file, a->dxml, a->flags);
    default: return virDomainSaveParams(a->dom, a->tp.params, a->tp.n, a->flags);
    }
  }
  switch (a->form) {
  case 0: return virDomainRestore(a->conn, a->file);
  case 1: return virDomainRestoreFlags(a->conn, a->file, a->dxml, a->flags);
  default: return virDomainRestoreParams(a->conn, a->tp.params, a->tp.n, a->flags);
  }
}

static int save_restore(lua_State *L, int restore)
{
  TP_JOB_DECL(struct a_save, a, w_save, NULL);
  a.tp.job.fini = f_params;
  a.tp.job.pool = LV_POOL_LONG;
  if (restore)
    a.conn = lv_job_hold(&a.tp.job, L, 1, &lv_connect_class);
  else
    a.dom = lv_job_hold(&a.tp.job, L, 1, &lv_domain_class);
  a.file = lua_isnoneornil(L, 2) && !lua_isnoneornil(L, 4) ? NULL : luaL_checkstring(L, 2);
  a.dxml = luaL_optstring(L, 3, NULL);
  a.flags = lv_optflags(L, 5);
  if (!lua_isnoneornil(L, 4)) {
    a.form = 2;
    lv_tpin_check(L, 4, &a.in);
  } else if (a.dxml || a.flags)
    a.form = 1;
  return lv_job_run(L, &a.tp.job);
}

/* dom:save(file, dxml=nil, params=nil, flags=0) */
static int d_save(lua_State *L) { return save_restore(L, 0); }
/* conn:restore_domain(file, dxml=nil, params=nil, flags=0) */
static int c_restore_domain(lua_State *L) { return save_restore(L, 1); }

int luaopen_virt_typedparams(lua_State *L)
{
  static const luaL_Reg dom_methods[] = {
    {"get_memory_parameters", d_get_memory_parameters},         /* virDomainGetMemoryParameters */
    {"set_memory_parameters", d_set_memory_parameters},         /* virDomainSetMemoryParameters */
    {"get_numa_parameters", d_get_numa_parameters},             /* virDomainGetNumaParameters */
    {"set_numa_parameters", d_set_numa_parameters},             /* virDomainSetNumaParameters */
    {"get_blkio_parameters", d_get_blkio_parameters},           /* virDomainGetBlkioParameters */
    {"set_blkio_parameters", d_set_blkio_parameters},           /* virDomainSetBlkioParameters */
    {"get_interface_parameters", d_get_interface_parameters},   /* virDomainGetInterfaceParameters */
    {"set_interface_parameters", d_set_interface_parameters},   /* virDomainSetInterfaceParameters */
    {"get_block_iotune", d_get_block_iotune},                   /* virDomainGetBlockIoTune */
    {"set_block_iotune", d_set_block_iotune},                   /* virDomainSetBlockIoTune */
    {"get_perf_events", d_get_perf_events},                     /* virDomainGetPerfEvents */
    {"set_perf_events", d_set_perf_events},                     /* virDomainSetPerfEvents */
    {"get_scheduler_parameters", d_get_scheduler_parameters},   /* virDomainGetSchedulerParameters virDomainGetSchedulerParametersFlags */
    {"set_scheduler_parameters", d_set_scheduler_parameters},   /* virDomainSetSchedulerParameters virDomainSetSchedulerParametersFlags */
    {"get_launch_security_info", d_get_launch_security_info},   /* virDomainGetLaunchSecurityInfo */
    {"set_launch_security_state", d_set_launch_security_state}, /* virDomainSetLaunchSecurityState */
    {"get_guest_info", d_get_guest_info},                       /* virDomainGetGuestInfo */
    {"get_guest_vcpus", d_get_guest_vcpus},                     /* virDomainGetGuestVcpus */
    {"set_iothread", d_set_iothread},                           /* virDomainSetIOThreadParams */
    {"get_job_stats", d_get_job_stats},                         /* virDomainGetJobStats */
    {"get_cpu_stats", d_get_cpu_stats},                         /* virDomainGetCPUStats */
    {"block_stats", d_block_stats},                             /* virDomainBlockStatsFlags virDomainBlockStats */
    {"block_copy", d_block_copy},                               /* virDomainBlockCopy */
    {"migrate", d_migrate},                                     /* virDomainMigrate3 virDomainMigrate */
    {"migrate_to_uri", d_migrate_to_uri},                       /* virDomainMigrateToURI3 virDomainMigrateToURI */
    {"save", d_save},                                           /* virDomainSave virDomainSaveFlags virDomainSaveParams */
    {NULL, NULL}};
  static const luaL_Reg conn_methods[] = {
    {"get_node_memory_parameters", c_get_node_memory_parameters}, /* virNodeGetMemoryParameters */
    {"set_node_memory_parameters", c_set_node_memory_parameters}, /* virNodeSetMemoryParameters */
    {"get_node_sev_info", c_get_node_sev_info},                   /* virNodeGetSEVInfo */
    {"set_identity", c_set_identity},                             /* virConnectSetIdentity */
    {"get_node_cpu_stats", c_get_node_cpu_stats},                 /* virNodeGetCPUStats */
    {"get_node_memory_stats", c_get_node_memory_stats},           /* virNodeGetMemoryStats */
    {"get_all_domain_stats", c_get_all_domain_stats},             /* virConnectGetAllDomainStats virDomainListGetStats */
    {"restore_domain", c_restore_domain},                         /* virDomainRestore virDomainRestoreFlags virDomainRestoreParams */
    {NULL, NULL}};
  lv_class_add(L, &lv_domain_class, dom_methods);
  lv_class_add(L, &lv_connect_class, conn_methods);
  return 0;
}
