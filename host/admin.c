/*
 * admin.c: the libvirt-admin API as virt.admin: virt.admin.open(uri)
 * returns a virt.admin.Connect to a daemon's admin socket, whose servers
 * (virt.admin.Server) have clients (virt.admin.Client), thread pools and
 * client limits; the connection also sets the daemon's logging.
 *
 * libvirt 9.0's libvirt-admin cannot initialize in a process where libvirt
 * has (both register the same GObject type names and the second fails), so
 * every admin connection is a luvirt-admin-helper process linked to
 * libvirt-admin, spoken to over pipes (host/helpers/adminwire.h).  Calls
 * are lv_jobs as everywhere else: a request and its reply run on a worker
 * inside a task, inline outside one.  Servers and clients are handles the
 * helper keeps.
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#include <dlfcn.h>
#include <fcntl.h>
#include <limits.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>
#include "lv.h"
#include "helpers/adminwire.h"

/* One helper process: shared by a Connect and its servers and clients. */
typedef struct aconn {
  atomic_int refs;
  uv_mutex_t m;             /* one request/reply at a time */
  pid_t pid;
  int to, from, notify;     /* helper's stdin, stdout, fd 3 */
  int watch;                /* close notifications, or -1 */
  lv_cb *close_cb;
} aconn;

/* A server or client: a handle in the helper. */
typedef struct ahandle {
  atomic_int refs;
  aconn *c;
  uint64_t id;
} ahandle;

static int conn_ref(void *p) { atomic_fetch_add(&((aconn *)p)->refs, 1); return 0; }

static int reap(lv_job *j);

/* The last reference: the helper exits when its stdin closes; waiting for
 * it happens on a worker (finalizers must not block). */
struct a_reap { lv_job job; pid_t pid; };

static int conn_free(void *p)
{
  aconn *c = p;
  struct a_reap r;
  if (atomic_fetch_sub(&c->refs, 1) != 1)
    return 0;
  if (c->watch >= 0)
    virEventRemoveHandle(c->watch);
  if (c->close_cb)
    lv_cb_free(c->close_cb);
  close(c->to);
  close(c->from);
  if (c->notify >= 0)
    close(c->notify);
  uv_mutex_destroy(&c->m);
  lv_job_init(&r.job, sizeof r, reap, NULL);
  r.pid = c->pid;
  free(c);
  if (lv_job_detach(&r.job) < 0)
    waitpid(r.pid, NULL, WNOHANG);
  return 0;
}

static int reap(lv_job *j)
{
  waitpid(((struct a_reap *)j)->pid, NULL, 0);
  return 0;
}

static int h_ref(void *p) { atomic_fetch_add(&((ahandle *)p)->refs, 1); return 0; }

/* Tell the helper to drop the handle (no reply is read: this may run in
 * __gc), then the handle's reference on the helper. */
static int h_free(void *p)
{
  ahandle *h = p;
  aw_buf b = {0};
  if (atomic_fetch_sub(&h->refs, 1) != 1)
    return 0;
  aw_str(&b, "free");
  aw_handle(&b, h->id);
  uv_mutex_lock(&h->c->m);
  aw_send(h->c->to, &b);
  uv_mutex_unlock(&h->c->m);
  aw_free(&b);
  conn_free(h->c);
  free(h);
  return 0;
}

const lv_class lv_admconnect_class = {
  "virt.admin.Connect", 0, "admin.Connect", conn_ref, conn_free, NULL, NULL,
  "attempt to use a closed admin connection", 0};
const lv_class lv_admserver_class = {
  "virt.admin.Server", 0, "admin.Server", h_ref, h_free, NULL, NULL, NULL, 0};
const lv_class lv_admclient_class = {
  "virt.admin.Client", 0, "admin.Client", h_ref, h_free, NULL, NULL, NULL, 0};

/* ------------------------------------------------------ the helper */

static int exists(const char *p) { return access(p, X_OK) == 0; }

