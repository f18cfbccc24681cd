/*
 * lxc.c: the libvirt-lxc functions that do not fit a generated shape.
 *
 * Entering a container's namespaces or security label changes the calling
 * thread (setns and the LSM act per thread), so these run inline on the
 * thread of the caller, never on a worker: inside a task they block the
 * loop briefly, which is the only correct place for them.
 * lxc_enter_cgroup is generated (a cgroup applies to the whole process).
 * libvirt-lxc is opened on first use (LV_LAZY).
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#include <stdlib.h>
#include <string.h>
#include <libvirt/libvirt-lxc.h>
#include "lv.h"


static void push_fds(lua_State *L, int *fds, int n)
{
  int i;
  lua_createtable(L, n > 0 ? n : 0, 0);
  for (i = 0; i < n; i++) {
    lua_pushinteger(L, fds[i]);
    lua_rawseti(L, -2, i + 1);
  }
  free(fds);
}

struct a_open {
  lv_job job;
  __typeof__(&virDomainLxcOpenNamespace) fn;
  virDomainPtr dom;
  unsigned int flags;
  int *fds;
  int n;
};

static int w_open(lv_job *j)
{
  struct a_open *a = (struct a_open *)j;
  a->n = a->fn(a->dom, &a->fds, a->flags);
  return a->n < 0 ? -1 : 0;
}

static int p_open(lua_State *L, lv_job *j)
{
  struct a_open *a = (struct a_open *)j;
  push_fds(L, a->fds, a->n);
  a->fds = NULL;
  return 1;
}

static void f_open(lv_job *j)
{
  free(((struct a_open *)j)->fds);
}

/* dom:lxc_open_namespace(flags=0) -> {fd...}: descriptors of the container's
 * namespaces, owned by the caller.  Opening is thread-neutral, so it may
 * run on a worker. */
static int d_open_namespace(lua_State *L)
{
  LV_JOB_DECL(struct a_open, a, w_open, p_open);
  a.fn = LV_LAZY(L, "libvirt-lxc", virDomainLxcOpenNamespace);
  a.job.fini = f_open;
  a.dom = lv_job_hold(&a.job, L, 1, &lv_domain_class);
  a.flags = lv_optflags(L, 2);
  return lv_job_run(L, &a.job);
}

/* dom:lxc_enter_namespace({fd...}, flags=0) -> {old fd...} (inline, see above) */
static int d_enter_namespace(lua_State *L)
{
  __typeof__(&virDomainLxcEnterNamespace) enter =
    LV_LAZY(L, "libvirt-lxc", virDomainLxcEnterNamespace);
  virDomainPtr dom = lv_obj_check(L, 1, &lv_domain_class);
  unsigned int n, nold = 0;
  unsigned int flags = lv_optflags(L, 3);
  int *fds = lv_check_fds(L, 2, &n);   /* pushes: after the other arguments */
  int *old = NULL;
  if (enter(dom, n, fds, &nold, &old, flags) < 0)
    return lv_error_raise_last(L);
  push_fds(L, old, (int)nold);
  return 1;
}

/* virt.lxc_enter_security_label({model=, doi=}, {label=, enforcing=}, flags=0)
 *   -> {label=, enforcing=} (the previous label; inline, see above) */
static int l_enter_security_label(lua_State *L)
{
  __typeof__(&virDomainLxcEnterSecurityLabel) enter =
    LV_LAZY(L, "libvirt-lxc", virDomainLxcEnterSecurityLabel);
  virSecurityModel model;
  virSecurityLabel label, old;
  const char *s;
  size_t len;
  unsigned int flags;
  memset(&model, 0, sizeof model);
  memset(&label, 0, sizeof label);
  memset(&old, 0, sizeof old);
  luaL_checktype(L, 1, LUA_TTABLE);
  luaL_checktype(L, 2, LUA_TTABLE);
  flags = lv_optflags(L, 3);
  lua_getfield(L, 1, "model");
  s = luaL_optlstring(L, -1, "", &len);
  luaL_argcheck(L, len < sizeof model.model, 1, "model is too long");
  memcpy(model.model, s, len);
  lua_getfield(L, 1, "doi");
  s = luaL_optlstring(L, -1, "", &len);
  luaL_argcheck(L, len < sizeof model.doi, 1, "doi is too long");
  memcpy(model.doi, s, len);
  lua_getfield(L, 2, "label");
  s = luaL_optlstring(L, -1, "", &len);
  luaL_argcheck(L, len < sizeof label.label, 2, "label is too long");
  memcpy(label.label, s, len);
  lua_getfield(L, 2, "enforcing");
  label.enforcing = lua_isboolean(L, -1) ? lua_toboolean(L, -1) : (int)luaL_optinteger(L, -1, 0);
  if (enter(&model, &label, &old, flags) < 0)
    return lv_error_raise_last(L);
  lua_createtable(L, 0, 2);
  lua_pushstring(L, old.label);
  lua_setfield(L, -2, "label");
  lua_pushinteger(L, old.enforcing);
  lua_setfield(L, -2, "enforcing");
  return 1;
}

int luaopen_virt_lxc(lua_State *L)
{
  static const luaL_Reg dom_methods[] = {
    {"lxc_open_namespace", d_open_namespace},    /* virDomainLxcOpenNamespace */
    {"lxc_enter_namespace", d_enter_namespace},  /* virDomainLxcEnterNamespace */
    {NULL, NULL}};
  static const luaL_Reg module_functions[] = {
    {"lxc_enter_security_label", l_enter_security_label},  /* virDomainLxcEnterSecurityLabel */
    {NULL, NULL}};
  lv_class_add(L, &lv_domain_class, dom_methods);
  luaL_setfuncs(L, module_functions, 0);
  return 0;
}
