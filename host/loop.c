/*
 * loop.c: libvirt's event loop implemented on libuv.
 *
 * libvirt calls the six callbacks below from any thread, sometimes from
 * inside a callback we are dispatching.  So:
 *  - the wanted state (watches, timers) lives in tables under one mutex
 *    that any thread may change; libuv itself is touched only on the loop
 *    thread, which reconciles the uv handles with the wanted state ("dirty"
 *    queue); another thread queues the change and wakes the loop with
 *    uv_async_send;
 *  - the fds live in a private epoll set that any thread may change
 *    directly (epoll_ctl is thread-safe), watched by one uv_poll_t: a
 *    client call on a worker disables and re-enables its socket's watch
 *    without waking the loop thread (it used to cost a wake-up each way);
 *    one entry per fd carries every watch on that fd;
 *  - ids are never reused; a removed watch or timer stays in its table,
 *    flagged, until the loop thread detaches it, and never fires again;
 *  - free callbacks run later from the async callback, once, never inside
 *    remove and never with our lock held;
 *  - dispatch snapshots what is ready, drops the lock, then re-checks each
 *    entry before calling it (an earlier callback may have removed it).
 *
 * Watches and timers that libvirt makes for itself are unreferenced, so an
 * idle connection does not keep a script alive; virt.Event's (a script's
 * own) are referenced.
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#include <errno.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/epoll.h>
#include <sys/ioctl.h>
#include "lv.h"

#define NBUCKET 256

typedef struct fdpoll fdpoll;

typedef struct watch {
  int id, fd, events, removed, ref;
  virEventHandleCallback cb;
  void *opaque;
  virFreeCallback ff;
  fdpoll *fp;
  struct watch *hnext;          /* id hash chain */
  struct watch *fnext;          /* watches of one fd */
} watch;

struct fdpoll {
  int fd, dirty, renew, failed;
  int cur;                      /* epoll events registered; 0: not in the set */
  int touched;                  /* a watch of it was updated (see park) */
  int suspect, avail;           /* last dispatch read nothing; FIONREAD then */
  int parked;                   /* out of the set until a watch is updated */
  int refd;                     /* counted in L_.nref */
  watch *watches;
  fdpoll *hnext;                /* fd hash chain */
  fdpoll *qnext;                /* dirty queue */
};

typedef struct timer {
  int id, interval, removed, ref, dirty, restart, mode;
  virEventTimeoutCallback cb;
  void *opaque;
  virFreeCallback ff;
  uv_timer_t *t;                /* interval > 0 */
  uv_idle_t *idle;              /* interval == 0: every iteration */
  struct timer *hnext;
  struct timer *qnext;
} timer;

typedef struct freeitem {
  virFreeCallback ff;
  void *opaque;
  struct freeitem *next;
} freeitem;

static struct {
  uv_loop_t *loop;
  uv_thread_t thread;
  uv_async_t async;
  uv_poll_t ep;                 /* on epfd */
  uv_timer_t unpark;            /* puts parked fds back, should nobody else */
  int unpark_wanted;            /* another thread parked an fd: unpark is
                                   started, or about to be */
  int epfd;
  int nref;                     /* fds with an enabled referenced watch */
  uv_mutex_t lock;
  int next_watch, next_timer, nwatch, ntimer;
  long nfree;
  atomic_long nwake;            /* wake-ups asked for by other threads */
  long ndispatch;               /* ready fds dispatched (loop thread) */
  long ndefer;                  /* re-enables parked from the start */
  int anyfailed;                /* some fd has failed == 1 */
  watch *watches[NBUCKET];
  timer *timers[NBUCKET];
  fdpoll *fds[NBUCKET];
  fdpoll *dq_head, *dq_tail;    /* dirty fds, in order */
  timer *tq_head, *tq_tail;     /* dirty timers, in order */
  freeitem *fq_head, *fq_tail;  /* free callbacks to run */
  int dispatching;              /* loop thread only: inside a callback */
} L_;

uv_loop_t *lv_loop(void)
{
  return L_.loop;
}

int lv_loop_on_thread(void)
{
  uv_thread_t self = uv_thread_self();
  return L_.loop && uv_thread_equal(&self, &L_.thread);
}

static unsigned bucket(int k)
{
  return (unsigned)k % NBUCKET;
}

static watch *find_watch(int id)
{
  watch *w;
  for (w = L_.watches[bucket(id)]; w; w = w->hnext)
    if (w->id == id)
      return w;
  return NULL;
}

