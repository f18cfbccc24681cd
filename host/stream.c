/*
 * stream.c: virt.Stream (virStream*): the data channel behind consoles,
 * screenshots and volume transfers, and the Domain methods that open one.
 *
 * How a stream stays off the loop thread's back:
 *  - recv never blocks the loop: a NONBLOCK stream answers -2 at once; a
 *    blocking stream inside a task first waits for libvirt's READABLE event
 *    (the data is then queued in the client, so the call returns without
 *    I/O), so an idle console costs no worker thread;
 *  - send, send_hole, finish and abort may do RPC I/O, so inside a task they
 *    run on a worker (lv_job);
 *  - one libvirt event callback per stream (the "dispatcher") serves both
 *    the script's add_callback function and the tasks waiting in read, write
 *    and recv; its mask is the union of what they want.  libvirt's remote
 *    driver fires a stream timer every loop iteration while data or EOF is
 *    pending and READABLE is in the mask, so the mask drops a bit as soon as
 *    nobody wants it;
 *  - libvirt frees a remote stream's state while another thread may still be
 *    inside a send on it, so finish/abort never overlap a call in flight on
 *    the same stream: finish refuses, abort is deferred until the call ends;
 *  - the one thing done on the loop thread that may wait on a device is
 *    copy_to's file write (_recv_to): libvirt's client queues incoming
 *    stream data without limit while the loop runs, and not running it
 *    while the disk is busy is the only back-pressure the daemon feels.
 *
 * The whole-transfer helpers (recv_all, send_all, sparse_*, copy_to,
 * copy_from) and read/write live in lua/virt/stream.lua; the entries below
 * load them, so the C names stay listed here next to their methods.
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include "lv.h"

#define STREAMS_KEY "luvirt.streams"      /* lv_stream* -> userdata, weak */
#define SUSPEND_KEY "luvirt.stream.suspend"
#define WAKE_KEY "luvirt.stream.wake"
#define CURRENT_KEY "luvirt.stream.current"

/* The largest single recv/send: one Lua string per call, so bounded. */
#define MAX_CHUNK (64 * 1024 * 1024)
/* A bigger receive buffer is given back after use (bulk reads are 4 MiB). */
#define KEEP_BUF (8 * 1024 * 1024)
/* The largest string _recv_bulk hands out: a full RPC stream message
 * (libvirt's payload limit is 262120 bytes), what virStreamRecvAll gives
 * its handler. */
#define BULK_SLICE (256 * 1024)

#define EV_ALL (VIR_STREAM_EVENT_READABLE | VIR_STREAM_EVENT_WRITABLE | \
                VIR_STREAM_EVENT_ERROR | VIR_STREAM_EVENT_HANGUP)
#define EV_TROUBLE (VIR_STREAM_EVENT_ERROR | VIR_STREAM_EVENT_HANGUP)

enum { ST_OPEN, ST_FINISHED, ST_ABORTED };
static const char *const state_names[] = {"open", "finished", "aborted"};

typedef struct sdisp sdisp;

typedef struct waiter {
  int task;                     /* registry ref of the waiting task */
  int mask;
} waiter;

typedef struct lv_stream {
  lv_obj obj;
  int nonblock;
  int state;
  int busy;                     /* calls in flight on workers */
  virStreamPtr pending_abort;   /* abort asked for while busy (referenced) */
  int readable;                 /* READABLE seen since the last recv */
  int eof;                      /* a recv returned 0 */
  sdisp *disp;                  /* registered with libvirt, or NULL */
  int cur_events;               /* the mask libvirt has */
  int user_events;              /* add_callback's mask; -1: none */
  int user_fn;                  /* registry refs while add_callback holds */
  int user_self;                /*   the stream alive, as Sys::Virt does */
  waiter *w;
  int nw, capw;
  int sync_mask, sync_got;      /* a wait outside any task */
  virConnectPtr conn;           /* the stream holds a reference to it */
  uv_timer_t *alive;            /* while anyone waits: is conn still open? */
  int dead;                     /* conn closed under the stream */
  char *buf;
  size_t bufsize;
  char *bulk;                   /* _recv_bulk's buffer, kept between reads */
  size_t bulksize, bulkoff, bulklen;   /* capacity; unread bytes: off..len */
} lv_stream;

/* The opaque given to libvirt.  It outlives the stream's own knowledge of
 * it (libvirt frees it through disp_free, possibly after a dispatch), so it
 * only points back while registered. */
struct sdisp {
  lv_stream *s;
};

static int stream_ref(void *p) { return virStreamRef(p); }
static int stream_free(void *p) { return virStreamFree(p); }

const lv_class lv_stream_class = {
  .tname = "virt.Stream", .size = sizeof(lv_stream), .label = "Stream",
  .ref = stream_ref, .free = stream_free};

/* ------------------------------------------------------------ checking */

static lv_stream *check_any(lua_State *L, int idx)
{
  return (lv_stream *)lv_obj_checkany(L, idx, &lv_stream_class);
}

static int raise_state(lua_State *L, lv_stream *s)
{
  if (!s->obj.ptr)
    return luaL_error(L, "attempt to use a freed Stream");
  return lv_error_raisef(L, VIR_ERR_OPERATION_INVALID, "the stream is %s",
                         state_names[s->state]);
}

static lv_stream *check_open(lua_State *L, int idx)
{
  lv_stream *s = check_any(L, idx);
  if (!s->obj.ptr || s->state != ST_OPEN)
    raise_state(L, s);
  return s;
}

virStreamPtr lv_stream_check(lua_State *L, int idx)
{
  return check_open(L, idx)->obj.ptr;
}

static void push_stream(lua_State *L, lv_stream *s)
{
  lua_getfield(L, LUA_REGISTRYINDEX, STREAMS_KEY);
  lua_rawgetp(L, -1, s);
  lua_remove(L, -2);
}

static size_t check_count(lua_State *L, int idx, lua_Integer dflt)
{
  lua_Integer n = luaL_optinteger(L, idx, dflt);
  luaL_argcheck(L, n > 0 && n <= MAX_CHUNK, idx, "byte count must be 1..64 MiB");
  return (size_t)n;
}

static int check_events(lua_State *L, int idx)
{
  lua_Integer ev = luaL_checkinteger(L, idx);
  luaL_argcheck(L, ev >= 0 && ev <= EV_ALL, idx, "not a mask of Stream.EVENT_* values");
  return (int)ev;
}

/* ---------------------------------------------------------- dispatcher */

static void disp_cb(virStreamPtr st, int events, void *opaque);

static void disp_free(void *opaque)
{
  free(opaque);
}

/* Tell libvirt the union of what the script and the waiting tasks want;
 * register the dispatcher the first time anything is wanted.  -1 with
 * libvirt's error set when the stream cannot report events (not opened by
 * a stream API yet, or a driver without them). */