/* Next to the luvirt binary, next to the build's virt/core.so, or in the
 * installed libexec directory; LUVIRT_ADMIN_HELPER overrides. */
static int helper_path(char *out, size_t size)
{
  const char *env = getenv("LUVIRT_ADMIN_HELPER");
  char buf[PATH_MAX];
  ssize_t n;
  Dl_info info;
  char *slash;
  if (env && *env) {
    snprintf(out, size, "%s", env);
    return exists(out) ? 0 : -1;
  }
  n = readlink("/proc/self/exe", buf, sizeof buf - 1);
  if (n > 0) {
    buf[n] = '\0';
    if ((slash = strrchr(buf, '/'))) {
      *slash = '\0';
      snprintf(out, size, "%s/luvirt-admin-helper", buf);
      if (exists(out))
        return 0;
    }
  }
  if (dladdr((void *)helper_path, &info) && info.dli_fname) {
    snprintf(buf, sizeof buf, "%s", info.dli_fname);
    if ((slash = strrchr(buf, '/'))) {
      *slash = '\0';
      snprintf(out, size, "%s/../luvirt-admin-helper", buf);
      if (exists(out))
        return 0;
    }
  }
#ifdef LUVIRT_DATADIR
  snprintf(out, size, "%s/../../libexec/luvirt/luvirt-admin-helper", LUVIRT_DATADIR);
  if (exists(out))
    return 0;
#endif
  return -1;
}

/* Start a helper; NULL with a Lua error raised on failure. */
static aconn *spawn_helper(lua_State *L)
{
  char path[PATH_MAX];
  int in[2], outp[2], note[2];
  pid_t pid;
  aconn *c;
  if (helper_path(path, sizeof path) < 0)
    lv_error_raisef(L, VIR_ERR_INTERNAL_ERROR,
                    "luvirt-admin-helper not found (build it with make, or set LUVIRT_ADMIN_HELPER)");
  if (pipe2(in, O_CLOEXEC) < 0)
    lv_error_raisef(L, VIR_ERR_SYSTEM_ERROR, "cannot make a pipe: %s", strerror(errno));
  if (pipe2(outp, O_CLOEXEC) < 0) {
    close(in[0]); close(in[1]);
    lv_error_raisef(L, VIR_ERR_SYSTEM_ERROR, "cannot make a pipe: %s", strerror(errno));
  }
  if (pipe2(note, O_CLOEXEC) < 0) {
    close(in[0]); close(in[1]); close(outp[0]); close(outp[1]);
    lv_error_raisef(L, VIR_ERR_SYSTEM_ERROR, "cannot make a pipe: %s", strerror(errno));
  }
  pid = fork();
  if (pid == 0) {
    /* the child only rearranges descriptors and execs */
    dup2(in[0], 0);
    dup2(outp[1], 1);
    dup2(note[1], 3);
    execl(path, "luvirt-admin-helper", (char *)NULL);
    _exit(127);
  }
  close(in[0]);
  close(outp[1]);
  close(note[1]);
  if (pid < 0) {
    close(in[1]); close(outp[0]); close(note[0]);
    lv_error_raisef(L, VIR_ERR_SYSTEM_ERROR, "cannot start %s: %s", path, strerror(errno));
  }
  c = calloc(1, sizeof *c);
  if (!c) {
    close(in[1]); close(outp[0]); close(note[0]);
    kill(pid, SIGTERM);
    waitpid(pid, NULL, 0);
    luaL_error(L, "not enough memory");
  }
  atomic_init(&c->refs, 1);
  uv_mutex_init(&c->m);
  c->pid = pid;
  c->to = in[1];
  c->from = outp[0];
  c->notify = note[0];
  c->watch = -1;
  return c;
}

/* ------------------------------------------------------ requests */

/* Arguments after the receiver: 's' string, 'S' string or nil, 'u'
 * unsigned int, 'U' unsigned 64-bit, 'f' flags (may be omitted), 'p' a
 * typed-parameter table whose types come from the `types` operation. */