static timer *find_timer(int id)
{
  timer *t;
  for (t = L_.timers[bucket(id)]; t; t = t->hnext)
    if (t->id == id)
      return t;
  return NULL;
}

static fdpoll *find_fd(int fd)
{
  fdpoll *p;
  for (p = L_.fds[bucket(fd)]; p; p = p->hnext)
    if (p->fd == fd)
      return p;
  return NULL;
}

/* Called with the lock held. */
static void mark_fd(fdpoll *p)
{
  if (p->dirty)
    return;
  p->dirty = 1;
  p->qnext = NULL;
  if (L_.dq_tail)
    L_.dq_tail->qnext = p;
  else
    L_.dq_head = p;
  L_.dq_tail = p;
}

static void mark_timer(timer *t)
{
  if (t->dirty)
    return;
  t->dirty = 1;
  t->qnext = NULL;
  if (L_.tq_tail)
    L_.tq_tail->qnext = t;
  else
    L_.tq_head = t;
  L_.tq_tail = t;
}

static void queue_free(virFreeCallback ff, void *opaque)
{
  freeitem *f;
  if (!ff) {
    L_.nfree++;
    return;
  }
  f = malloc(sizeof *f);
  if (!f)
    return;                     /* out of memory: leak rather than crash */
  f->ff = ff;
  f->opaque = opaque;
  f->next = NULL;
  if (L_.fq_tail)
    L_.fq_tail->next = f;
  else
    L_.fq_head = f;
  L_.fq_tail = f;
}

static unsigned to_ep(int vir)
{
  unsigned ev = 0;
  if (vir & VIR_EVENT_HANDLE_READABLE)
    ev |= EPOLLIN;
  if (vir & VIR_EVENT_HANDLE_WRITABLE)
    ev |= EPOLLOUT;
  return ev;
}

/* As libvirt's own poll loop reports them: error and hang-up as such. */
static int to_vir(unsigned ep)
{
  int ev = 0;
  if (ep & EPOLLIN)
    ev |= VIR_EVENT_HANDLE_READABLE;
  if (ep & EPOLLOUT)
    ev |= VIR_EVENT_HANDLE_WRITABLE;
  if (ep & EPOLLERR)
    ev |= VIR_EVENT_HANDLE_ERROR;
  if (ep & (EPOLLHUP | EPOLLRDHUP))
    ev |= VIR_EVENT_HANDLE_HANGUP;
  return ev;
}

static void free_handle_cb(uv_handle_t *h)
{
  free(h);
}

static void close_handle(uv_handle_t *h)
{
  if (h && !uv_is_closing(h))
    uv_close(h, free_handle_cb);
}

/* ------------------------------------------------------------ dispatch */

typedef struct ready {
  watch *w;
  int id, fd, events;
  virEventHandleCallback cb;
  void *opaque;
} ready;

static void dispatch_fd(fdpoll *p, int vir)
{
  ready stackbuf[8], *r = stackbuf;
  int n = 0, cap = 8, i;
  watch *w;

  uv_mutex_lock(&L_.lock);
  for (w = p->watches; w; w = w->fnext)
    if (!w->removed && w->events)
      n++;
  if (n > cap) {
    r = malloc(n * sizeof *r);
    if (!r) {
      uv_mutex_unlock(&L_.lock);
      return;
    }
  }
  n = 0;
  for (w = p->watches; w; w = w->fnext) {
    /* Error and hang-up go to every enabled watch, asked for or not. */
    int ev = vir & (w->events | VIR_EVENT_HANDLE_ERROR | VIR_EVENT_HANDLE_HANGUP);
    if (w->removed || !w->events || !ev)
      continue;
    r[n].w = w;
    r[n].id = w->id;
    r[n].fd = w->fd;
    r[n].events = ev;
    r[n].cb = w->cb;
    r[n].opaque = w->opaque;
    n++;
  }
  uv_mutex_unlock(&L_.lock);

  for (i = 0; i < n; i++) {
    int live;
    uv_mutex_lock(&L_.lock);
    live = !r[i].w->removed;    /* detached watches are freed only later */
    uv_mutex_unlock(&L_.lock);
    if (live) {
      L_.dispatching++;
      r[i].cb(r[i].id, r[i].fd, r[i].events, r[i].opaque);
      L_.dispatching--;
    }
  }
  if (r != stackbuf)
    free(r);
}

