/*
 * luvirt-admin-helper: runs the libvirt-admin API for host/admin.c.
 *
 * libvirt 9.0's libvirt-admin and libvirt cannot initialize in the same
 * process (both register the same GObject type names), so each
 * virt.admin.Connect talks to one of these, linked to libvirt-admin only,
 * over its stdin/stdout (messages in adminwire.h).  Close notifications of
 * the admin connection go to fd 3 as 4-byte reasons.
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <libvirt/libvirt-admin.h>
#include <libvirt/virterror.h>
#include "adminwire.h"

enum { H_SERVER = 1, H_CLIENT = 2 };
static struct handle { int kind; void *ptr; } *handles;
static size_t nhandles;
static virAdmConnectPtr conn;

static uint64_t put_handle(int kind, void *ptr)
{
  size_t i;
  for (i = 0; i < nhandles; i++)
    if (!handles[i].ptr)
      break;
  if (i == nhandles) {
    struct handle *h = realloc(handles, (nhandles + 16) * sizeof *h);
    if (!h)
      return 0;
    memset(h + nhandles, 0, 16 * sizeof *h);
    handles = h;
    nhandles += 16;
  }
  handles[i].kind = kind;
  handles[i].ptr = ptr;
  return i + 1;
}

static void *get_handle(uint64_t id, int kind)
{
  if (id == 0 || id > nhandles || handles[id - 1].kind != kind)
    return NULL;
  return handles[id - 1].ptr;
}

static void drop_handle(uint64_t id)
{
  struct handle *h;
  if (id == 0 || id > nhandles)
    return;
  h = &handles[id - 1];
  if (h->kind == H_SERVER && h->ptr)
    virAdmServerFree(h->ptr);
  else if (h->kind == H_CLIENT && h->ptr)
    virAdmClientFree(h->ptr);
  h->ptr = NULL;
  h->kind = 0;
}

static void reply_error(aw_buf *out)
{
  virErrorPtr e = virGetLastError();
  aw_free(out);
  if (e)
    aw_error(out, e->code, e->domain, e->message);
  else
    aw_error(out, VIR_ERR_INTERNAL_ERROR, VIR_FROM_ADMIN, "libvirt-admin call failed without an error");
  virResetLastError();
}

static void reply_bad(aw_buf *out, const char *what)
{
  aw_free(out);
  aw_error(out, VIR_ERR_INVALID_ARG, VIR_FROM_ADMIN, what);
}

/* ------------------------------------------------------ close events */

static int notify_fd = -1;
static volatile int registered;

/* libvirt drops the callback once it has fired: so do we. */
static void on_close(virAdmConnectPtr c, int reason, void *opaque)
{
  unsigned char x[4] = {reason & 0xff, (reason >> 8) & 0xff, 0, 0};
  (void)c;
  (void)opaque;
  registered = 0;
  if (notify_fd >= 0)
    aw_write_all(notify_fd, x, 4);
}

static void *event_thread(void *arg)
{
  (void)arg;
  for (;;)
    if (virEventRunDefaultImpl() < 0)
      break;
  return NULL;
}

/* ----------------------------------------------------------- requests */

#define ARG_STR(v) if (aw_getstr(in, &(v)) < 0) goto bad
#define ARG_U(v)   if (aw_getnum(in, 'u', &(v)) < 0) goto bad
#define ARG_H(v)   if (aw_getnum(in, 'h', &(v)) < 0) goto bad

static void push_list(aw_buf *out, int kind, void **v, int n)
{
  int i;
  aw_list(out, (uint32_t)n);
  for (i = 0; i < n; i++)
    aw_handle(out, put_handle(kind, v[i]));
  free(v);
}