static int sync_events(lv_stream *s)
{
  int want = 0, i;
  if (!s->obj.ptr || s->state != ST_OPEN)
    return 0;
  if (s->user_events > 0)
    want |= s->user_events;
  for (i = 0; i < s->nw; i++)
    want |= s->w[i].mask;
  want |= s->sync_mask;
  want &= EV_ALL;
  if (!s->disp) {
    sdisp *d;
    if (!want)
      return 0;
    d = calloc(1, sizeof *d);
    if (!d)
      return -1;
    d->s = s;
    if (virStreamEventAddCallback(s->obj.ptr, want, disp_cb, d, disp_free) < 0) {
      free(d);
      return -1;
    }
    s->disp = d;
    s->cur_events = want;
    return 0;
  }
  if (want != s->cur_events) {
    if (virStreamEventUpdateCallback(s->obj.ptr, want) < 0)
      return -1;
    s->cur_events = want;
  }
  return 0;
}

static void disp_remove(lv_stream *s)
{
  sdisp *d = s->disp;
  if (!d)
    return;
  s->disp = NULL;
  s->cur_events = 0;
  d->s = NULL;                  /* libvirt frees d when it is done with it */
  if (virStreamEventRemoveCallback(s->obj.ptr) < 0)
    virResetLastError();
}

/* 1 when the stream can report events (registering the dispatcher, with
 * nothing wanted yet, to find out). */
static int can_wait(lv_stream *s)
{
  sdisp *d;
  if (s->disp)
    return 1;
  d = calloc(1, sizeof *d);
  if (!d)
    return 0;
  d->s = s;
  if (virStreamEventAddCallback(s->obj.ptr, 0, disp_cb, d, disp_free) < 0) {
    virResetLastError();
    free(d);
    return 0;
  }
  s->disp = d;
  s->cur_events = 0;
  return 1;
}

static void alive_watch(lv_stream *s, int on);

/* Wake the tasks whose mask meets events (all of them when all is set) with
 * events as the value their wait returns. */
static void wake_waiters(lua_State *L, lv_stream *s, int events, int all)
{
  int i, j = 0;
  for (i = 0; i < s->nw; i++) {
    waiter w = s->w[i];
    if (!all && !(w.mask & events) && !(events & EV_TROUBLE)) {
      s->w[j++] = w;
      continue;
    }
    lua_getfield(L, LUA_REGISTRYINDEX, WAKE_KEY);
    lua_rawgeti(L, LUA_REGISTRYINDEX, w.task);
    lua_pushinteger(L, events);
    if (lua_pcall(L, 2, 0, 0) != LUA_OK)
      lua_pop(L, 1);            /* _wake only refuses a task not waiting */
    luaL_unref(L, LUA_REGISTRYINDEX, w.task);
    lv_hold(-1);
  }
  s->nw = j;
  if (!s->nw && !s->sync_mask)
    alive_watch(s, 0);
}

static void user_release(lua_State *L, lv_stream *s)
{
  if (s->user_events < 0)
    return;
  luaL_unref(L, LUA_REGISTRYINDEX, s->user_fn);
  luaL_unref(L, LUA_REGISTRYINDEX, s->user_self);
  s->user_fn = s->user_self = LUA_NOREF;
  s->user_events = -1;
  lv_hold(-1);
}

/* libvirt calls this on the loop thread (a remote stream's timer, or an
 * fd stream's watch). */
static void disp_cb(virStreamPtr st, int events, void *opaque)
{
  sdisp *d = opaque;
  lv_stream *s = d->s;
  lua_State *L = lv_main_state();
  int top;
  (void)st;
  if (!s || !L || !lv_loop_on_thread())
    return;
  if (!lua_checkstack(L, 8))    /* never raise through libvirt */
    return;
  top = lua_gettop(L);
  push_stream(L, s);            /* keeps s alive through the user's function */
  if (events & (VIR_STREAM_EVENT_READABLE | EV_TROUBLE))
    s->readable = 1;
  if (s->sync_mask)
    s->sync_got |= events & (s->sync_mask | EV_TROUBLE);
  wake_waiters(L, s, events, 0);
  if (s->user_events > 0 && (events & (s->user_events | EV_TROUBLE)) && !lua_isnil(L, top + 1)) {
    lua_rawgeti(L, LUA_REGISTRYINDEX, s->user_fn);
    lua_pushvalue(L, top + 1);
    lua_pushinteger(L, events & (s->user_events | EV_TROUBLE));
    lv_pcall(L, 2, 0, "a stream callback");
  }
  /* the callback may have finished the stream or removed itself */
  if (s->disp == d && sync_events(s) < 0)
    virResetLastError();
  lua_settop(L, top);
}

/* ------------------------------------------------------------- waiting */

/* A remote stream is not told when its connection dies (daemon gone,
 * keepalive timeout): its waiters would sleep forever.  While anyone waits,
 * the connection is checked every second (virConnectIsAlive is local). */
#define ALIVE_MS 1000

static void alive_cb(uv_timer_t *t)
{
  lv_stream *s = t->data;
  lua_State *L = lv_main_state();
  int top;
  if (!s || !L || s->dead || !s->conn || !lua_checkstack(L, 8))
    return;
  if (virConnectIsAlive(s->conn) == 1)
    return;
  virResetLastError();
  s->dead = 1;
  uv_timer_stop(t);
  top = lua_gettop(L);
  push_stream(L, s);            /* keeps s alive while waking */
  s->sync_got |= VIR_STREAM_EVENT_HANGUP;
  wake_waiters(L, s, VIR_STREAM_EVENT_HANGUP, 1);
  lua_settop(L, top);
}

static void alive_watch(lv_stream *s, int on)
{
  if (on && !s->alive && !s->dead) {
    s->alive = malloc(sizeof *s->alive);
    if (!s->alive || uv_timer_init(lv_loop(), s->alive) < 0) {
      free(s->alive);
      s->alive = NULL;
      return;
    }
    s->alive->data = s;
    uv_unref((uv_handle_t *)s->alive);   /* the waiters hold the loop */
  }
  if (!s->alive)
    return;
  if (on && !s->dead && !uv_is_active((uv_handle_t *)s->alive))
    uv_timer_start(s->alive, alive_cb, ALIVE_MS, ALIVE_MS);
  else if (!on)
    uv_timer_stop(s->alive);
}

static void free_handle(uv_handle_t *h)
{
  free(h);
}

static void alive_close(lv_stream *s)
{
  if (!s->alive)
    return;
  s->alive->data = NULL;
  uv_close((uv_handle_t *)s->alive, free_handle);
  s->alive = NULL;
}

static int raise_dead(lua_State *L)
{
  return lv_error_raisef(L, VIR_ERR_RPC,
                         "the connection closed while the stream was in use");
}