/* Lock held.  An fd some script's watch (referenced) is on. */
static int fd_scripted(fdpoll *p)
{
  watch *w;
  for (w = p->watches; w; w = w->fnext)
    if (!w->removed && w->ref)
      return 1;
  return 0;
}

/* Dispatch a ready fd, and park it when libvirt's own callback leaves it
 * as it was.  libvirt's client re-enables its socket's watch as a call
 * ends even when it passes the I/O to another waiting thread, which
 * disables it again once it runs: in between the callback returns at once
 * ("another thread has the buck"), the data stays, and a level-triggered
 * loop spins on it — with 64 tasks of calls, ~100 dispatches per call, the
 * loop thread taking the client's lock in a tight loop against the very
 * thread it waits for.  A parked fd leaves the epoll set until one of its
 * watches is updated (that thread's disable and later enable), or 1 ms.
 * "Left as it was": the callback updated none of the fd's watches, and
 * FIONREAD counts the same bytes after two such dispatches running.  The
 * watches of scripts (referenced) are never parked.
 *
 * A worker's re-enable is parked from the start (update_handle) while
 * other jobs run on the pools: most often one of them takes the socket
 * over at once, and until then it holds nothing the loop must read.  Put
 * in the set, the socket cost an epoll_ctl each way and, whenever replies
 * were waiting, a wake-up of the loop for nothing: with 64 tasks of calls
 * 2 epoll_ctl and 2.5 epoll_wait a call, the client's CPU 33 µs a call
 * against 24 µs with the watch never in the set.  Such an fd is put back
 * within UNPARK_MS even while jobs run (a long call on another connection
 * must not hide this one's events or keepalive), and at once when the
 * last job is done.  A lone call's re-enable goes straight to the set, as
 * before: nobody else would take the socket. */
#define UNPARK_MS 1

static void ep_apply_all_parked(void);

static void unpark_cb(uv_timer_t *h)
{
  (void)h;
  ep_apply_all_parked();
}

static void dispatch_ready(int fd, unsigned ep)
{
  int internal, avail = 0;
  fdpoll *p;
  uv_mutex_lock(&L_.lock);
  p = find_fd(fd);              /* freed only by reconcile, on this thread */
  if (!p) {
    uv_mutex_unlock(&L_.lock);
    return;
  }
  p->touched = 0;
  internal = !p->refd;
  L_.ndispatch++;
  uv_mutex_unlock(&L_.lock);
  dispatch_fd(p, to_vir(ep));
  if (!internal || !(ep & EPOLLIN))
    return;
  uv_mutex_lock(&L_.lock);
  if (p->touched || p->parked || !p->cur) {
    p->suspect = 0;
    uv_mutex_unlock(&L_.lock);
    return;
  }
  uv_mutex_unlock(&L_.lock);
  if (ioctl(p->fd, FIONREAD, &avail) < 0 || avail <= 0) {
    p->suspect = 0;
    return;
  }
  uv_mutex_lock(&L_.lock);
  if (p->suspect && avail == p->avail && !p->touched && p->cur && !p->parked) {
    epoll_ctl(L_.epfd, EPOLL_CTL_DEL, p->fd, NULL);
    p->cur = 0;
    p->parked = 1;
    p->suspect = 0;
    uv_mutex_unlock(&L_.lock);
    if (!uv_is_active((uv_handle_t *)&L_.unpark))
      uv_timer_start(&L_.unpark, unpark_cb, UNPARK_MS, 0);
    return;
  }
  p->suspect = 1;
  p->avail = avail;
  uv_mutex_unlock(&L_.lock);
}

/* The epoll set has something ready: dispatch it, an fd at a time.  A
 * libvirt client reads one message per callback, so while its socket stays
 * ready this goes round again (a bounded number of times, so timers and
 * other handles still get their turn): a stream of events then costs one
 * epoll_wait per message, not one here plus a loop iteration each. */
#define EP_ROUNDS 32

static void ep_cb(uv_poll_t *h, int status, int events)
{
  struct epoll_event evs[64];
  int n, i, round;
  (void)h;
  (void)events;
  if (status < 0)
    return;
  for (round = 0; round < EP_ROUNDS; round++) {
    n = epoll_wait(L_.epfd, evs, 64, 0);
    if (n <= 0)
      break;
    for (i = 0; i < n; i++)
      dispatch_ready(evs[i].data.fd, evs[i].events);
  }
}