static void handle(const char *op, aw_buf *in, aw_buf *out)
{
  char *s = NULL;
  uint64_t h = 0, u = 0, flags = 0;
  virTypedParameterPtr params = NULL;
  int n = 0;

  if (!strcmp(op, "is_alive")) {
    int r = virAdmConnectIsAlive(conn);
    if (r < 0) goto fail;
    aw_bool(out, r);
  } else if (!strcmp(op, "get_uri")) {
    if (!(s = virAdmConnectGetURI(conn))) goto fail;
    aw_str(out, s);
  } else if (!strcmp(op, "get_lib_version")) {
    unsigned long long v;
    if (virAdmConnectGetLibVersion(conn, &v) < 0) goto fail;
    aw_uint(out, v);
  } else if (!strcmp(op, "list_servers")) {
    virAdmServerPtr *v = NULL;
    ARG_U(flags);
    if ((n = virAdmConnectListServers(conn, &v, (unsigned int)flags)) < 0) goto fail;
    push_list(out, H_SERVER, (void **)v, n);
  } else if (!strcmp(op, "lookup_server")) {
    virAdmServerPtr srv;
    ARG_STR(s); ARG_U(flags);
    if (!s) goto bad;
    if (!(srv = virAdmConnectLookupServer(conn, s, (unsigned int)flags))) goto fail;
    aw_handle(out, put_handle(H_SERVER, srv));
  } else if (!strcmp(op, "get_logging_filters") || !strcmp(op, "get_logging_outputs")) {
    ARG_U(flags);
    n = op[12] == 'f' ? virAdmConnectGetLoggingFilters(conn, &s, (unsigned int)flags)
                      : virAdmConnectGetLoggingOutputs(conn, &s, (unsigned int)flags);
    if (n < 0) goto fail;
    aw_str(out, s);
    aw_int(out, n);
  } else if (!strcmp(op, "set_logging_filters") || !strcmp(op, "set_logging_outputs")) {
    ARG_STR(s); ARG_U(flags);
    n = op[12] == 'f' ? virAdmConnectSetLoggingFilters(conn, s, (unsigned int)flags)
                      : virAdmConnectSetLoggingOutputs(conn, s, (unsigned int)flags);
    if (n < 0) goto fail;
  } else if (!strcmp(op, "set_daemon_timeout")) {
    ARG_U(u); ARG_U(flags);
    if (virAdmConnectSetDaemonTimeout(conn, (unsigned int)u, (unsigned int)flags) < 0) goto fail;
  } else if (!strcmp(op, "register_close")) {
    if (virAdmConnectRegisterCloseCallback(conn, on_close, NULL, NULL) < 0) goto fail;
    registered = 1;
  } else if (!strcmp(op, "unregister_close")) {
    if (registered && virAdmConnectUnregisterCloseCallback(conn, on_close) < 0) goto fail;
    registered = 0;
  } else if (!strcmp(op, "free")) {
    ARG_H(h);
    drop_handle(h);
  } else if (!strncmp(op, "server_", 7)) {
    virAdmServerPtr srv;
    ARG_H(h);
    if (!(srv = get_handle(h, H_SERVER))) goto bad;
    op += 7;
    if (!strcmp(op, "get_name")) {
      aw_str(out, virAdmServerGetName(srv));
    } else if (!strcmp(op, "list_clients")) {
      virAdmClientPtr *v = NULL;
      ARG_U(flags);
      if ((n = virAdmServerListClients(srv, &v, (unsigned int)flags)) < 0) goto fail;
      push_list(out, H_CLIENT, (void **)v, n);
    } else if (!strcmp(op, "lookup_client")) {
      virAdmClientPtr cl;
      ARG_U(u); ARG_U(flags);
      if (!(cl = virAdmServerLookupClient(srv, u, (unsigned int)flags))) goto fail;
      aw_handle(out, put_handle(H_CLIENT, cl));
    } else if (!strcmp(op, "get_threadpool") || !strcmp(op, "get_client_limits")) {
      ARG_U(flags);
      n = 0;
      if ((op[4] == 't' ? virAdmServerGetThreadPoolParameters(srv, &params, &n, (unsigned int)flags)
                        : virAdmServerGetClientLimits(srv, &params, &n, (unsigned int)flags)) < 0)
        goto fail;
      aw_params(out, params, n);
    } else if (!strcmp(op, "set_threadpool") || !strcmp(op, "set_client_limits")) {
      if (aw_getparams(in, &params, &n) < 0) goto bad;
      ARG_U(flags);
      if ((op[4] == 't' ? virAdmServerSetThreadPoolParameters(srv, params, n, (unsigned int)flags)
                        : virAdmServerSetClientLimits(srv, params, n, (unsigned int)flags)) < 0)
        goto fail;
    } else if (!strcmp(op, "update_tls_files")) {
      ARG_U(flags);
      if (virAdmServerUpdateTlsFiles(srv, (unsigned int)flags) < 0) goto fail;
    } else
      goto unknown;
  } else if (!strncmp(op, "client_", 7)) {
    virAdmClientPtr cl;
    ARG_H(h);
    if (!(cl = get_handle(h, H_CLIENT))) goto bad;
    op += 7;
    if (!strcmp(op, "get_id")) {
      aw_uint(out, virAdmClientGetID(cl));
    } else if (!strcmp(op, "get_timestamp")) {
      long long t = virAdmClientGetTimestamp(cl);
      if (t < 0) goto fail;
      aw_int(out, t);
    } else if (!strcmp(op, "get_transport")) {
      int t = virAdmClientGetTransport(cl);
      if (t < 0) goto fail;
      aw_int(out, t);
    } else if (!strcmp(op, "get_info")) {
      ARG_U(flags);
      if (virAdmClientGetInfo(cl, &params, &n, (unsigned int)flags) < 0) goto fail;
      aw_params(out, params, n);
    } else if (!strcmp(op, "close")) {
      ARG_U(flags);
      if (virAdmClientClose(cl, (unsigned int)flags) < 0) goto fail;
    } else
      goto unknown;
  } else
    goto unknown;
  goto done;
 unknown:
  reply_bad(out, "luvirt-admin-helper: unknown operation");
  goto done;
 bad:
  reply_bad(out, "luvirt-admin-helper: malformed request or unknown handle");
  goto done;
 fail:
  reply_error(out);
 done:
  free(s);
  if (params)
    virTypedParamsFree(params, n);
}