static int add_waiter(lua_State *L, lv_stream *s, int mask)
{
  if (s->nw == s->capw) {
    int cap = s->capw ? s->capw * 2 : 4;
    waiter *w = realloc(s->w, cap * sizeof *w);
    if (!w)
      return luaL_error(L, "not enough memory");
    s->w = w;
    s->capw = cap;
  }
  lua_getfield(L, LUA_REGISTRYINDEX, CURRENT_KEY);
  lua_call(L, 0, 1);
  s->w[s->nw].task = luaL_ref(L, LUA_REGISTRYINDEX);
  s->w[s->nw].mask = mask;
  s->nw++;
  lv_hold(1);                   /* libvirt's own timers do not hold the loop */
  alive_watch(s, 1);
  if (sync_events(s) < 0) {
    lv_error e;
    lv_error_save(&e);
    s->nw--;
    luaL_unref(L, LUA_REGISTRYINDEX, s->w[s->nw].task);
    lv_hold(-1);
    if (!s->nw && !s->sync_mask)
      alive_watch(s, 0);
    return lv_error_raise(L, &e);
  }
  return 0;
}

static int run_once(lua_State *L)
{
  lv_task_run_loop(L, UV_RUN_ONCE);
  return 0;
}

/* Outside a task: run the loop until the stream reports mask.  From inside
 * a callback the loop is already running and this raises. */
static int sync_wait(lua_State *L, lv_stream *s, int mask)
{
  int got;
  if (s->sync_mask)
    return luaL_error(L, "the stream is already waited on outside a task");
  s->sync_mask = mask;
  s->sync_got = 0;
  if (sync_events(s) < 0) {
    lv_error e;
    lv_error_save(&e);
    s->sync_mask = 0;
    return lv_error_raise(L, &e);
  }
  lv_hold(1);
  alive_watch(s, 1);
  while (!s->sync_got && s->state == ST_OPEN && s->obj.ptr && !s->dead) {
    lua_pushcfunction(L, run_once);
    if (lua_pcall(L, 0, 0, 0) != LUA_OK) {
      lv_hold(-1);
      s->sync_mask = 0;
      if (!s->nw)
        alive_watch(s, 0);
      if (sync_events(s) < 0)
        virResetLastError();
      return lua_error(L);
    }
  }
  lv_hold(-1);
  got = s->sync_got;
  s->sync_mask = s->sync_got = 0;
  if (!s->nw)
    alive_watch(s, 0);
  if (sync_events(s) < 0)
    virResetLastError();
  return got;
}

/* Wait until the stream reports an event of mask, then continue with k
 * (which finds the events on top of the stack). */
static int wait_then(lua_State *L, lv_stream *s, int mask, lua_KFunction k, lua_KContext ctx)
{
  if (lv_task_async(L)) {
    add_waiter(L, s, mask);
    lua_getfield(L, LUA_REGISTRYINDEX, SUSPEND_KEY);
    lua_callk(L, 0, 1, ctx, k);
    return k(L, LUA_OK, ctx);
  }
  lua_pushinteger(L, sync_wait(L, s, mask));
  return k(L, LUA_OK, ctx);
}

/* ------------------------------------------------------------- buffers */

static char *stream_buf(lua_State *L, lv_stream *s, size_t n)
{
  if (s->bufsize < n) {
    char *b = realloc(s->buf, n);
    if (!b)
      luaL_error(L, "not enough memory for a %d byte buffer", (int)n);
    s->buf = b;
    s->bufsize = n;
  }
  return s->buf;
}

static void trim_buf(lv_stream *s)
{
  if (s->bufsize > KEEP_BUF) {
    free(s->buf);
    s->buf = NULL;
    s->bufsize = 0;
  }
}

static void bulk_free(lv_stream *s)
{
  free(s->bulk);
  s->bulk = NULL;
  s->bulksize = s->bulkoff = s->bulklen = 0;
}

/* The bulk buffer, at least n bytes (only ever called while it is empty:
 * nothing to keep).  It grows with the bulk reads and is kept until the
 * data ends or the stream closes, so a long transfer faults its pages in
 * once rather than on every read. */
static char *bulk_buf(lua_State *L, lv_stream *s, size_t n)
{
  if (s->bulksize < n) {
    bulk_free(s);
    s->bulk = malloc(n);
    if (!s->bulk)
      luaL_error(L, "not enough memory for a %d byte buffer", (int)n);
    s->bulksize = n;
  }
  return s->bulk;
}

/* _recv_bulk's answer: the next slice of the bulk buffer as rv, data, got
 * (got: what the receive that filled the buffer brought, only on the call
 * that made it, else nil). */
static int push_slice(lua_State *L, lv_stream *s, int got)
{
  size_t n = s->bulklen - s->bulkoff;
  if (n > BULK_SLICE)
    n = BULK_SLICE;
  lua_pushinteger(L, (lua_Integer)n);
  lua_pushlstring(L, s->bulk + s->bulkoff, n);
  s->bulkoff += n;
  if (got)
    lua_pushinteger(L, got);
  else
    lua_pushnil(L);
  return 3;
}

/* -------------------------------------------------- calls on a worker */

/* One argument struct for the calls that may do I/O. */
enum { OP_SEND, OP_RECV, OP_SEND_HOLE, OP_FINISH, OP_ABORT, OP_ABORT_FREE };

struct a_io {
  lv_job job;
  virStreamPtr st;
  lv_stream *s;                 /* NULL for a detached call */
  int op;
  int fd, werr;                 /* OP_RECV into a file (_recv_to) */
  int bulk;                     /* OP_RECV for _recv_bulk: answer got too */
  const char *data;
  char *buf;
  size_t n;
  long long len;
  unsigned int flags;
  int rv;
};

/* 0 or errno */
static int write_all(int fd, const char *p, size_t n)
{
  while (n > 0) {
    ssize_t r = write(fd, p, n);
    if (r < 0 && errno == EINTR)
      continue;
    if (r < 0)
      return errno ? errno : EIO;
    p += r;
    n -= (size_t)r;
  }
  return 0;
}

/* _recv_to's answer: rv, or nil, message, errno when the file refused. */
static int push_written(lua_State *L, int rv, int err)
{
  if (err) {
    lua_pushnil(L);
    lua_pushstring(L, strerror(err));
    lua_pushinteger(L, err);
    return 3;
  }
  lua_pushinteger(L, rv);
  return 1;
}

static int w_io(lv_job *j)
{
  struct a_io *a = (struct a_io *)j;
  switch (a->op) {
  case OP_SEND:
    a->rv = virStreamSend(a->st, a->data, a->n);
    return a->rv == -1 ? -1 : 0;
  case OP_RECV:
    a->rv = a->flags ? virStreamRecvFlags(a->st, a->buf, a->n, a->flags)
                     : virStreamRecv(a->st, a->buf, a->n);
    if (a->rv > 0 && a->fd >= 0)
      a->werr = write_all(a->fd, a->buf, (size_t)a->rv);
    return a->rv == -1 ? -1 : 0;
  case OP_SEND_HOLE:
    return a->rv = virStreamSendHole(a->st, a->len, a->flags);
  case OP_FINISH:
    return a->rv = virStreamFinish(a->st);
  case OP_ABORT:
    /* a stream that already failed reports that failure again here: its
     * reader has seen it, and the abort has done its work regardless */
    if (virStreamAbort(a->st) < 0)
      virResetLastError();
    return 0;
  case OP_ABORT_FREE:
    /* a stream dropped while open: the daemon must hear about it */
    if (virStreamAbort(a->st) < 0)
      virResetLastError();
    virStreamFree(a->st);
    return 0;
  }
  return -1;
}