typedef struct aop {
  const char *op;           /* helper operation */
  const char *args;
  const lv_class *self;     /* receiver class */
  const lv_class *handles;  /* class of returned handles */
  const char *types;        /* getter for 'p' */
} aop;

struct a_call {
  lv_job job;
  const aop *op;
  aconn *c;
  uint64_t self;            /* handle of the receiver, 0 for a Connect */
  aw_buf req, rep;
  lv_tpin in;
  int has_params;
  uint64_t flags;
};

static int exchange(aconn *c, aw_buf *req, aw_buf *rep)
{
  return aw_send(c->to, req) < 0 || aw_recv(c->from, rep) < 0 ? -1 : 0;
}

/* A reply error or a dead helper, as this job's error. */
static int call_fail(lv_job *j, int code, int domain, const char *msg)
{
  lv_error_clear(&j->err);
  j->err.code = code;
  j->err.domain = domain;
  j->err.level = VIR_ERR_ERROR;
  j->err.message = strdup(msg);
  j->failed = 1;
  return 0;                 /* keep this error rather than libvirt's last */
}

static int reply_status(lv_job *j, aw_buf *rep)
{
  if (aw_peek(rep) == 'e') {
    uint32_t code = VIR_ERR_INTERNAL_ERROR, domain = VIR_FROM_ADMIN;
    char *msg = NULL;
    rep->pos++;
    aw_getu32(rep, &code);
    aw_getu32(rep, &domain);
    aw_getstr(rep, &msg);
    call_fail(j, (int)code, (int)domain, msg ? msg : "admin call failed");
    free(msg);
    return -1;
  }
  return 0;
}

static int w_call(lv_job *j)
{
  struct a_call *a = (struct a_call *)j;
  aconn *c = a->c;
  int r = 0;
  uv_mutex_lock(&c->m);
  if (a->has_params) {
    /* learn each name's type from the getter, as the other setters do */
    aw_buf q = {0}, t = {0};
    virTypedParameterPtr known = NULL, params = NULL;
    int nknown = 0, n = 0;
    aw_str(&q, a->op->types);
    aw_handle(&q, a->self);
    aw_uint(&q, 0);
    if (exchange(c, &q, &t) < 0)
      r = call_fail(j, VIR_ERR_INTERNAL_ERROR, VIR_FROM_ADMIN, "the admin helper has exited");
    else if (reply_status(j, &t) == 0) {
      if (aw_getparams(&t, &known, &nknown) < 0)
        r = call_fail(j, VIR_ERR_INTERNAL_ERROR, VIR_FROM_ADMIN, "bad reply from the admin helper");
      else if (lv_tpin_build(j, &a->in, known, nknown, NULL, &params, &n) == 0) {
        aw_str(&a->req, a->op->op);
        aw_handle(&a->req, a->self);
        aw_params(&a->req, params, n);
        aw_uint(&a->req, a->flags);
      }
    }
    virTypedParamsFree(known, nknown);
    virTypedParamsFree(params, n);
    aw_free(&q);
    aw_free(&t);
    if (j->failed) {
      uv_mutex_unlock(&c->m);
      return 0;
    }
  }
  if (exchange(c, &a->req, &a->rep) < 0)
    r = call_fail(j, VIR_ERR_INTERNAL_ERROR, VIR_FROM_ADMIN, "the admin helper has exited");
  else
    reply_status(j, &a->rep);
  uv_mutex_unlock(&c->m);
  return r;
}

static void push_handle(lua_State *L, struct a_call *a, uint64_t id)
{
  ahandle *h = calloc(1, sizeof *h);
  if (!h)
    luaL_error(L, "not enough memory");
  atomic_init(&h->refs, 1);
  h->c = a->c;
  h->id = id;
  conn_ref(a->c);
  lv_obj_push(L, a->op->handles, h, 1);
}