static void timer_fire(timer *t)
{
  virEventTimeoutCallback cb = NULL;
  void *opaque = NULL;
  int id = 0;
  uv_mutex_lock(&L_.lock);
  if (!t->removed && t->interval >= 0) {
    cb = t->cb;
    opaque = t->opaque;
    id = t->id;
  }
  uv_mutex_unlock(&L_.lock);
  if (cb) {
    L_.dispatching++;
    cb(id, opaque);
    L_.dispatching--;
  }
}

static void timer_cb(uv_timer_t *h)
{
  timer_fire(h->data);
}

static void idle_cb(uv_idle_t *h)
{
  timer_fire(h->data);
}

/* ----------------------------------------------------------- reconcile
 * Loop thread only.  Takes the lock to read the wanted state, and drops it
 * around anything that could call back. */

static void unlink_fd(fdpoll *p)
{
  fdpoll **pp = &L_.fds[bucket(p->fd)];
  while (*pp && *pp != p)
    pp = &(*pp)->hnext;
  if (*pp)
    *pp = p->hnext;
}

static void unlink_watch(watch *w)
{
  watch **pp = &L_.watches[bucket(w->id)];
  while (*pp && *pp != w)
    pp = &(*pp)->hnext;
  if (*pp)
    *pp = w->hnext;
}

static void unlink_timer(timer *t)
{
  timer **pp = &L_.timers[bucket(t->id)];
  while (*pp && *pp != t)
    pp = &(*pp)->hnext;
  if (*pp)
    *pp = t->hnext;
}

/* Lock held; any thread.  Makes the epoll set match p's watches.  Returns
 * 1 when the loop thread has more to do: the set of referenced fds changed
 * (uv_ref is the loop thread's), or epoll refused the fd (a regular file),
 * which the watches are told from a clean stack. */
static int ep_apply(fdpoll *p)
{
  watch *w;
  unsigned want = 0;
  int vir = 0, ref = 0, rc = 0;

  for (w = p->watches; w; w = w->fnext)
    if (!w->removed && w->events) {
      vir |= w->events;
      if (w->ref)
        ref = 1;
    }
  /* A new watch may be on a new file that reuses the number of a closed
   * one: register the fd afresh. */
  if (p->renew) {
    if (p->cur)
      epoll_ctl(L_.epfd, EPOLL_CTL_DEL, p->fd, NULL);
    p->cur = 0;
    p->renew = 0;
    p->failed = 0;
  }
  want = to_ep(vir);
  if (want)
    want |= EPOLLRDHUP;         /* hang-up even for a watch on writes only */
  if (p->failed || p->parked)
    want = 0;                   /* epoll refused it (the watches were told),
                                   or parked */
  if (want != (unsigned)p->cur) {
    if (!want) {
      epoll_ctl(L_.epfd, EPOLL_CTL_DEL, p->fd, NULL);
      p->cur = 0;
    } else {
      struct epoll_event ev;
      int r;
      memset(&ev, 0, sizeof ev);
      ev.events = want;
      ev.data.fd = p->fd;
      r = epoll_ctl(L_.epfd, p->cur ? EPOLL_CTL_MOD : EPOLL_CTL_ADD, p->fd, &ev);
      if (r < 0 && errno == EEXIST)
        r = epoll_ctl(L_.epfd, EPOLL_CTL_MOD, p->fd, &ev);
      else if (r < 0 && errno == ENOENT)   /* closed and reopened meanwhile */
        r = epoll_ctl(L_.epfd, EPOLL_CTL_ADD, p->fd, &ev);
      if (r == 0)
        p->cur = (int)want;
      else {
        p->cur = 0;
        p->failed = 1;          /* reported by reconcile */
        L_.anyfailed = 1;
        rc = 1;
      }
    }
  }
  if (!p->cur)
    ref = 0;
  if (ref != p->refd) {
    p->refd = ref;
    L_.nref += ref ? 1 : -1;
    rc = 1;
  }
  return rc;
}

/* Lock held; loop thread. */
static void reconcile_fd(fdpoll *p)
{
  watch **pp = &p->watches, *w;
  int live = 0;

  while ((w = *pp)) {
    if (w->removed) {
      *pp = w->fnext;
      unlink_watch(w);
      queue_free(w->ff, w->opaque);
      free(w);
      L_.nwatch--;
      continue;
    }
    live++;
    pp = &w->fnext;
  }
  ep_apply(p);
  if (!live) {
    unlink_fd(p);
    free(p);
  }
}