static void start_pending_abort(lv_stream *s)
{
  struct a_io a;
  lv_job_init(&a.job, sizeof a, w_io, NULL);
  a.op = OP_ABORT_FREE;
  a.st = s->pending_abort;
  s->pending_abort = NULL;
  if (lv_job_detach(&a.job) < 0)
    virStreamFree(a.st);
}

static void f_io(lv_job *j)
{
  struct a_io *a = (struct a_io *)j;
  free(a->buf);
  a->buf = NULL;
  if (a->s && --a->s->busy == 0 && a->s->pending_abort)
    start_pending_abort(a->s);
}

static int p_io(lua_State *L, lv_job *j)
{
  struct a_io *a = (struct a_io *)j;
  lv_stream *s = a->s;
  switch (a->op) {
  case OP_RECV:
    if (a->rv == 0)
      s->eof = 1;
    if (a->fd >= 0)
      return push_written(L, a->rv, a->werr);
    lua_pushinteger(L, a->rv);
    if (a->rv > 0)
      lua_pushlstring(L, a->buf, (size_t)a->rv);
    else
      lua_pushliteral(L, "");
    if (!a->bulk)
      return 2;
    lua_pushinteger(L, a->rv);
    return 3;
  default:
    lua_pushinteger(L, a->rv);
    return 1;
  }
}

/* Run op on the stream at index 1, counted as busy while in flight. */
static int run_io(lua_State *L, lv_stream *s, struct a_io *a)
{
  a->job.fini = f_io;
  a->st = lv_job_hold(&a->job, L, 1, &lv_stream_class);
  a->s = s;
  s->busy++;
  return lv_job_run(L, &a->job);
}

/* ---------------------------------------------------------------- recv */

/* What recv_go answers with (its continuation context). */
enum { RECV_STRING, RECV_TO_FD, RECV_BULK };

static int recv_go(lua_State *L, int status, lua_KContext ctx);

/* st:recv(nbytes [, flags]) -> rv, data
 * Sys::Virt's contract: rv is the byte count (#data), 0 at end of stream,
 * -2 when a NONBLOCK stream has nothing yet, -3 at a hole when flags has
 * Stream.RECV_STOP_AT_HOLE.  A blocking stream blocks, but inside a task
 * only the task waits. */
static int s_recv(lua_State *L)
{
  check_open(L, 1);
  check_count(L, 2, 65536);
  lv_optflags(L, 3);
  lua_settop(L, 3);
  return recv_go(L, LUA_OK, RECV_STRING);
}

static int recv_go(lua_State *L, int status, lua_KContext ctx)
{
  lv_stream *s = check_open(L, 1);   /* again: it may have closed meanwhile */
  size_t n = (size_t)lua_tointeger(L, 2);
  unsigned int flags = (unsigned int)lua_tointeger(L, 3);
  int fd = ctx == RECV_TO_FD ? (int)lua_tointeger(L, 4) : -1;
  char *buf;
  int rv;
  (void)status;
  if (s->dead)
    return raise_dead(L);
  /* what an earlier bulk read left: no receive, no wait */
  if (ctx == RECV_BULK && s->bulkoff < s->bulklen)
    return push_slice(L, s, 0);
  lua_settop(L, 4);
  /* (the in-process test driver's streams read from a file: never wait) */
  if (!s->nonblock && !s->readable && !s->eof && !(s->obj.flags & LV_OBJ_INLINE) &&
      lv_task_async(L)) {
    struct a_io a;
    /* wait for data queued in the client, then read it without I/O */
    if (can_wait(s))
      return wait_then(L, s, VIR_STREAM_EVENT_READABLE, recv_go, ctx);
    /* a stream without events: read on a worker instead (a bulk read
     * no more than one slice, answered as a plain recv) */
    lv_job_init(&a.job, sizeof a, w_io, p_io);
    a.op = OP_RECV;
    a.n = ctx == RECV_BULK && n > BULK_SLICE ? BULK_SLICE : n;
    a.flags = flags;
    a.fd = fd;
    a.bulk = ctx == RECV_BULK;
    a.buf = malloc(a.n);
    if (!a.buf)
      return luaL_error(L, "not enough memory");
    return run_io(L, s, &a);
  }
  buf = ctx == RECV_BULK ? bulk_buf(L, s, n) : stream_buf(L, s, n);
  rv = flags ? virStreamRecvFlags(s->obj.ptr, buf, n, flags)
             : virStreamRecv(s->obj.ptr, buf, n);
  s->readable = 0;
  if (rv == -1) {
    trim_buf(s);
    if (ctx == RECV_BULK)
      bulk_free(s);
    return lv_error_raise_last(L);
  }
  if (rv == 0)
    s->eof = 1;
  if (ctx == RECV_BULK) {
    if (rv > 0) {
      s->bulkoff = 0;
      s->bulklen = (size_t)rv;
      return push_slice(L, s, rv);
    }
    if (rv == 0)
      bulk_free(s);             /* the data has ended */
    lua_pushinteger(L, rv);
    lua_pushliteral(L, "");
    lua_pushinteger(L, rv);
    return 3;
  }
  if (fd >= 0) {
    /* copy_to: straight from the buffer, on this thread (see there); the
     * buffer, as big as the bulk reads grow, is kept until the data ends
     * (or the stream closes), not mapped and faulted in again each read */
    int n_ret = push_written(L, rv, rv > 0 ? write_all(fd, buf, (size_t)rv) : 0);
    if (rv == 0)
      trim_buf(s);
    return n_ret;
  }
  lua_pushinteger(L, rv);
  if (rv > 0)
    lua_pushlstring(L, buf, (size_t)rv);
  else
    lua_pushliteral(L, "");
  trim_buf(s);
  return 2;
}

/* st:_recv_to(fd, nbytes [, flags]) -> rv | nil, message, errno: recv,
 * written to fd without making a Lua string of it (copy_to). */
static int s_recv_to(lua_State *L)
{
  lua_Integer fd;
  check_open(L, 1);
  fd = luaL_checkinteger(L, 2);
  luaL_argcheck(L, fd >= 0 && fd <= INT_MAX, 2, "not a file descriptor");
  check_count(L, 3, 65536);
  lv_optflags(L, 4);
  /* the order recv_go reads: st, n, flags, fd */
  lua_settop(L, 4);
  lua_rotate(L, 2, -1);
  return recv_go(L, LUA_OK, RECV_TO_FD);
}