static int push_value(lua_State *L, struct a_call *a)
{
  aw_buf *b = &a->rep;
  uint64_t v;
  uint32_t n, i;
  char *s;
  switch (aw_peek(b)) {
  case 'n': b->pos++; lua_pushnil(L); return 0;
  case 'i': if (aw_getnum(b, 'i', &v) < 0) return -1; lua_pushinteger(L, (lua_Integer)v); return 0;
  case 'u': if (aw_getnum(b, 'u', &v) < 0) return -1; lv_push_uint64(L, v); return 0;
  case 'h': if (aw_getnum(b, 'h', &v) < 0) return -1; push_handle(L, a, v); return 0;
  case 'b': {
    unsigned char x;
    b->pos++;
    if (aw_get(b, &x, 1) < 0) return -1;
    lua_pushboolean(L, x);
    return 0;
  }
  case 's':
    if (aw_getstr(b, &s) < 0) return -1;
    lua_pushstring(L, s);
    free(s);
    return 0;
  case 'p': {
    virTypedParameterPtr p;
    int np;
    if (aw_getparams(b, &p, &np) < 0) return -1;
    lv_tp_push(L, p, np);
    virTypedParamsFree(p, np);
    return 0;
  }
  case 'l':
    b->pos++;
    if (aw_getu32(b, &n) < 0) return -1;
    lua_createtable(L, (int)n, 0);
    for (i = 0; i < n; i++) {
      if (push_value(L, a) < 0) return -1;
      lua_rawseti(L, -2, (lua_Integer)i + 1);
    }
    return 0;
  }
  return -1;
}

static int p_call(lua_State *L, lv_job *j)
{
  struct a_call *a = (struct a_call *)j;
  int n = 0;
  while (a->rep.pos < a->rep.len) {
    luaL_checkstack(L, 2, NULL);
    if (push_value(L, a) < 0)
      return luaL_error(L, "bad reply from the admin helper");
    n++;
  }
  return n;
}

static void f_call(lv_job *j)
{
  struct a_call *a = (struct a_call *)j;
  aw_free(&a->req);
  aw_free(&a->rep);
  if (a->c)
    conn_free(a->c);
  a->c = NULL;
}

static int admin_call(lua_State *L, const aop *op)
{
  const char *p;
  int i = 2;
  LV_JOB_DECL(struct a_call, a, w_call, p_call);
  a.job.fini = f_call;
  a.op = op;
  /* the helper, not a libvirt object, is what the call needs alive: it is
   * referenced here and released by fini */
  if (op->self == &lv_admconnect_class)
    a.c = lv_obj_check(L, 1, op->self);
  else {
    ahandle *h = lv_obj_check(L, 1, op->self);
    a.c = h->c;
    a.self = h->id;
  }
  conn_ref(a.c);
  if (!op->types) {
    aw_str(&a.req, op->op);
    if (op->self != &lv_admconnect_class)
      aw_handle(&a.req, a.self);
  }
  for (p = op->args; *p; p++, i++) {
    switch (*p) {
    case 's': aw_str(&a.req, luaL_checkstring(L, i)); break;
    case 'S': aw_str(&a.req, luaL_optstring(L, i, NULL)); break;
    case 'u': {
      lua_Integer v = luaL_checkinteger(L, i);
      luaL_argcheck(L, v >= 0 && v <= (lua_Integer)UINT_MAX, i, "value out of range");
      aw_uint(&a.req, (uint64_t)v);
      break;
    }
    case 'U': aw_uint(&a.req, lv_check_uint64(L, i)); break;
    case 'f':
      a.flags = lv_optflags(L, i);
      if (!op->types)
        aw_uint(&a.req, a.flags);
      break;
    case 'p': a.has_params = i; break;
    }
  }
  if (a.has_params)
    lv_tpin_check(L, a.has_params, &a.in);   /* pushes: after the other arguments */
  if (a.req.oom) {
    f_call(&a.job);
    return luaL_error(L, "not enough memory");
  }
  return lv_job_run(L, &a.job);
}