/* errors travel back in replies; libvirt's default handler would print */
static void quiet(void *ud, virErrorPtr e)
{
  (void)ud;
  (void)e;
}

int main(int argc, char **argv)
{
  aw_buf in = {0}, out = {0};
  char *op = NULL, *uri = NULL;
  uint64_t flags = 0;
  pthread_t tid;
  (void)argc;
  (void)argv;
  signal(SIGPIPE, SIG_IGN);
  virSetErrorFunc(NULL, quiet);
  /* fd 3, when given, carries close notifications */
  if (write(3, "", 0) == 0)
    notify_fd = 3;
  /* the first request: "open" uri flags, or "version" */
  if (aw_recv(0, &in) < 0 || aw_getstr(&in, &op) < 0 || !op)
    return 1;
  if (!strcmp(op, "version")) {
    unsigned long long v;
    if (virAdmGetVersion(&v) < 0)
      reply_error(&out);
    else
      aw_uint(&out, v);
    return aw_send(1, &out) < 0;
  }
  if (strcmp(op, "open") || aw_getstr(&in, &uri) < 0 || aw_getnum(&in, 'u', &flags) < 0)
    return 1;
  if (virEventRegisterDefaultImpl() < 0 || pthread_create(&tid, NULL, event_thread, NULL) != 0) {
    reply_error(&out);
    aw_send(1, &out);
    return 1;
  }
  conn = virAdmConnectOpen(uri, (unsigned int)flags);
  if (!conn) {
    reply_error(&out);
    aw_send(1, &out);
    return 1;
  }
  aw_bool(&out, 1);
  if (aw_send(1, &out) < 0)
    return 1;
  /* until the parent closes our stdin */
  for (;;) {
    free(op);
    op = NULL;
    aw_free(&out);
    if (aw_recv(0, &in) < 0 || aw_getstr(&in, &op) < 0 || !op)
      break;
    if (!strcmp(op, "quit"))
      break;
    handle(op, &in, &out);
    if (!strcmp(op, "free"))
      continue;               /* no reply: sent from garbage collection */
    if (aw_send(1, &out) < 0)
      break;
  }
  if (registered)
    virAdmConnectUnregisterCloseCallback(conn, on_close);
  virAdmConnectClose(conn);
  return 0;
}