/* st:_recv_bulk(nbytes [, flags]) -> rv, data, got: the reads of recv_all
 * and sparse_recv_all.  One receive of up to nbytes (as recv, waiting the
 * same way) fills a buffer kept on the stream; this call and the next ones
 * hand it out in strings of at most 256 KiB, without waiting, until it is
 * empty.  rv and data are as recv's; got is what the receive brought, on
 * the call that made it (nil on the others), for the caller to size the
 * next one.  So a receive can drain all that libvirt's client has queued
 * (it does not limit its queue: only the receives can) while the handler
 * still gets strings of one RPC message's size, as from virStreamRecvAll.
 * (A string of the whole read, up to 32 MiB, and a receive buffer freed
 * after each read over 8 MiB, were fresh pages faulted in and copied cold
 * every time: 70 ms for a 32 MiB read, 480 MB/s, whenever the daemon had
 * got ahead.) */
static int s_recv_bulk(lua_State *L)
{
  check_open(L, 1);
  check_count(L, 2, BULK_SLICE);
  lv_optflags(L, 3);
  lua_settop(L, 3);
  return recv_go(L, LUA_OK, RECV_BULK);
}

/* --------------------------------------------------------------- send */

/* st:send(data [, nbytes]) -> sent, or -2 when a NONBLOCK stream is full.
 * nbytes (default #data) may not exceed #data: Sys::Virt's send reads past
 * its buffer when asked to. */
static int s_send(lua_State *L)
{
  lv_stream *s = check_open(L, 1);
  size_t len, n;
  const char *data = luaL_checklstring(L, 2, &len);
  struct a_io a;
  n = len;
  if (!lua_isnoneornil(L, 3)) {
    lua_Integer want = luaL_checkinteger(L, 3);
    luaL_argcheck(L, want >= 0 && (lua_Unsigned)want <= len, 3,
                  "byte count must be 0..#data");
    n = (size_t)want;
  }
  luaL_argcheck(L, n <= MAX_CHUNK, 2, "more than 64 MiB in one send");
  if (n == 0) {                 /* an empty data packet would read as EOF */
    lua_pushinteger(L, 0);
    return 1;
  }
  lv_job_init(&a.job, sizeof a, w_io, p_io);
  a.op = OP_SEND;
  a.data = data;
  a.n = n;
  return run_io(L, s, &a);
}

/* ---------------------------------------------------------------- holes */

/* st:send_hole(length [, flags]): the receiver skips length bytes. */
static int s_send_hole(lua_State *L)
{
  lv_stream *s = check_open(L, 1);
  struct a_io a;
  lua_Integer len = luaL_checkinteger(L, 2);
  luaL_argcheck(L, len >= 0, 2, "hole length must not be negative");
  lv_job_init(&a.job, sizeof a, w_io, NULL);
  a.op = OP_SEND_HOLE;
  a.len = len;
  a.flags = lv_optflags(L, 3);
  return run_io(L, s, &a);
}

/* st:recv_hole([flags]) -> length of the hole the last recv stopped at.
 * The length is already in the client: no I/O. */
static int s_recv_hole(lua_State *L)
{
  lv_stream *s = check_open(L, 1);
  long long len = 0;
  if (virStreamRecvHole(s->obj.ptr, &len, lv_optflags(L, 2)) < 0)
    return lv_error_raise_last(L);
  lua_pushinteger(L, len);
  return 1;
}

/* --------------------------------------------------- script callbacks */

/* st:add_callback(events, fn): fn(st, events) on the loop whenever the
 * stream has one of events (Stream.EVENT_*).  One per stream; it keeps the
 * stream (and the loop) alive until removed, finished or aborted. */
static int s_add_callback(lua_State *L)
{
  lv_stream *s = check_open(L, 1);
  int events = check_events(L, 2);
  luaL_checktype(L, 3, LUA_TFUNCTION);
  if (s->user_events >= 0)
    return lv_error_raisef(L, VIR_ERR_OPERATION_INVALID,
                           "the stream already has a callback (remove_callback first)");
  lua_pushvalue(L, 3);
  s->user_fn = luaL_ref(L, LUA_REGISTRYINDEX);
  lua_pushvalue(L, 1);
  s->user_self = luaL_ref(L, LUA_REGISTRYINDEX);
  s->user_events = events;
  lv_hold(1);
  if (sync_events(s) < 0) {
    lv_error e;
    lv_error_save(&e);
    user_release(L, s);
    return lv_error_raise(L, &e);
  }
  return 0;
}

static int s_update_callback(lua_State *L)
{
  lv_stream *s = check_open(L, 1);
  int events = check_events(L, 2);
  if (s->user_events < 0)
    return lv_error_raisef(L, VIR_ERR_OPERATION_INVALID, "the stream has no callback");
  s->user_events = events;
  if (sync_events(s) < 0)
    return lv_error_raise_last(L);
  return 0;
}

static int s_remove_callback(lua_State *L)
{
  lv_stream *s = check_open(L, 1);
  if (s->user_events < 0)
    return lv_error_raisef(L, VIR_ERR_OPERATION_INVALID, "the stream has no callback");
  user_release(L, s);
  if (!s->nw && !s->sync_mask)
    disp_remove(s);
  else if (sync_events(s) < 0)
    virResetLastError();
  return 0;
}

/* st:_wait(events) -> events: suspend the task until the stream reports one
 * of events (or an error or hang-up, or it is closed: 0). */
static int wait_k(lua_State *L, int status, lua_KContext ctx)
{
  (void)status;
  (void)ctx;
  if (check_any(L, 1)->dead)
    return raise_dead(L);
  return 1;
}

static int s_wait(lua_State *L)
{
  lv_stream *s = check_open(L, 1);
  int events = check_events(L, 2);
  luaL_argcheck(L, events != 0, 2, "an empty mask never fires");
  if (s->dead)
    return raise_dead(L);
  lua_settop(L, 2);
  return wait_then(L, s, events, wait_k, 0);
}

/* -------------------------------------------------- finish, abort, free */

/* Take the stream out of use on the loop thread before the final call:
 * events off (a remote stream's timer holds the stream until removed),
 * waiters and the script's callback released. */
static void shut(lua_State *L, lv_stream *s, int state)
{
  s->state = state;
  disp_remove(s);
  wake_waiters(L, s, 0, 1);
  user_release(L, s);
  s->sync_got |= VIR_STREAM_EVENT_HANGUP;
  free(s->buf);
  s->buf = NULL;
  s->bufsize = 0;
  bulk_free(s);
}

/* st:finish(): the end of a successful transfer; raises what the other end
 * reports (a failed upload shows here). */
static int s_finish(lua_State *L)
{
  lv_stream *s = check_open(L, 1);
  struct a_io a;
  if (s->busy)
    return lv_error_raisef(L, VIR_ERR_OPERATION_INVALID,
                           "the stream is busy: a send is still in flight");
  shut(L, s, ST_FINISHED);
  lv_job_init(&a.job, sizeof a, w_io, NULL);
  a.op = OP_FINISH;
  return run_io(L, s, &a);
}