#define C &lv_admconnect_class
#define SRV &lv_admserver_class
#define CLI &lv_admclient_class
static const aop
  o_is_alive = {"is_alive", "", C, NULL, NULL},
  o_get_uri = {"get_uri", "", C, NULL, NULL},
  o_get_lib_version = {"get_lib_version", "", C, NULL, NULL},
  o_list_servers = {"list_servers", "f", C, SRV, NULL},
  o_lookup_server = {"lookup_server", "sf", C, SRV, NULL},
  o_get_logging_filters = {"get_logging_filters", "f", C, NULL, NULL},
  o_get_logging_outputs = {"get_logging_outputs", "f", C, NULL, NULL},
  o_set_logging_filters = {"set_logging_filters", "Sf", C, NULL, NULL},
  o_set_logging_outputs = {"set_logging_outputs", "Sf", C, NULL, NULL},
  o_set_daemon_timeout = {"set_daemon_timeout", "uf", C, NULL, NULL},
  o_get_name = {"server_get_name", "", SRV, NULL, NULL},
  o_list_clients = {"server_list_clients", "f", SRV, CLI, NULL},
  o_lookup_client = {"server_lookup_client", "Uf", SRV, CLI, NULL},
  o_get_threadpool = {"server_get_threadpool", "f", SRV, NULL, NULL},
  o_set_threadpool = {"server_set_threadpool", "pf", SRV, NULL, "server_get_threadpool"},
  o_get_limits = {"server_get_client_limits", "f", SRV, NULL, NULL},
  o_set_limits = {"server_set_client_limits", "pf", SRV, NULL, "server_get_client_limits"},
  o_update_tls = {"server_update_tls_files", "f", SRV, NULL, NULL},
  o_get_id = {"client_get_id", "", CLI, NULL, NULL},
  o_get_timestamp = {"client_get_timestamp", "", CLI, NULL, NULL},
  o_get_transport = {"client_get_transport", "", CLI, NULL, NULL},
  o_get_info = {"client_get_info", "f", CLI, NULL, NULL},
  o_client_close = {"client_close", "f", CLI, NULL, NULL};
#undef C
#undef SRV
#undef CLI

#define METHOD(name) static int m_##name(lua_State *L) { return admin_call(L, &o_##name); }
METHOD(is_alive)
METHOD(get_uri)
METHOD(get_lib_version)
METHOD(list_servers)
METHOD(lookup_server)
METHOD(get_logging_filters)
METHOD(get_logging_outputs)
METHOD(set_logging_filters)
METHOD(set_logging_outputs)
METHOD(set_daemon_timeout)
METHOD(get_name)
METHOD(list_clients)
METHOD(lookup_client)
METHOD(get_threadpool)
METHOD(set_threadpool)
METHOD(get_limits)
METHOD(set_limits)
METHOD(update_tls)
METHOD(get_id)
METHOD(get_timestamp)
METHOD(get_transport)
METHOD(get_info)
METHOD(client_close)
#undef METHOD

/* --------------------------------------------------------------- open */

struct a_open {
  lv_job job;
  aconn *c;
  aw_buf req, rep;
  int version;
};

static int w_open(lv_job *j)
{
  struct a_open *a = (struct a_open *)j;
  if (exchange(a->c, &a->req, &a->rep) < 0)
    return call_fail(j, VIR_ERR_INTERNAL_ERROR, VIR_FROM_ADMIN, "the admin helper has exited");
  reply_status(j, &a->rep);
  return 0;
}

static int p_open(lua_State *L, lv_job *j)
{
  struct a_open *a = (struct a_open *)j;
  uint64_t v;
  if (a->version) {
    if (aw_getnum(&a->rep, 'u', &v) < 0)
      return luaL_error(L, "bad reply from the admin helper");
    lv_push_uint64(L, v);
    return 1;
  }
  lv_obj_push(L, &lv_admconnect_class, a->c, 0);
  a->c = NULL;
  return 1;
}