static void ep_apply_all_parked(void)
{
  int i;
  uv_mutex_lock(&L_.lock);
  L_.unpark_wanted = 0;
  for (i = 0; i < NBUCKET; i++) {
    fdpoll *p;
    for (p = L_.fds[i]; p; p = p->hnext)
      if (p->parked) {
        p->parked = 0;
        ep_apply(p);
      }
  }
  uv_mutex_unlock(&L_.lock);
}

/* Lock held. */
static void reconcile_timer(timer *t)
{
  if (t->removed) {
    close_handle((uv_handle_t *)t->t);
    close_handle((uv_handle_t *)t->idle);
    unlink_timer(t);
    queue_free(t->ff, t->opaque);
    free(t);
    L_.ntimer--;
    return;
  }
  if (!t->t) {
    t->t = malloc(sizeof *t->t);
    t->idle = malloc(sizeof *t->idle);
    if (!t->t || !t->idle) {
      free(t->t);
      free(t->idle);
      t->t = NULL;
      t->idle = NULL;
      return;
    }
    uv_timer_init(L_.loop, t->t);
    uv_idle_init(L_.loop, t->idle);
    t->t->data = t->idle->data = t;
    t->restart = 1;
  }
  if (t->interval < 0) {
    uv_timer_stop(t->t);
    uv_idle_stop(t->idle);
  } else if (t->interval == 0) {
    /* A 0 ms uv_timer re-armed from its own callback would spin inside
     * one uv__run_timers pass; an idle handle fires once per iteration. */
    uv_timer_stop(t->t);
    uv_idle_start(t->idle, idle_cb);
  } else if (t->restart || t->mode != 1) {
    uv_idle_stop(t->idle);
    uv_timer_start(t->t, timer_cb, t->interval, t->interval);
  }
  t->mode = t->interval < 0 ? 0 : t->interval == 0 ? 2 : 1;
  t->restart = 0;
  if (t->ref) {
    uv_ref((uv_handle_t *)t->t);
    uv_ref((uv_handle_t *)t->idle);
  } else {
    uv_unref((uv_handle_t *)t->t);
    uv_unref((uv_handle_t *)t->idle);
  }
}

static void run_frees(void)
{
  freeitem *f, *next;
  uv_mutex_lock(&L_.lock);
  f = L_.fq_head;
  L_.fq_head = L_.fq_tail = NULL;
  uv_mutex_unlock(&L_.lock);
  for (; f; f = next) {
    next = f->next;
    f->ff(f->opaque);
    free(f);
    uv_mutex_lock(&L_.lock);
    L_.nfree++;
    uv_mutex_unlock(&L_.lock);
  }
}

/* clean: called from a clean stack (the async callback, a flush).  kick()
 * runs inside libvirt's add/update calls, whose caller may hold its own
 * lock (an fd stream does): the watches of an fd libuv cannot poll (a
 * regular file) are then told from the async callback instead, or their
 * callback would take that lock again and deadlock. */
static void reconcile(int clean)
{
  fdpoll *failed[16];
  int nfailed = 0, i, more = 0;

  uv_mutex_lock(&L_.lock);
  while (L_.dq_head || L_.tq_head) {
    fdpoll *p = L_.dq_head;
    timer *t = L_.tq_head;
    if (p) {
      L_.dq_head = p->qnext;
      if (!L_.dq_head)
        L_.dq_tail = NULL;
      p->dirty = 0;
      reconcile_fd(p);        /* may free p */
      /* failed is only set on a live fdpoll */
    } else {
      L_.tq_head = t->qnext;
      if (!L_.tq_head)
        L_.tq_tail = NULL;
      t->dirty = 0;
      reconcile_timer(t);
    }
  }
  if (L_.nref > 0)
    uv_ref((uv_handle_t *)&L_.ep);
  else
    uv_unref((uv_handle_t *)&L_.ep);
  /* Tell the watches of an fd epoll refuses, outside the lock.  (The
   * scan runs only when some fd was refused: reconcile runs on every
   * timer update, i.e. twice per batch of events libvirt dispatches.) */
  if (L_.anyfailed) {
    L_.anyfailed = 0;
    for (i = 0; i < NBUCKET && nfailed < 16; i++) {
      fdpoll *p;
      for (p = L_.fds[i]; p && nfailed < 16; p = p->hnext)
        if (p->failed == 1) {
          if (!clean) {
            more = 1;
            L_.anyfailed = 1;
            continue;
          }
          p->failed = 2;
          failed[nfailed++] = p;
        }
    }
    if (nfailed == 16)
      L_.anyfailed = 1;         /* there may be more */
  }
  more |= L_.fq_head != NULL;
  if (L_.unpark_wanted && !uv_is_active((uv_handle_t *)&L_.unpark))
    uv_timer_start(&L_.unpark, unpark_cb, UNPARK_MS, 0);
  uv_mutex_unlock(&L_.lock);
  for (i = 0; i < nfailed; i++)
    dispatch_fd(failed[i], VIR_EVENT_HANDLE_ERROR);
  if (more)
    uv_async_send(&L_.async);   /* frees run from a clean stack */
}