/* st:abort(): drop the transfer.  Never raises: harmless on a closed or
 * failed stream.  While a send of another task is in flight the abort
 * happens when it returns. */
static int s_abort(lua_State *L)
{
  lv_stream *s = check_any(L, 1);
  struct a_io a;
  if (!s->obj.ptr || s->state != ST_OPEN)
    return 0;
  shut(L, s, ST_ABORTED);
  if (s->busy) {
    if (!s->pending_abort && virStreamRef(s->obj.ptr) == 0)
      s->pending_abort = s->obj.ptr;
    return 0;
  }
  lv_job_init(&a.job, sizeof a, w_io, NULL);
  a.op = OP_ABORT;
  return run_io(L, s, &a);
}

/* Release the libvirt reference; an open stream is aborted on a worker. */
static void release(lua_State *L, lv_stream *s)
{
  virStreamPtr p = s->obj.ptr;
  if (!p)
    return;
  if (s->state == ST_OPEN) {
    shut(L, s, ST_ABORTED);
    if (!s->busy) {
      struct a_io a;
      lv_job_init(&a.job, sizeof a, w_io, NULL);
      a.op = OP_ABORT_FREE;
      a.st = p;
      s->obj.ptr = NULL;
      if (lv_job_detach(&a.job) < 0)
        virStreamFree(p);
      goto out;
    }
    if (!s->pending_abort && virStreamRef(p) == 0)
      s->pending_abort = p;
  }
  s->obj.ptr = NULL;
  virStreamFree(p);
out:
  alive_close(s);
  free(s->w);
  s->w = NULL;
  s->nw = s->capw = 0;
}

/* st:free(): drop the stream now rather than at collection. */
static int s_free(lua_State *L)
{
  release(L, check_any(L, 1));
  return 0;
}

static int s_gc(lua_State *L)
{
  lv_stream *s = lua_touserdata(L, 1);
  if (s && s->obj.cls)
    release(L, s);
  return 0;
}

static int s_tostring(lua_State *L)
{
  lv_stream *s = check_any(L, 1);
  if (!s->obj.ptr)
    lua_pushliteral(L, "<Stream (freed)>");
  else
    lua_pushfstring(L, "<Stream %p %s%s>", s->obj.ptr, state_names[s->state],
                    s->nonblock ? " nonblocking" : "");
  return 1;
}

/* st:is_nonblocking() */
static int s_is_nonblocking(lua_State *L)
{
  lua_pushboolean(L, check_any(L, 1)->nonblock);
  return 1;
}

/* st:get_state() -> "open" | "finished" | "aborted" | "freed" */
static int s_get_state(lua_State *L)
{
  lv_stream *s = check_any(L, 1);
  lua_pushstring(L, s->obj.ptr ? state_names[s->state] : "freed");
  return 1;
}

/* The connection this stream belongs to. */
static int s_get_connection(lua_State *L)
{
  check_any(L, 1);
  lua_getiuservalue(L, 1, 1);
  return 1;
}

/* ------------------------------------------------------- new_stream */

/* conn:new_stream([flags]) -> Stream (virt.Stream.NONBLOCK or 0) */
static int c_new_stream(lua_State *L)
{
  virConnectPtr conn = lv_connect_check(L, 1);
  unsigned int flags = lv_optflags(L, 2);
  virStreamPtr st = virStreamNew(conn, flags);
  lv_stream *s;
  if (!st)
    return lv_error_raise_last(L);
  s = (lv_stream *)lv_obj_push(L, &lv_stream_class, st, 1);
  s->nonblock = (flags & VIR_STREAM_NONBLOCK) != 0;
  s->conn = conn;
  s->user_events = -1;
  s->user_fn = s->user_self = LUA_NOREF;
  lua_getfield(L, LUA_REGISTRYINDEX, STREAMS_KEY);
  lua_pushvalue(L, -2);
  lua_rawsetp(L, -2, s);
  lua_pop(L, 1);
  return 1;
}

/* ------------------------------------- Domain calls that open a stream
 * Bound here rather than in domain.c: they are the stream's users, and
 * their jobs hold the stream the same way as the calls above. */

enum { D_SCREENSHOT, D_CONSOLE, D_CHANNEL };

struct a_dom {
  lv_job job;
  virDomainPtr dom;
  virStreamPtr st;
  int op;
  const char *name;
  unsigned int screen, flags;
  char *mime;
};

static int w_dom(lv_job *j)
{
  struct a_dom *a = (struct a_dom *)j;
  switch (a->op) {
  case D_SCREENSHOT:
    a->mime = virDomainScreenshot(a->dom, a->st, a->screen, a->flags);
    return a->mime ? 0 : -1;
  case D_CONSOLE:
    return virDomainOpenConsole(a->dom, a->name, a->st, a->flags);
  case D_CHANNEL:
    return virDomainOpenChannel(a->dom, a->name, a->st, a->flags);
  }
  return -1;
}

static int p_dom(lua_State *L, lv_job *j)
{
  struct a_dom *a = (struct a_dom *)j;
  if (a->op != D_SCREENSHOT)
    return 0;
  lv_push_string_free(L, a->mime);
  a->mime = NULL;
  return 1;
}

static void f_dom(lv_job *j)
{
  free(((struct a_dom *)j)->mime);
}

static int dom_stream(lua_State *L, int op)
{
  LV_JOB_DECL(struct a_dom, a, w_dom, p_dom);
  a.job.fini = f_dom;
  a.op = op;
  check_open(L, 2);
  a.dom = lv_job_hold(&a.job, L, 1, &lv_domain_class);
  a.st = lv_job_hold(&a.job, L, 2, &lv_stream_class);
  if (op == D_SCREENSHOT) {
    lua_Integer screen = luaL_optinteger(L, 3, 0);
    luaL_argcheck(L, screen >= 0 && screen <= UINT_MAX, 3, "screen out of range");
    a.screen = (unsigned int)screen;
  } else
    a.name = luaL_optstring(L, 3, NULL);
  a.flags = lv_optflags(L, 4);
  return lv_job_run(L, &a.job);
}

/* dom:screenshot(st, screen, flags) -> MIME type; the image comes on st */
static int d_screenshot(lua_State *L) { return dom_stream(L, D_SCREENSHOT); }
/* dom:open_console(st, devname, flags): devname nil for the first console */
static int d_open_console(lua_State *L) { return dom_stream(L, D_CONSOLE); }
/* dom:open_channel(st, name, flags) */
static int d_open_channel(lua_State *L) { return dom_stream(L, D_CHANNEL); }

/* ------------------------------------------- file I/O for copy_to/from
 * Disk I/O may block too, so the Lua half's whole-file transfers do it on
 * workers through these (private) helpers, except copy_to's writes (see
 * there).  They answer nil, message on failure rather than raising: the
 * caller aborts the stream first. */