static void f_open(lv_job *j)
{
  struct a_open *a = (struct a_open *)j;
  aw_free(&a->req);
  aw_free(&a->rep);
  if (a->c)
    conn_free(a->c);
}

static int start(lua_State *L, int version)
{
  LV_JOB_DECL(struct a_open, a, w_open, p_open);
  a.job.fini = f_open;
  a.version = version;
  if (version)
    aw_str(&a.req, "version");
  else {
    aw_str(&a.req, "open");
    aw_str(&a.req, luaL_optstring(L, 1, NULL));
    aw_uint(&a.req, lv_optflags(L, 2));
  }
  a.c = spawn_helper(L);
  return lv_job_run(L, &a.job);
}

/* virt.admin.open(uri=nil, flags=0) -> admin.Connect; uri nil: the local
 * libvirtd's admin socket, e.g. "libvirtd:///system?socket=/run/...". */
static int l_open(lua_State *L) { return start(L, 0); }
/* virt.admin.get_version() -> the libvirt-admin library's version */
static int l_get_version(lua_State *L) { return start(L, 1); }

/* conn:close(): drop this connection now (its servers and clients keep
 * the helper until they go too). */
static int c_close(lua_State *L)
{
  lv_obj_release(lv_obj_checkany(L, 1, &lv_admconnect_class));
  return 0;
}

/* obj:free() for servers and clients */
static int h_release(lua_State *L)
{
  lv_obj *o = lv_obj_test(L, 1, &lv_admserver_class);
  if (!o)
    o = lv_obj_checkany(L, 1, &lv_admclient_class);
  lv_obj_release(o);
  return 0;
}

/* ------------------------------------------------------- close callback */

static void on_notify(int watch, int fd, int events, void *opaque)
{
  aconn *c = opaque;
  unsigned char x[4];
  lv_args a = LV_ARGS_INIT;
  (void)watch;
  if (!(events & VIR_EVENT_HANDLE_READABLE) || aw_read_all(fd, x, 4) < 0) {
    virEventUpdateHandle(c->watch, 0);        /* the helper is gone */
    return;
  }
  if (!c->close_cb)
    return;
  lv_arg_int(&a, x[0] | x[1] << 8);
  lv_cb_deliver(c->close_cb, &a, "an admin close callback");
}

static int simple(lua_State *L, aconn *c, const char *op)
{
  aw_buf req = {0}, rep = {0};
  lv_job j;
  int r;
  lv_job_init(&j, sizeof j, NULL, NULL);
  aw_str(&req, op);
  uv_mutex_lock(&c->m);
  r = exchange(c, &req, &rep);
  uv_mutex_unlock(&c->m);
  if (r < 0)
    call_fail(&j, VIR_ERR_INTERNAL_ERROR, VIR_FROM_ADMIN, "the admin helper has exited");
  else
    reply_status(&j, &rep);
  aw_free(&req);
  aw_free(&rep);
  return j.failed ? lv_error_raise(L, &j.err) : 0;
}

/* conn:register_close_callback(fn): fn(conn, reason) when the daemon goes
 * away; one per connection, as in libvirt.  The helper's request is a
 * local round trip, made inline. */
static int c_register_close_callback(lua_State *L)
{
  aconn *c = lv_obj_check(L, 1, &lv_admconnect_class);
  luaL_checktype(L, 2, LUA_TFUNCTION);
  if (c->close_cb)
    return lv_error_raisef(L, VIR_ERR_OPERATION_INVALID, "a close callback is already registered");
  simple(L, c, "register_close");
  c->close_cb = lv_cb_new(L, 2, 1, 0);
  if (c->watch < 0)
    c->watch = virEventAddHandle(c->notify, VIR_EVENT_HANDLE_READABLE, on_notify, c, NULL);
  return 0;
}