static void async_cb(uv_async_t *h)
{
  (void)h;
  reconcile(1);
  run_frees();
}

/* Apply now when on the loop thread outside any dispatch (a snapshot being
 * dispatched must not see its watches freed), else wake the loop. */
static void kick(void)
{
  if (!L_.dispatching && lv_loop_on_thread())
    reconcile(0);
  else {
    atomic_fetch_add_explicit(&L_.nwake, 1, memory_order_relaxed);
    uv_async_send(&L_.async);
  }
}

/* ---------------------------------------------- the six libvirt callbacks */

static int add_handle(int fd, int events, virEventHandleCallback cb,
                      void *opaque, virFreeCallback ff)
{
  watch *w = calloc(1, sizeof *w);
  fdpoll *p;
  int id;
  if (!w || fd < 0 || !cb) {
    free(w);
    return -1;
  }
  uv_mutex_lock(&L_.lock);
  p = find_fd(fd);
  if (!p) {
    p = calloc(1, sizeof *p);
    if (!p) {
      uv_mutex_unlock(&L_.lock);
      free(w);
      return -1;
    }
    p->fd = fd;
    p->hnext = L_.fds[bucket(fd)];
    L_.fds[bucket(fd)] = p;
  }
  id = w->id = ++L_.next_watch;
  w->fd = fd;
  w->events = events;
  w->cb = cb;
  w->opaque = opaque;
  w->ff = ff;
  w->fp = p;
  w->fnext = p->watches;
  p->watches = w;
  w->hnext = L_.watches[bucket(id)];
  L_.watches[bucket(id)] = w;
  L_.nwatch++;
  p->renew = 1;
  if (ep_apply(p)) {
    mark_fd(p);
    uv_mutex_unlock(&L_.lock);
    kick();
  } else
    uv_mutex_unlock(&L_.lock);
  return id;
}

static void update_handle(int id, int events)
{
  watch *w;
  uv_mutex_lock(&L_.lock);
  w = find_watch(id);
  if (w && !w->removed) {
    fdpoll *p = w->fp;
    int changed = w->events != events || p->parked;
    p->touched = 1;
    p->parked = 0;
    w->events = events;
    if (events && !p->cur && !p->failed && !p->renew && lv_jobs_running() > 1 &&
        !fd_scripted(p) && !lv_loop_on_thread()) {
      /* parked from the start: see dispatch_ready */
      p->parked = 1;
      L_.ndefer++;
      if (!L_.unpark_wanted) {
        L_.unpark_wanted = 1;
        uv_mutex_unlock(&L_.lock);
        kick();
        return;
      }
      w = NULL;
    } else if (!changed || !ep_apply(p))
      w = NULL;                 /* done: the loop need not wake */
    else
      mark_fd(p);
  } else
    w = NULL;
  uv_mutex_unlock(&L_.lock);
  if (w)
    kick();
}

static int remove_handle(int id)
{
  watch *w;
  uv_mutex_lock(&L_.lock);
  w = find_watch(id);
  if (!w || w->removed) {
    uv_mutex_unlock(&L_.lock);
    return -1;
  }
  w->removed = 1;
  ep_apply(w->fp);              /* out of the set now: it never fires again */
  mark_fd(w->fp);               /* freed, and its free callback run, later */
  uv_mutex_unlock(&L_.lock);
  kick();
  return 0;
}