enum { F_OPEN, F_READ, F_SEEK, F_EXTEND, F_SECTION, F_CLOSE, F_SIZE, F_SKIP, F_TRUNCATE };

struct a_file {
  lv_job job;
  int op, fd, flags, whence, err;
  const char *path;
  char *buf;
  size_t n;
  long long off;
  int in_data;
};

/* Where the data or the hole under the file offset ends, as virsh's
 * sparse upload asks (SEEK_DATA/SEEK_HOLE; no holes where unsupported). */
static int file_section(struct a_file *a)
{
  off_t cur = lseek(a->fd, 0, SEEK_CUR), end, data, hole;
  if (cur < 0 || (end = lseek(a->fd, 0, SEEK_END)) < 0)
    return -1;
  if (cur >= end) {
    a->in_data = 0;
    a->off = 0;
  } else if ((data = lseek(a->fd, cur, SEEK_DATA)) < 0) {
    if (errno == ENXIO) {       /* a hole up to the end */
      a->in_data = 0;
      a->off = end - cur;
    } else if (errno == EINVAL) {
      a->in_data = 1;
      a->off = end - cur;
    } else
      return -1;
  } else if (data > cur) {
    a->in_data = 0;
    a->off = data - cur;
  } else {
    hole = lseek(a->fd, cur, SEEK_HOLE);
    a->in_data = 1;
    a->off = (hole < 0 || hole > end ? end : hole) - cur;
  }
  return lseek(a->fd, cur, SEEK_SET) < 0 ? -1 : 0;
}

/* Move past a hole of a->off bytes.  Where the file already had data there
 * (copy_to does not truncate first) the hole is punched, or zeroed where
 * the file system cannot punch. */
static int file_skip(struct a_file *a)
{
  static const char zeros[65536];
  struct stat sb;
  off_t cur = lseek(a->fd, 0, SEEK_CUR), end;
  if (cur < 0 || fstat(a->fd, &sb) < 0)
    return -1;
  end = sb.st_size < cur + a->off ? sb.st_size : cur + a->off;
  if (end > cur &&
      fallocate(a->fd, FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE, cur, end - cur) < 0) {
    off_t at = cur;
    while (at < end) {
      size_t n = end - at < (off_t)sizeof zeros ? (size_t)(end - at) : sizeof zeros;
      ssize_t r = pwrite(a->fd, zeros, n, at);
      if (r < 0 && errno != EINTR)
        return -1;
      if (r > 0)
        at += r;
    }
  }
  return lseek(a->fd, cur + a->off, SEEK_SET) < 0 ? -1 : 0;
}

static int w_file(lv_job *j)
{
  struct a_file *a = (struct a_file *)j;
  ssize_t r = 0;
  struct stat sb;
  int ok = 1;
  switch (a->op) {
  case F_OPEN:
    ok = (a->fd = open(a->path, a->flags | O_CLOEXEC, 0666)) >= 0;
    break;
  case F_READ:
    do
      r = read(a->fd, a->buf, a->n);
    while (r < 0 && errno == EINTR);
    ok = r >= 0;
    a->off = r;
    break;
  case F_SEEK:
    ok = (a->off = lseek(a->fd, (off_t)a->off, a->whence)) >= 0;
    break;
  case F_EXTEND:
    /* a transfer that ends in a hole leaves the file short of its size */
    ok = (a->off = lseek(a->fd, 0, SEEK_CUR)) >= 0 && fstat(a->fd, &sb) == 0 &&
         (sb.st_size >= a->off || ftruncate(a->fd, (off_t)a->off) == 0);
    break;
  case F_SECTION:
    ok = file_section(a) == 0;
    break;
  case F_SKIP:
    ok = file_skip(a) == 0;
    break;
  case F_TRUNCATE:
    ok = (a->off = lseek(a->fd, 0, SEEK_CUR)) >= 0 && ftruncate(a->fd, (off_t)a->off) == 0;
    break;
  case F_CLOSE:
    ok = close(a->fd) == 0 || errno == EINTR;
    break;
  case F_SIZE:
    ok = fstat(a->fd, &sb) == 0;
    a->off = ok ? (long long)sb.st_size : -1;
    break;
  }
  a->err = ok ? 0 : errno ? errno : EIO;
  return 0;
}

static int p_file(lua_State *L, lv_job *j)
{
  struct a_file *a = (struct a_file *)j;
  if (a->err) {
    lua_pushnil(L);
    lua_pushstring(L, strerror(a->err));
    lua_pushinteger(L, a->err);
    return 3;
  }
  switch (a->op) {
  case F_OPEN: lua_pushinteger(L, a->fd); return 1;
  case F_READ:
    if (a->off <= 0)
      lua_pushnil(L);
    else
      lua_pushlstring(L, a->buf, (size_t)a->off);
    return 1;
  case F_SECTION:
    lua_pushboolean(L, a->in_data);
    lua_pushinteger(L, a->off);
    return 2;
  case F_SEEK: case F_EXTEND: case F_SIZE: case F_TRUNCATE:
    lua_pushinteger(L, a->off);
    return 1;
  default:
    lua_pushboolean(L, 1);
    return 1;
  }
}

static void f_file(lv_job *j)
{
  free(((struct a_file *)j)->buf);
}

static int check_fd(lua_State *L, int idx)
{
  lua_Integer fd = luaL_checkinteger(L, idx);
  luaL_argcheck(L, fd >= 0 && fd <= INT_MAX, idx, "not a file descriptor");
  return (int)fd;
}

/* Stream._file(op, ...): "open" path mode ("r", or "w": created if need
 * be, not truncated) | "read" fd n | "seek" fd off whence |
 * "skip" fd len (a hole) | "extend" fd (to the offset, never shorter) |
 * "truncate" fd (to the offset) | "section" fd | "size" fd | "close" fd */
static int s_file(lua_State *L)
{
  /* in the order of the F_* values */
  static const char *const ops[] = {"open", "read", "seek", "extend", "section",
                                    "close", "size", "skip", "truncate", NULL};
  LV_JOB_DECL(struct a_file, a, w_file, p_file);
  a.job.fini = f_file;
  a.op = luaL_checkoption(L, 1, NULL, ops);
  if (a.op == F_OPEN) {
    static const char *const modes[] = {"r", "w", NULL};
    a.path = luaL_checkstring(L, 2);
    a.flags = luaL_checkoption(L, 3, "r", modes) ? O_WRONLY | O_CREAT : O_RDONLY;
    return lv_job_run(L, &a.job);
  }
  a.fd = check_fd(L, 2);
  switch (a.op) {
  case F_READ:
    a.n = check_count(L, 3, 65536);
    a.buf = malloc(a.n);
    if (!a.buf)
      return luaL_error(L, "not enough memory");
    break;
  case F_SKIP: {
    lua_Integer len = luaL_checkinteger(L, 3);
    luaL_argcheck(L, len >= 0, 3, "hole length must not be negative");
    a.off = len;
    break;
  }
  case F_SEEK: {
    static const char *const wh[] = {"set", "cur", "end", NULL};
    static const int whv[] = {SEEK_SET, SEEK_CUR, SEEK_END};
    a.off = luaL_checkinteger(L, 3);
    a.whence = whv[luaL_checkoption(L, 4, "cur", wh)];
    break;
  }
  }
  return lv_job_run(L, &a.job);
}