static int c_unregister_close_callback(lua_State *L)
{
  aconn *c = lv_obj_check(L, 1, &lv_admconnect_class);
  if (!c->close_cb)
    return lv_error_raisef(L, VIR_ERR_OPERATION_INVALID, "no close callback is registered");
  simple(L, c, "unregister_close");
  lv_cb_free(c->close_cb);
  c->close_cb = NULL;
  return 0;
}

int luaopen_virt_admin(lua_State *L)
{
  static const luaL_Reg conn_methods[] = {
    {"close", c_close},                                   /* virAdmConnectClose */
    {"is_alive", m_is_alive},                             /* virAdmConnectIsAlive */
    {"get_uri", m_get_uri},                               /* virAdmConnectGetURI */
    {"get_lib_version", m_get_lib_version},               /* virAdmConnectGetLibVersion */
    {"list_servers", m_list_servers},                     /* virAdmConnectListServers */
    {"lookup_server", m_lookup_server},                   /* virAdmConnectLookupServer */
    {"get_logging_filters", m_get_logging_filters},       /* virAdmConnectGetLoggingFilters */
    {"get_logging_outputs", m_get_logging_outputs},       /* virAdmConnectGetLoggingOutputs */
    {"set_logging_filters", m_set_logging_filters},       /* virAdmConnectSetLoggingFilters */
    {"set_logging_outputs", m_set_logging_outputs},       /* virAdmConnectSetLoggingOutputs */
    {"set_daemon_timeout", m_set_daemon_timeout},         /* virAdmConnectSetDaemonTimeout */
    {"register_close_callback", c_register_close_callback},     /* virAdmConnectRegisterCloseCallback */
    {"unregister_close_callback", c_unregister_close_callback}, /* virAdmConnectUnregisterCloseCallback */
    {NULL, NULL}};
  static const luaL_Reg srv_methods[] = {
    {"get_name", m_get_name},                             /* virAdmServerGetName */
    {"list_clients", m_list_clients},                     /* virAdmServerListClients */
    {"lookup_client", m_lookup_client},                   /* virAdmServerLookupClient */
    {"get_threadpool_parameters", m_get_threadpool},      /* virAdmServerGetThreadPoolParameters */
    {"set_threadpool_parameters", m_set_threadpool},      /* virAdmServerSetThreadPoolParameters */
    {"get_client_limits", m_get_limits},                  /* virAdmServerGetClientLimits */
    {"set_client_limits", m_set_limits},                  /* virAdmServerSetClientLimits */
    {"update_tls_files", m_update_tls},                   /* virAdmServerUpdateTlsFiles */
    {"free", h_release},                                  /* virAdmServerFree */
    {NULL, NULL}};
  static const luaL_Reg cli_methods[] = {
    {"get_id", m_get_id},                                 /* virAdmClientGetID */
    {"get_timestamp", m_get_timestamp},                   /* virAdmClientGetTimestamp */
    {"get_transport", m_get_transport},                   /* virAdmClientGetTransport */
    {"get_info", m_get_info},                             /* virAdmClientGetInfo */
    {"close", m_client_close},                            /* virAdmClientClose */
    {"free", h_release},                                  /* virAdmClientFree */
    {NULL, NULL}};
  static const luaL_Reg functions[] = {
    {"open", l_open},                                     /* virAdmConnectOpen */
    {"get_version", l_get_version},                       /* virAdmGetVersion */
    {NULL, NULL}};
  lua_newtable(L);
  luaL_setfuncs(L, functions, 0);
  lv_class_new(L, &lv_admconnect_class, conn_methods);
  lua_setfield(L, -2, "Connect");
  lv_class_new(L, &lv_admserver_class, srv_methods);
  lua_setfield(L, -2, "Server");
  lv_class_new(L, &lv_admclient_class, cli_methods);
  lua_setfield(L, -2, "Client");
  lua_setfield(L, -2, "admin");
  return 0;
}