static int add_timeout(int interval, virEventTimeoutCallback cb, void *opaque,
                       virFreeCallback ff)
{
  timer *t = calloc(1, sizeof *t);
  int id;
  if (!t || !cb) {
    free(t);
    return -1;
  }
  uv_mutex_lock(&L_.lock);
  id = t->id = ++L_.next_timer;
  t->interval = interval < 0 ? -1 : interval;
  t->cb = cb;
  t->opaque = opaque;
  t->ff = ff;
  t->hnext = L_.timers[bucket(id)];
  L_.timers[bucket(id)] = t;
  L_.ntimer++;
  mark_timer(t);
  uv_mutex_unlock(&L_.lock);
  kick();
  return id;
}

static void update_timeout(int id, int interval)
{
  timer *t;
  uv_mutex_lock(&L_.lock);
  t = find_timer(id);
  if (t && !t->removed) {
    t->interval = interval < 0 ? -1 : interval;
    t->restart = 1;
    mark_timer(t);
  } else
    t = NULL;
  uv_mutex_unlock(&L_.lock);
  if (t)
    kick();
}

static int remove_timeout(int id)
{
  timer *t;
  uv_mutex_lock(&L_.lock);
  t = find_timer(id);
  if (!t || t->removed) {
    uv_mutex_unlock(&L_.lock);
    return -1;
  }
  t->removed = 1;
  mark_timer(t);
  uv_mutex_unlock(&L_.lock);
  kick();
  return 0;
}

/* ---------------------------------------------------------------- public */

void lv_loop_ref_handle(int id, int ref)
{
  watch *w;
  uv_mutex_lock(&L_.lock);
  w = find_watch(id);
  if (w && !w->removed) {
    w->ref = ref;
    ep_apply(w->fp);
    mark_fd(w->fp);
  }
  uv_mutex_unlock(&L_.lock);
  kick();
}

void lv_loop_ref_timeout(int id, int ref)
{
  timer *t;
  uv_mutex_lock(&L_.lock);
  t = find_timer(id);
  if (t && !t->removed) {
    t->ref = ref;
    mark_timer(t);
  }
  uv_mutex_unlock(&L_.lock);
  kick();
}

void lv_loop_stats(int *watches, int *timers, long *frees, long *wakes,
                   long *dispatches, long *deferred)
{
  uv_mutex_lock(&L_.lock);
  if (watches)
    *watches = L_.nwatch;
  if (timers)
    *timers = L_.ntimer;
  if (frees)
    *frees = L_.nfree;
  if (wakes)
    *wakes = atomic_load_explicit(&L_.nwake, memory_order_relaxed);
  if (dispatches)
    *dispatches = L_.ndispatch;
  if (deferred)
    *deferred = L_.ndefer;
  uv_mutex_unlock(&L_.lock);
}

void lv_loop_unpark(void)
{
  int any;
  if (!L_.loop)
    return;
  uv_mutex_lock(&L_.lock);
  any = L_.unpark_wanted || uv_is_active((uv_handle_t *)&L_.unpark);
  uv_mutex_unlock(&L_.lock);
  if (any)
    ep_apply_all_parked();
}

/* Apply pending changes and run pending free callbacks now (loop thread;
 * used when closing, since an unreferenced async may never be run). */
void lv_loop_flush(void)
{
  if (!L_.loop || !lv_loop_on_thread())
    return;
  reconcile(1);
  run_frees();
}

int lv_loop_init(uv_loop_t *loop)
{
  if (L_.loop)
    return L_.loop == loop ? 0 : -1;
  if (uv_mutex_init(&L_.lock) < 0)
    return -1;
  L_.epfd = epoll_create1(EPOLL_CLOEXEC);
  if (L_.epfd < 0)
    return -1;
  if (uv_poll_init(loop, &L_.ep, L_.epfd) < 0 ||
      uv_poll_start(&L_.ep, UV_READABLE, ep_cb) < 0 ||
      uv_async_init(loop, &L_.async, async_cb) < 0) {
    close(L_.epfd);
    return -1;
  }
  uv_timer_init(loop, &L_.unpark);
  uv_unref((uv_handle_t *)&L_.unpark);
  uv_unref((uv_handle_t *)&L_.ep);
  uv_unref((uv_handle_t *)&L_.async);
  L_.loop = loop;
  L_.thread = uv_thread_self();
  virEventRegisterImpl(add_handle, update_handle, remove_handle,
                       add_timeout, update_timeout, remove_timeout);
  return 0;
}