/* Stream._fileno(file) -> fd of a Lua file handle (flushed). */
static int s_fileno(lua_State *L)
{
  luaL_Stream *p = luaL_checkudata(L, 1, LUA_FILEHANDLE);
  luaL_argcheck(L, p->closef != NULL && p->f != NULL, 1, "attempt to use a closed file");
  fflush(p->f);
  lua_pushinteger(L, fileno(p->f));
  return 1;
}

/* --------------------------------------------- the Lua half's methods */

static int lua_half_k(lua_State *L, int status, lua_KContext ctx)
{
  (void)status;
  return lua_gettop(L) - (int)ctx;
}

/* Call the Lua implementation of a method (lua/virt/stream.lua replaces
 * these entries in the class table when it loads; this loads it first). */
static int lua_half(lua_State *L, const char *name)
{
  int n = lua_gettop(L);
  lua_getglobal(L, "require");
  lua_pushliteral(L, "virt.stream");
  lua_call(L, 1, 0);
  luaL_getmetatable(L, lv_stream_class.tname);
  lua_getfield(L, -1, "__index");
  lua_getfield(L, -1, name);
  if (!lua_isfunction(L, -1) || lua_tocfunction(L, -1) != NULL)
    return luaL_error(L, "virt.stream did not define Stream.%s", name);
  lua_replace(L, -3);
  lua_pop(L, 1);
  lua_insert(L, 1);
  lua_callk(L, n, LUA_MULTRET, 0, lua_half_k);
  return lua_half_k(L, LUA_OK, 0);
}

static int s_recv_all(lua_State *L) { return lua_half(L, "recv_all"); }
static int s_send_all(lua_State *L) { return lua_half(L, "send_all"); }
static int s_sparse_recv_all(lua_State *L) { return lua_half(L, "sparse_recv_all"); }
static int s_sparse_send_all(lua_State *L) { return lua_half(L, "sparse_send_all"); }

/* ----------------------------------------------------------------- open */

int luaopen_virt_stream(lua_State *L)
{
  static const luaL_Reg methods[] = {
    {"send", s_send},                              /* virStreamSend */
    {"recv", s_recv},                              /* virStreamRecv virStreamRecvFlags */
    {"send_hole", s_send_hole},                    /* virStreamSendHole */
    {"recv_hole", s_recv_hole},                    /* virStreamRecvHole */
    {"recv_all", s_recv_all},                      /* virStreamRecvAll */
    {"send_all", s_send_all},                      /* virStreamSendAll */
    {"sparse_recv_all", s_sparse_recv_all},        /* virStreamSparseRecvAll */
    {"sparse_send_all", s_sparse_send_all},        /* virStreamSparseSendAll */
    {"add_callback", s_add_callback},              /* virStreamEventAddCallback */
    {"update_callback", s_update_callback},        /* virStreamEventUpdateCallback */
    {"remove_callback", s_remove_callback},        /* virStreamEventRemoveCallback */
    {"finish", s_finish},                          /* virStreamFinish */
    {"abort", s_abort},                            /* virStreamAbort */
    {"free", s_free},                              /* virStreamFree */
    {"is_nonblocking", s_is_nonblocking},
    {"get_state", s_get_state},
    {"get_connection", s_get_connection},
    {"_wait", s_wait},
    {"_recv_to", s_recv_to},
    {"_recv_bulk", s_recv_bulk},
    {"_file", s_file},
    {"_fileno", s_fileno},
    {NULL, NULL}};
  static const luaL_Reg conn_methods[] = {
    {"new_stream", c_new_stream},                  /* virStreamNew */
    {NULL, NULL}};
  static const luaL_Reg dom_methods[] = {
    {"screenshot", d_screenshot},                  /* virDomainScreenshot */
    {"open_console", d_open_console},              /* virDomainOpenConsole */
    {"open_channel", d_open_channel},              /* virDomainOpenChannel */
    {NULL, NULL}};
  static const struct { const char *name; int value; } consts[] = {
    /* until the generator emits VIR_STREAM_* (it overwrites these) */
    {"NONBLOCK", VIR_STREAM_NONBLOCK},
    {"EVENT_READABLE", VIR_STREAM_EVENT_READABLE},
    {"EVENT_WRITABLE", VIR_STREAM_EVENT_WRITABLE},
    {"EVENT_ERROR", VIR_STREAM_EVENT_ERROR},
    {"EVENT_HANGUP", VIR_STREAM_EVENT_HANGUP},
    {"RECV_STOP_AT_HOLE", VIR_STREAM_RECV_STOP_AT_HOLE},
    {NULL, 0}};
  static const char *const keys[][2] = {
    {"_suspend", SUSPEND_KEY}, {"_wake", WAKE_KEY}, {"current_task", CURRENT_KEY}};
  int i;

  for (i = 0; i < 3; i++) {       /* task.c's primitives, from the module table */
    lua_getfield(L, -1, keys[i][0]);
    if (!lua_isfunction(L, -1))
      return luaL_error(L, "luvirt: virt.%s missing: open tasks before streams", keys[i][0]);
    lua_setfield(L, LUA_REGISTRYINDEX, keys[i][1]);
  }

  lv_class_new(L, &lv_stream_class, methods);
  for (i = 0; consts[i].name; i++) {
    lua_pushinteger(L, consts[i].value);
    lua_setfield(L, -2, consts[i].name);
  }
  /* Sys::Virt::Stream->new($conn, $flags) */
  lua_pushcfunction(L, c_new_stream);
  lua_setfield(L, -2, "new");
  lua_setfield(L, -2, "Stream");
  luaL_getmetatable(L, lv_stream_class.tname);
  lua_pushcfunction(L, s_gc);
  lua_setfield(L, -2, "__gc");
  lua_pushcfunction(L, s_gc);
  lua_setfield(L, -2, "__close");
  lua_pushcfunction(L, s_tostring);
  lua_setfield(L, -2, "__tostring");
  lua_pop(L, 1);

  lv_class_add(L, &lv_connect_class, conn_methods);
  lv_class_add(L, &lv_domain_class, dom_methods);

  lua_newtable(L);
  lua_createtable(L, 0, 1);
  lua_pushliteral(L, "v");
  lua_setfield(L, -2, "__mode");
  lua_setmetatable(L, -2);
  lua_setfield(L, LUA_REGISTRYINDEX, STREAMS_KEY);
  return 0;
}
