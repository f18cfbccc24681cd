/*
 * qemu.c: the libvirt-qemu functions that do not fit a generated shape:
 * monitor events on virt.Virt and monitor commands passing file
 * descriptors on virt.Domain.  qemu_monitor_command, qemu_agent_command and
 * qemu_attach are generated.  libvirt-qemu is opened on first use (LV_LAZY).
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#include <stdlib.h>
#include <libvirt/libvirt-qemu.h>
#include "lv.h"

/* fn(conn, dom, event, seconds, micros, details) -- details may be nil */
static void ev_monitor(virConnectPtr c, virDomainPtr d, const char *event, long long seconds,
                       unsigned int micros, const char *details, void *op)
{
  lv_args a = LV_ARGS_INIT;
  (void)c;
  lv_arg_obj(&a, &lv_domain_class, d);
  lv_arg_str(&a, event);
  lv_arg_int(&a, seconds);
  lv_arg_int(&a, micros);
  lv_arg_str(&a, details);
  lv_cb_deliver(op, &a, "a qemu monitor event callback");
}

/* Only reached for a registered callback: the library is open. */
static int dereg(virConnectPtr c, int id)
{
  __typeof__(&virConnectDomainQemuMonitorEventDeregister) fn =
    LV_LAZY(NULL, "libvirt-qemu", virConnectDomainQemuMonitorEventDeregister);
  return fn ? fn(c, id) : -1;
}

/* conn:domain_qemu_monitor_event_register(dom_or_nil, event_or_nil, fn, flags=0) -> id
 * event nil: every event; flags REGEX/NOCASE make event a pattern. */
static int c_register(lua_State *L)
{
  __typeof__(&virConnectDomainQemuMonitorEventRegister) reg =
    LV_LAZY(L, "libvirt-qemu", virConnectDomainQemuMonitorEventRegister);
  lv_conn *c = lv_connect_checkobj(L, 1);
  virDomainPtr dom = lua_isnoneornil(L, 2) ? NULL : lv_obj_check(L, 2, &lv_domain_class);
  const char *event = luaL_optstring(L, 3, NULL);
  unsigned int flags = lv_optflags(L, 5);
  lv_cb *cb;
  int id;
  luaL_checktype(L, 4, LUA_TFUNCTION);
  cb = lv_cb_new(L, 4, 1, 1);
  id = reg(c->obj.ptr, dom, event, ev_monitor, cb, lv_cb_free, flags);
  return lv_cb_registered(L, c, cb, id, dereg);
}

static int c_deregister(lua_State *L)
{
  return lv_cb_deregister(L, dereg);
}

/* --------------------------------------- monitor commands with files */

struct a_files {
  lv_job job;
  __typeof__(&virDomainQemuMonitorCommandWithFiles) fn;
  virDomainPtr dom;
  const char *cmd;
  int *infiles;
  unsigned int ninfiles, noutfiles;
  int *outfiles;
  char *result;
  unsigned int flags;
};

static int w_files(lv_job *j)
{
  struct a_files *a = (struct a_files *)j;
  return a->fn(a->dom, a->cmd, a->ninfiles, a->infiles,
               &a->noutfiles, &a->outfiles, &a->result, a->flags);
}

static int p_files(lua_State *L, lv_job *j)
{
  struct a_files *a = (struct a_files *)j;
  unsigned int i;
  lv_push_string_free(L, a->result);
  a->result = NULL;
  lua_createtable(L, (int)a->noutfiles, 0);
  for (i = 0; i < a->noutfiles; i++) {
    lua_pushinteger(L, a->outfiles[i]);
    lua_rawseti(L, -2, (lua_Integer)i + 1);
  }
  free(a->outfiles);
  a->outfiles = NULL;
  a->noutfiles = 0;
  return 2;
}

static void f_files(lv_job *j)
{
  struct a_files *a = (struct a_files *)j;
  free(a->result);
  free(a->outfiles);
}

/* Read a Lua array of file descriptors into an int array anchored on the
 * stack (it must survive a yield). */
int *lv_check_fds(lua_State *L, int idx, unsigned int *n)
{
  lua_Integer i, len;
  int *fds;
  if (lua_isnoneornil(L, idx)) {
    *n = 0;
    return NULL;
  }
  luaL_checktype(L, idx, LUA_TTABLE);
  len = (lua_Integer)lua_rawlen(L, idx);
  luaL_argcheck(L, len <= 4096, idx, "too many file descriptors");
  fds = lua_newuserdatauv(L, (size_t)(len ? len : 1) * sizeof *fds, 0);
  for (i = 1; i <= len; i++) {
    int isint;
    lua_Integer fd;
    lua_rawgeti(L, idx, i);
    fd = lua_tointegerx(L, -1, &isint);
    if (!isint || fd < 0 || fd > 0x7fffffff)
      luaL_argerror(L, idx, lua_pushfstring(L, "item %I is not a file descriptor", i));
    fds[i - 1] = (int)fd;
    lua_pop(L, 1);
  }
  *n = (unsigned int)len;
  return fds;
}

/* dom:qemu_monitor_command_with_files(cmd, {fd...}, flags=0) -> result, {fd...}
 * The returned descriptors belong to the caller (close them with luv). */
static int d_monitor_files(lua_State *L)
{
  LV_JOB_DECL(struct a_files, a, w_files, p_files);
  a.fn = LV_LAZY(L, "libvirt-qemu", virDomainQemuMonitorCommandWithFiles);
  a.job.fini = f_files;
  a.dom = lv_job_hold(&a.job, L, 1, &lv_domain_class);
  a.cmd = luaL_checkstring(L, 2);
  a.flags = lv_optflags(L, 4);
  a.infiles = lv_check_fds(L, 3, &a.ninfiles);   /* pushes: after the other arguments */
  return lv_job_run(L, &a.job);
}

int luaopen_virt_qemu(lua_State *L)
{
  static const luaL_Reg dom_methods[] = {
    {"qemu_monitor_command_with_files", d_monitor_files},  /* virDomainQemuMonitorCommandWithFiles */
    {NULL, NULL}};
  static const luaL_Reg conn_methods[] = {
    {"domain_qemu_monitor_event_register", c_register},     /* virConnectDomainQemuMonitorEventRegister */
    {"domain_qemu_monitor_event_deregister", c_deregister}, /* virConnectDomainQemuMonitorEventDeregister */
    {NULL, NULL}};
  lv_class_add(L, &lv_domain_class, dom_methods);
  lv_class_add(L, &lv_connect_class, conn_methods);
  return 0;
}
