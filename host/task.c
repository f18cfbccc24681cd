/*
 * task.c: tasks (coroutines driven by the loop) and the worker pools behind
 * lv_job, the one mechanism that makes a binding async-capable.
 *
 * A task's coroutine carries a pointer to its task in the thread's extra
 * space (LUA_EXTRASPACE), so a binding finds "am I in a task" in one load;
 * coroutines a script makes itself inherit NULL from the main thread and
 * their libvirt calls simply block, as calls outside tasks do.
 *
 * Worker threads only run job->work(); everything that touches Lua happens
 * on the loop thread, in the completion callback and the continuation.
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#include <pthread.h>
#include <sched.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "lv.h"

#define TASK_MT "virt.Task"
#define ERRH_KEY "luvirt.errhandler"

enum { T_READY, T_RUNNING, T_SUSPENDED, T_DONE, T_FAILED };
/* what a suspended task waits for: only that may resume it */
enum { S_NONE, S_WAKE, S_JOB, S_SLEEP };
static const char *const status_names[] = {"ready", "running", "suspended", "done", "failed"};

typedef struct task {
  lua_State *co;
  int self;                 /* registry ref to the userdata while unfinished */
  int status;
  int suspended;            /* S_*: yielded by one of ours, and for what */
  int nargs;                /* values waiting on co's stack for the resume */
  int observed;             /* its outcome was read (wait) */
  int waiting_loop;         /* a blocking wait() outside tasks runs the loop */
  struct task *qnext;
} task;
/* user values of the task userdata: 1 = coroutine, 2 = results (packed
 * table) or error value, 3 = waiting tasks (array), 4 = traceback */

static lua_State *mainL;
static uv_idle_t ready_idle;
static task *rq_head, *rq_tail;
static int running_loop;      /* inside lv_task_run_loop */
static int in_callback;       /* inside a task resume or a Lua callback:
                                 the loop is running, whoever started it */
static int live_tasks;
static int pending_jobs;      /* loop thread only: jobs on the pools */

lua_State *lv_main_state(void)
{
  return mainL;
}

/* Jobs the workers have done, for the loop thread (done_cb) */
static uv_mutex_t done_m;
static uv_cond_t done_c;      /* signalled with each, for lv_task_shutdown */
static lv_job *done_head, *done_tail;

static void done_cb(uv_async_t *h);
static void drop_sleepers(void);
static void unpin(lv_job *job);

/* Give back the libvirt references hold_take took (any thread). */
static void drop_refs(lv_job *job)
{
  int i;
  for (i = 0; i < job->nhold; i++)
    if (!(job->pinmask & (1u << i)))
      job->holdcls[i]->free(job->hold[i]);
}

/* The state is about to close: nothing may call into it any more. */
void lv_task_shutdown(void)
{
  mainL = NULL;
  /* [REPL/embed] the tasks queued to run are gone with the state; work
   * still on the pools (closes from __gc, calls of tasks that will never
   * resume) finishes and is freed here.  The loop is not run for it: no
   * other callback may call into a closing state. */
  rq_head = rq_tail = NULL;
  uv_idle_stop(&ready_idle);
  drop_sleepers();
  while (pending_jobs > 0) {
    done_cb(NULL);
    if (pending_jobs > 0) {   /* wait for the next, without polling */
      uv_mutex_lock(&done_m);
      while (!done_head)
        uv_cond_wait(&done_c, &done_m);
      uv_mutex_unlock(&done_m);
    }
  }
}

/* [REPL/embed] Finalized after the connections (made later: Lua finalizes
 * in reverse order) and, under plain Lua, before luv's loop (made
 * earlier), which closes every handle of the loop: the connections' closes
 * must be done by then, or a worker signals a closed loop.  It also keeps
 * luv's module alive, whose _loop field owns that loop: busted, for one,
 * drops package.loaded between spec files. */
static int sentinel_gc(lua_State *L)
{
  (void)L;
  lv_task_shutdown();
  lv_loop_flush();
  return 0;
}

static void adopt_state(lua_State *L)
{
  lua_rawgeti(L, LUA_REGISTRYINDEX, LUA_RIDX_MAINTHREAD);
  mainL = lua_tothread(L, -1);
  lua_pop(L, 1);
  /* current() reads it; Lua leaves the main thread's copy uninitialized */
  *(void **)lua_getextraspace(mainL) = NULL;
  lua_newuserdatauv(L, 0, 1);
  lua_createtable(L, 0, 1);
  lua_pushcfunction(L, sentinel_gc);
  lua_setfield(L, -2, "__gc");
  lua_setmetatable(L, -2);
  lua_getfield(L, LUA_REGISTRYINDEX, LUA_LOADED_TABLE);
  lua_getfield(L, -1, "luv");
  lua_setiuservalue(L, -3, 1);
  lua_pop(L, 1);
  lua_setfield(L, LUA_REGISTRYINDEX, "luvirt.sentinel");
}

int lv_task_pending(void)
{
  return live_tasks;
}

static task *current(lua_State *L)
{
  return *(task **)lua_getextraspace(L);
}

int lv_task_async(lua_State *L)
{
  task *t = current(L);
  return t && t->co == L && lua_isyieldable(L);
}

/* ------------------------------------------------------ error reporting */

static int msghandler(lua_State *L)
{
  const char *msg = lua_tostring(L, 1);
  if (msg == NULL) {
    if (luaL_callmeta(L, 1, "__tostring") && lua_type(L, -1) == LUA_TSTRING)
      msg = lua_tostring(L, -1);
    else
      msg = lua_pushfstring(L, "(error object is a %s value)", luaL_typename(L, 1));
  }
  luaL_traceback(L, L, msg, 1);
  return 1;
}

/* report(err, where): under lua_pcall, so that reporting (which allocates)
 * cannot raise either. */
static int report(lua_State *L)
{
  const char *where = lua_touserdata(L, 2);
  lua_getfield(L, LUA_REGISTRYINDEX, ERRH_KEY);
  if (lua_isfunction(L, -1)) {
    lua_pushvalue(L, 1);
    lua_pushstring(L, where);
    if (lua_pcall(L, 2, 0, 0) == LUA_OK)
      return 0;
    fprintf(stderr, "luvirt: error in the error handler: %s\n",
            luaL_tolstring(L, -1, NULL));
  }
  fprintf(stderr, "luvirt: error in %s: %s\n", where, luaL_tolstring(L, 1, NULL));
  fflush(stderr);
  return 0;
}

/* The error (with traceback) is on top of L: give it to the handler set by
 * virt.set_error_handler, or print it.  Pops it.  Never raises. */
void lv_report_error(lua_State *L, const char *where)
{
  if (lua_checkstack(L, 3)) {
    lua_pushcfunction(L, report);
    lua_insert(L, -2);
    lua_pushlightuserdata(L, (void *)where);
    if (lua_pcall(L, 2, 0, 0) == LUA_OK)
      return;
  }
  /* not even that could be done (no memory): what is left is on top */
  fprintf(stderr, "luvirt: error in %s: %s\n", where,
          lua_type(L, -1) == LUA_TSTRING ? lua_tostring(L, -1) : "(cannot report it: no memory)");
  fflush(stderr);
  lua_pop(L, 1);
}

int lv_pcall(lua_State *L, int nargs, int nresults, const char *where)
{
  int base = lua_gettop(L) - nargs;
  int rc;
  lua_pushcfunction(L, msghandler);
  lua_insert(L, base);
  in_callback++;
  rc = lua_pcall(L, nargs, nresults, base);
  in_callback--;
  lua_remove(L, base);
  if (rc != LUA_OK) {
    lv_report_error(L, where);
    return -1;
  }
  return 0;
}

/* ---------------------------------------------------------------- pools */

typedef struct pool {
  uv_mutex_t m;
  uv_cond_t c;
  lv_job *head, *tail;
  int nthreads, want, idle;
} pool;

static pool pools[2];
static atomic_int running;    /* jobs inside work() on the workers */

int lv_jobs_running(void)
{
  return atomic_load_explicit(&running, memory_order_relaxed);
}
static uv_async_t done_async;

/* Workers are SCHED_BATCH: a worker woken by the loop thread's job (or by
 * its reply) does not preempt the thread that woke it.  As SCHED_OTHER the
 * job the loop thread hands over preempted the loop on its own CPU before
 * it got to sleep, and the loop woken by the result preempted the worker
 * before that reached its condition: ~1.9 involuntary context switches per
 * call on top of the 3 the hand-offs need (perf stat; a sequential call in
 * a task 0.72-0.77x C's rate before, 0.84-0.91x after).  The CPU share is the
 * same as SCHED_OTHER's; only wake-up preemption is given up, which the
 * loop thread, the one that runs Lua, keeps.  Best effort: a refusal
 * (seccomp, another policy) leaves the thread as it was. */
static void worker_policy(void)
{
  struct sched_param sp;
  int policy;
  if (getenv("LUVIRT_WORKER_SCHED_OTHER") ||
      pthread_getschedparam(pthread_self(), &policy, &sp) != 0 || policy != SCHED_OTHER)
    return;
  sp.sched_priority = 0;
  (void)pthread_setschedparam(pthread_self(), SCHED_BATCH, &sp);
}

static void worker(void *arg)
{
  pool *p = arg;
  worker_policy();
  for (;;) {
    lv_job *job;
    int first;
    uv_mutex_lock(&p->m);
    while (!p->head) {
      p->idle++;
      uv_cond_wait(&p->c, &p->m);
      p->idle--;
    }
    job = p->head;
    p->head = job->next;
    if (!p->head)
      p->tail = NULL;
    uv_mutex_unlock(&p->m);

    atomic_fetch_add_explicit(&running, 1, memory_order_relaxed);
    if (job->work(job) < 0) {
      job->failed = 1;
      lv_error_save(&job->err);   /* thread-local: copy it here */
    }
    atomic_fetch_sub_explicit(&running, 1, memory_order_relaxed);
    drop_refs(job);

    job->next = NULL;
    uv_mutex_lock(&done_m);
    first = done_head == NULL;
    if (done_tail)
      done_tail->next = job;
    else
      done_head = job;
    done_tail = job;
    uv_cond_signal(&done_c);
    uv_mutex_unlock(&done_m);
    /* a list already waiting means the loop has been woken for it: many
     * workers finishing at once then cost one wake-up, not one each */
    if (first)
      uv_async_send(&done_async);
  }
}

static int pool_submit(lv_job *job)
{
  pool *p = &pools[job->pool == LV_POOL_LONG];
  uv_mutex_lock(&p->m);
  /* Grow on demand up to the configured size: a thread per queued job
   * nobody idle can take. */
  if (p->idle == 0 && p->nthreads < p->want) {
    uv_thread_t th;
    uv_thread_options_t opts = {UV_THREAD_HAS_STACK_SIZE, 1 << 20};
    if (uv_thread_create_ex(&th, &opts, worker, p) == 0)
      p->nthreads++;
    else if (p->nthreads == 0) {
      uv_mutex_unlock(&p->m);
      return -1;
    }
  }
  job->next = NULL;
  if (p->tail)
    p->tail->next = job;
  else
    p->head = job;
  p->tail = job;
  uv_mutex_unlock(&p->m);
  /* after the unlock: the woken worker does not block on the mutex */
  uv_cond_signal(&p->c);
  if (pending_jobs++ == 0)
    uv_ref((uv_handle_t *)&done_async);
  return 0;
}

int lv_task_pool_size(int which, int n)
{
  pool *p = &pools[which == LV_POOL_LONG];
  int old;
  uv_mutex_lock(&p->m);
  old = p->want;
  if (n > 0)
    p->want = n;    /* threads already started stay; more start on demand */
  uv_mutex_unlock(&p->m);
  return old;
}

static void task_resume(task *t, int nargs);

/* ------------------------------------------- references released later */

/* Work for the loop thread queued from any thread, in order: releasing a
 * registry reference, or calling a script's callback that libvirt invoked
 * on a worker (a connection's close callback fires on the thread whose
 * call saw the connection die). */
typedef struct later {
  int ref;                      /* to release, or the function to call */
  lv_later_fn push;             /* NULL: release ref */
  void *data;
  const char *where;
  struct later *next;
} later;
static later *later_head, *later_tail;   /* under done_m */
static uv_async_t hold_async; /* referenced while scripts' callbacks exist */
static int holds;

void lv_hold(int delta)
{
  holds += delta;             /* loop thread only */
  if (holds > 0)
    uv_ref((uv_handle_t *)&hold_async);
  else
    uv_unref((uv_handle_t *)&hold_async);
}

static void queue_later(int ref, lv_later_fn push, void *data, const char *where)
{
  later *l = malloc(sizeof *l);
  if (!l)
    return;
  l->ref = ref;
  l->push = push;
  l->data = data;
  l->where = where;
  l->next = NULL;
  uv_mutex_lock(&done_m);
  if (later_tail)
    later_tail->next = l;
  else
    later_head = l;
  later_tail = l;
  uv_mutex_unlock(&done_m);
  uv_async_send(&done_async);
}

void lv_unref_later(int ref)
{
  if (ref != LUA_NOREF && ref != LUA_REFNIL)
    queue_later(ref, NULL, NULL, NULL);
}

void lv_call_later(int fn_ref, lv_later_fn push, void *data, const char *where)
{
  queue_later(fn_ref, push, data, where);
}

static void run_later(void)
{
  later *l, *next;
  uv_mutex_lock(&done_m);
  l = later_head;
  later_head = later_tail = NULL;
  uv_mutex_unlock(&done_m);
  for (; l; l = next) {
    next = l->next;
    if (!mainL)               /* after lv_task_shutdown the state is gone */
      ;
    else if (!l->push)
      luaL_unref(mainL, LUA_REGISTRYINDEX, l->ref);
    else
      lv_deliver(l->ref, l->push, l->data, l->where);   /* pushes under pcall */
    if (l->push)
      free(l->data);
    free(l);
  }
}

static void hold_cb(uv_async_t *h)
{
  (void)h;
}

static void done_cb(uv_async_t *h)
{
  lv_job *job, *next;
  (void)h;
  uv_mutex_lock(&done_m);
  job = done_head;
  done_head = done_tail = NULL;
  uv_mutex_unlock(&done_m);
  for (; job; job = next) {
    next = job->next;
    if (--pending_jobs == 0)
      uv_unref((uv_handle_t *)&done_async);
    if (job->task && mainL)   /* [REPL/embed] no resume once the state is closed */
      task_resume(job->task, 0);
    else {
      unpin(job);             /* the objects are finalized, not yet freed */
      if (job->failed)
        lv_error_clear(&job->err);
      if (job->fini)
        job->fini(job);
      free(job);
    }
  }
  run_later();
  if (pending_jobs == 0)
    lv_loop_unpark();
}

/* ----------------------------------------------------------------- jobs */

/* Keep what a job holds valid while it runs on a worker: a pin (loop
 * thread bookkeeping in the object's flags) for the classes that ask for
 * one, a libvirt reference for the others. */
static void hold_take(lv_job *job, int pins)
{
  int i;
  job->pinmask = 0;
  for (i = 0; i < job->nhold; i++) {
    lv_obj *o = job->holdobj[i];
    if (pins && job->holdcls[i]->pin && o &&
        (o->flags & LV_OBJ_BUSYMASK) != LV_OBJ_BUSYMASK) {
      o->flags += LV_OBJ_BUSY1;
      job->pinmask |= 1u << i;
    } else
      job->holdcls[i]->ref(job->hold[i]);
  }
}

/* Loop thread, once the work is done and its results are pushed.  The
 * object is alive: its task's stack keeps it until the job's continuation
 * has run, and when the state closes instead, finalizers all run before
 * any object's memory goes. */
static void unpin(lv_job *job)
{
  int i;
  for (i = 0; i < job->nhold; i++)
    if (job->pinmask & (1u << i)) {
      lv_obj *o = job->holdobj[i];
      o->flags -= LV_OBJ_BUSY1;
      if (!(o->flags & LV_OBJ_BUSYMASK) && (o->flags & LV_OBJ_FREEPEND)) {
        o->flags &= ~LV_OBJ_FREEPEND;
        job->holdcls[i]->free(job->hold[i]);
      }
    }
  job->pinmask = 0;
}

/* pool_submit failed: give back what hold_take took. */
static void hold_undo(lv_job *job)
{
  drop_refs(job);
  unpin(job);
}

void lv_job_init(lv_job *job, size_t size, lv_work_fn work, lv_push_fn push)
{
  memset(job, 0, size);
  job->size = size;
  job->work = work;
  job->push = push;
}

void *lv_job_hold(lv_job *job, lua_State *L, int idx, const lv_class *cls)
{
  lv_obj *o = lv_obj_open(L, idx, cls);
  int inl = (o->flags & LV_OBJ_INLINE) != 0;
  job->inline_ok = job->nhold == 0 ? inl : job->inline_ok && inl;
  if (job->nhold < LV_JOB_MAXHOLD) {
    job->hold[job->nhold] = o->ptr;
    job->holdcls[job->nhold] = cls;
    job->holdobj[job->nhold] = o;
    job->nhold++;
  }
  return o->ptr;
}

/* push_k(args..., job): the job's push() in a frame of its own, with the
 * binding's arguments at the same indices (pushes name their parent
 * object by index). */
static int push_k(lua_State *L)
{
  lv_job *job = lua_touserdata(L, -1);
  lua_pop(L, 1);
  return job->push(L, job);
}

/* Run push(); when something must be freed after it (fini, the heap copy),
 * under lua_pcall, so that a push that raises (no memory for the results)
 * skips neither.  Returns the number of results, or -1 with the error on
 * top. */
static int push_results(lua_State *L, lv_job *job, int heap)
{
  int top = lua_gettop(L), i;
  if ((!job->fini && !heap) || !lua_checkstack(L, top + 2))
    return job->push(L, job);
  lua_pushcfunction(L, push_k);
  for (i = 1; i <= top; i++)
    lua_pushvalue(L, i);
  lua_pushlightuserdata(L, job);
  if (lua_pcall(L, top + 1, LUA_MULTRET, 0) != LUA_OK)
    return -1;
  return lua_gettop(L) - top;
}

static int finish(lua_State *L, lv_job *job, int heap)
{
  int n;
  if (job->failed) {
    lv_error e = job->err;
    memset(&job->err, 0, sizeof job->err);
    if (job->fini)
      job->fini(job);
    unpin(job);
    if (heap)
      free(job);
    return lv_error_raise(L, &e);
  }
  n = job->push ? push_results(L, job, heap) : 0;
  if (job->fini)
    job->fini(job);
  unpin(job);
  if (heap)
    free(job);
  return n < 0 ? lua_error(L) : n;
}

int lv_job_detach(lv_job *job)
{
  lv_job *heap = malloc(job->size);
  if (!heap)
    return -1;
  memcpy(heap, job, job->size);
  heap->task = NULL;
  hold_take(heap, 0);           /* nobody waits: references, no pins */
  if (pool_submit(heap) < 0) {
    hold_undo(heap);
    free(heap);
    return -1;
  }
  return 0;
}

static int job_k(lua_State *L, int status, lua_KContext ctx)
{
  (void)status;
  return finish(L, (lv_job *)ctx, 1);
}

int lv_job_run(lua_State *L, lv_job *job)
{
  lv_job *heap;
  task *t;
  if (job->inline_ok || !lv_task_async(L)) {
    if (job->work(job) < 0) {
      job->failed = 1;
      lv_error_save(&job->err);
    }
    return finish(L, job, 0);
  }
  heap = malloc(job->size);
  if (!heap)
    return luaL_error(L, "not enough memory");
  memcpy(heap, job, job->size);
  t = current(L);
  heap->task = t;
  hold_take(heap, 1);
  if (pool_submit(heap) < 0) {
    hold_undo(heap);
    free(heap);
    return luaL_error(L, "luvirt: cannot start a worker thread");
  }
  t->suspended = S_JOB;
  return lua_yieldk(L, 0, (lua_KContext)heap, job_k);
}

/* ---------------------------------------------------------------- tasks */

static void ready_cb(uv_idle_t *h);

static void enqueue(task *t)
{
  t->status = T_READY;
  t->qnext = NULL;
  if (rq_tail)
    rq_tail->qnext = t;
  else
    rq_head = t;
  rq_tail = t;
  uv_idle_start(&ready_idle, ready_cb);
}

static void ready_cb(uv_idle_t *h)
{
  task *t = rq_head, *next;
  rq_head = rq_tail = NULL;
  uv_idle_stop(h);
  for (; t; t = next) {
    next = t->qnext;
    task_resume(t, t->nargs);
  }
}

static void push_task(lua_State *L, task *t)
{
  lua_rawgeti(L, LUA_REGISTRYINDEX, t->self);
}

/* Wake the tasks that wait for t; they read t's outcome themselves. */
static void wake_waiters(lua_State *L, task *t)
{
  lua_Integer i, n;
  push_task(L, t);
  lua_getiuservalue(L, -1, 3);
  n = luaL_len(L, -1);
  for (i = 1; i <= n; i++) {
    task *w;
    lua_rawgeti(L, -1, i);
    w = lua_touserdata(L, -1);
    lua_pop(L, 1);
    if (w && w->status == T_SUSPENDED && w->suspended == S_WAKE) {
      w->nargs = 0;
      enqueue(w);
    }
  }
  lua_pop(L, 2);
}

static void task_resume(task *t, int nargs)
{
  lua_State *L = mainL, *co = t->co;
  int nres = 0, rc;
  if (!L)                     /* [REPL/embed] the state is closed: t is gone */
    return;
  t->status = T_RUNNING;
  t->nargs = 0;
  t->suspended = S_NONE;
  in_callback++;
  rc = lua_resume(co, L, nargs, &nres);
  in_callback--;
  if (rc == LUA_YIELD) {
    if (t->suspended) {
      t->status = T_SUSPENDED;
      lua_pop(co, nres);
    } else {
      /* a plain coroutine.yield() in a task: let others run, then go on */
      lua_pop(co, nres);
      enqueue(t);
    }
    return;
  }
  push_task(L, t);
  if (rc == LUA_OK) {
    int i, tidx;
    lua_createtable(L, nres, 1);
    tidx = lua_gettop(L);
    lua_xmove(co, L, nres);
    for (i = nres; i >= 1; i--)
      lua_rawseti(L, tidx, i);
    lua_pushinteger(L, nres);
    lua_setfield(L, tidx, "n");
    t->status = T_DONE;
  } else {
    int top;
    const char *msg;
    lua_xmove(co, L, 1);                       /* [task, err] */
    top = lua_gettop(L);
    msg = lua_type(L, top) == LUA_TSTRING ? lua_tostring(L, top) : NULL;
    if (!msg) {
      if (luaL_callmeta(L, top, "__tostring") && lua_isstring(L, -1))
        msg = lua_tostring(L, -1);
      else
        msg = lua_pushfstring(L, "(error object is a %s value)", luaL_typename(L, top));
    }
    luaL_traceback(L, co, msg, 0);
    lua_setiuservalue(L, top - 1, 4);
    lua_settop(L, top);
    t->status = T_FAILED;
  }
  lua_setiuservalue(L, -2, 2);
  lua_settop(co, 0);
  wake_waiters(L, t);
  lua_pop(L, 1);
  live_tasks--;
  luaL_unref(L, LUA_REGISTRYINDEX, t->self);   /* now only its holders keep it */
  t->self = LUA_NOREF;
}

static task *check_task(lua_State *L, int idx)
{
  return luaL_checkudata(L, idx, TASK_MT);
}

/* fn and nargs arguments on top of L: make a task of them, schedule it and
 * push the task. */
int lv_task_spawn(lua_State *L, int nargs)
{
  int fidx = lua_gettop(L) - nargs;
  lua_State *co;
  task *t;
  luaL_checktype(L, fidx, LUA_TFUNCTION);
  t = lua_newuserdatauv(L, sizeof *t, 4);
  memset(t, 0, sizeof *t);
  t->self = LUA_NOREF;
  t->status = T_DONE;           /* until it is complete */
  luaL_setmetatable(L, TASK_MT);
  co = lua_newthread(L);
  lua_setiuservalue(L, -2, 1);
  lua_newtable(L);
  lua_setiuservalue(L, -2, 3);
  *(task **)lua_getextraspace(co) = t;
  t->co = co;
  lua_insert(L, fidx);          /* task below fn and its arguments */
  lua_xmove(L, co, nargs + 1);
  t->nargs = nargs;
  lua_pushvalue(L, fidx);
  t->self = luaL_ref(L, LUA_REGISTRYINDEX);
  live_tasks++;
  enqueue(t);
  return 1;
}

/* virt.spawn(fn, ...) -> task */
static int l_spawn(lua_State *L)
{
  luaL_checktype(L, 1, LUA_TFUNCTION);
  return lv_task_spawn(L, lua_gettop(L) - 1);
}

int lv_task_run_loop(lua_State *L, uv_run_mode mode)
{
  int rc;
  if (running_loop || in_callback)
    return luaL_error(L, "the loop is already running: this would run it inside itself "
                         "(wait for things with tasks instead)");
  running_loop = 1;
  lv_loop_flush();
  rc = uv_run(lv_loop(), mode);
  running_loop = 0;
  return rc;
}

/* virt.run([mode]): run the loop until nothing is left ("once", "nowait"). */
static int l_run(lua_State *L)
{
  static const char *const names[] = {"default", "once", "nowait", NULL};
  static const uv_run_mode modes[] = {UV_RUN_DEFAULT, UV_RUN_ONCE, UV_RUN_NOWAIT};
  int m = luaL_checkoption(L, 1, "default", names);
  lua_pushboolean(L, lv_task_run_loop(L, modes[m]));
  return 1;
}

static int l_stop(lua_State *L)
{
  (void)L;
  uv_stop(lv_loop());
  return 0;
}

/* Suspend the running task until someone wakes it with _wake(task, ...);
 * returns the values given to _wake. */
static int suspend_k(lua_State *L, int status, lua_KContext ctx)
{
  (void)status;
  return lua_gettop(L) - (int)ctx;
}

static int suspend(lua_State *L, int what, lua_KFunction k, lua_KContext ctx)
{
  task *t = current(L);
  if (!t || t->co != L || !lua_isyieldable(L))
    return luaL_error(L, "this would block: call it inside a task (virt.spawn)");
  t->suspended = what;
  return lua_yieldk(L, 0, ctx, k);
}

static int l_suspend(lua_State *L)
{
  return suspend(L, S_WAKE, suspend_k, lua_gettop(L));
}

static int l_wake(lua_State *L)
{
  task *t = check_task(L, 1);
  int n = lua_gettop(L) - 1;
  if (t->status != T_SUSPENDED || t->suspended != S_WAKE) {
    lua_pushboolean(L, 0);
    return 1;
  }
  lua_xmove(L, t->co, n);
  t->nargs = n;
  enqueue(t);
  lua_pushboolean(L, 1);
  return 1;
}

static int l_current(lua_State *L)
{
  task *t = current(L);
  if (t && t->co == L && t->self != LUA_NOREF)
    push_task(L, t);
  else
    lua_pushnil(L);
  return 1;
}

static int l_in_task(lua_State *L)
{
  lua_pushboolean(L, lv_task_async(L));
  return 1;
}

/* The outcome of a finished task: its results, or its error raised again. */
static int outcome(lua_State *L, task *t)
{
  t->observed = 1;
  lua_getiuservalue(L, 1, 2);
  if (t->status == T_FAILED)
    return lua_error(L);
  {
    lua_Integer n;
    lua_getfield(L, -1, "n");
    n = lua_tointeger(L, -1);
    lua_pop(L, 1);
    luaL_checkstack(L, (int)n, "too many results");
    for (lua_Integer i = 1; i <= n; i++)
      lua_rawgeti(L, -(int)i, i);
    return (int)n;
  }
}

static int wait_k(lua_State *L, int status, lua_KContext ctx)
{
  (void)status;
  (void)ctx;
  return outcome(L, check_task(L, 1));
}

/* task:wait(): inside a task, suspend until it ends; outside, run the loop
 * until it ends (plain Lua scripts block, as Sys::Virt's calls do). */
static int t_wait(lua_State *L)
{
  task *t = check_task(L, 1), *me = current(L);
  lua_settop(L, 1);
  if (t->status == T_DONE || t->status == T_FAILED)
    return outcome(L, t);
  if (me == t)
    return luaL_error(L, "a task cannot wait for itself");
  if (me && me->co == L && lua_isyieldable(L)) {
    lua_getiuservalue(L, 1, 3);
    push_task(L, me);
    lua_rawseti(L, -2, luaL_len(L, -2) + 1);
    lua_pop(L, 1);
    return suspend(L, S_WAKE, wait_k, 0);
  }
  if (running_loop || in_callback)
    return luaL_error(L, "task:wait() outside a task while the loop runs would block it: "
                         "wait from inside a task");
  while (t->status != T_DONE && t->status != T_FAILED) {
    if (!lv_task_run_loop(L, UV_RUN_ONCE) &&
        t->status != T_DONE && t->status != T_FAILED && !rq_head)
      return luaL_error(L, "task:wait(): the task can never finish (nothing left on the loop)");
  }
  return outcome(L, t);
}

static int t_status(lua_State *L)
{
  task *t = check_task(L, 1);
  lua_pushstring(L, status_names[t->status]);
  return 1;
}

static int t_done(lua_State *L)
{
  task *t = check_task(L, 1);
  lua_pushboolean(L, t->status == T_DONE || t->status == T_FAILED);
  return 1;
}

static int t_traceback(lua_State *L)
{
  check_task(L, 1);
  lua_getiuservalue(L, 1, 4);
  return 1;
}

static int t_tostring(lua_State *L)
{
  task *t = check_task(L, 1);
  lua_pushfstring(L, "<Task %p %s>", (void *)t, status_names[t->status]);
  return 1;
}

/* A failure nobody looked at is reported when the task is collected (at
 * the latest when the state closes). */
static int t_gc(lua_State *L)
{
  task *t = lua_touserdata(L, 1);
  if (t->status == T_FAILED && !t->observed) {
    t->observed = 1;
    lua_getiuservalue(L, 1, 4);
    fprintf(stderr, "luvirt: unhandled error in task: %s\n", lua_tostring(L, -1));
    fflush(stderr);
    lua_pop(L, 1);
  }
  return 0;
}

typedef struct sleeper {
  uv_timer_t timer;
  task *task;               /* NULL: a blocking sleep outside tasks */
  int fired;
  struct sleeper *prev, *next;  /* [REPL/embed] the tasks' sleepers */
} sleeper;

static sleeper *sleepers;

static void sleeper_free(uv_handle_t *h)
{
  free(h->data);
}

static void unlink_sleeper(sleeper *s)
{
  if (s->prev)
    s->prev->next = s->next;
  else
    sleepers = s->next;
  if (s->next)
    s->next->prev = s->prev;
  s->prev = s->next = NULL;
}

/* [REPL/embed] At shutdown: a sleeping task of a closed state must neither
 * keep the loop alive nor be resumed when its time comes. */
static void drop_sleepers(void)
{
  while (sleepers) {
    sleeper *s = sleepers;
    unlink_sleeper(s);
    uv_timer_stop(&s->timer);
    uv_close((uv_handle_t *)&s->timer, sleeper_free);
  }
}

static void sleep_wake(uv_timer_t *h)
{
  sleeper *s = h->data;
  s->fired = 1;
  if (s->task) {
    task *t = s->task;
    unlink_sleeper(s);
    uv_close((uv_handle_t *)h, sleeper_free);
    task_resume(t, 0);
  }
}

static int sleep_k(lua_State *L, int status, lua_KContext ctx)
{
  (void)L;
  (void)status;
  (void)ctx;
  return 0;
}

/* virt.sleep(ms): inside a task, yield for ms; outside, run the loop for ms
 * (so events keep flowing), or block when called from a callback. */
static int l_sleep(lua_State *L)
{
  lua_Integer ms = luaL_checkinteger(L, 1);
  sleeper *s;
  if (ms < 0)
    ms = 0;
  if (!lv_task_async(L) && (running_loop || in_callback)) {
    uv_sleep((unsigned)ms);
    return 0;
  }
  if (ms == 0 && lv_task_async(L)) {
    /* a 0 ms uv timer made in a timer callback runs in the same timers
     * pass: sleep(0) would never reach the poll phase.  Go round the loop
     * through the ready queue instead. */
    task *t = current(L);
    enqueue(t);
    return suspend(L, S_SLEEP, sleep_k, 0);
  }
  s = calloc(1, sizeof *s);
  if (!s)
    return luaL_error(L, "not enough memory");
  uv_timer_init(lv_loop(), &s->timer);
  s->timer.data = s;
  if (lv_task_async(L)) {
    s->task = current(L);
    s->next = sleepers;
    if (sleepers)
      sleepers->prev = s;
    sleepers = s;
    uv_timer_start(&s->timer, sleep_wake, (uint64_t)ms, 0);
    return suspend(L, S_SLEEP, sleep_k, 0);
  }
  uv_timer_start(&s->timer, sleep_wake, (uint64_t)ms, 0);
  while (!s->fired)
    lv_task_run_loop(L, UV_RUN_ONCE);
  uv_close((uv_handle_t *)&s->timer, sleeper_free);
  return 0;
}

/* virt.pool_size([n [, "long"]]) -> previous size */
static int l_pool_size(lua_State *L)
{
  lua_Integer n = luaL_optinteger(L, 1, 0);
  int which = luaL_checkoption(L, 2, "short", (const char *const[]){"short", "long", NULL});
  luaL_argcheck(L, n >= 0 && n <= 1024, 1, "pool size must be 0..1024");
  lua_pushinteger(L, lv_task_pool_size(which, (int)n));
  return 1;
}

static int l_set_error_handler(lua_State *L)
{
  if (!lua_isnoneornil(L, 1))
    luaL_checktype(L, 1, LUA_TFUNCTION);
  lua_settop(L, 1);
  lua_setfield(L, LUA_REGISTRYINDEX, ERRH_KEY);
  return 0;
}

/* virt.loop_stats(): counters for tests and the curious. */
static int l_loop_stats(lua_State *L)
{
  int w, t;
  long f;
  lv_loop_stats(&w, &t, &f, NULL, NULL, NULL);
  lua_createtable(L, 0, 5);
  lv_setfield_int(L, "watches", w);
  lv_setfield_int(L, "timers", t);
  lv_setfield_int(L, "frees", f);
  lv_setfield_int(L, "tasks", live_tasks);
  lv_setfield_int(L, "jobs", pending_jobs);
  return 1;
}

int luaopen_virt_task(lua_State *L)
{
  static const luaL_Reg fns[] = {
    {"spawn", l_spawn},
    {"run", l_run},
    {"stop", l_stop},
    {"sleep", l_sleep},
    {"current_task", l_current},
    {"in_task", l_in_task},
    {"pool_size", l_pool_size},
    {"set_error_handler", l_set_error_handler},
    {"loop_stats", l_loop_stats},
    {"_suspend", l_suspend},
    {"_wake", l_wake},
    {NULL, NULL}};
  static const luaL_Reg methods[] = {
    {"wait", t_wait},
    {"status", t_status},
    {"done", t_done},
    {"traceback", t_traceback},
    {NULL, NULL}};
  static int inited;

  if (!inited) {
    const char *env = getenv("LUVIRT_POOL_SIZE");
    struct sigaction sa;
    /* A daemon that dies while libvirt writes to its socket must give a
     * virt.Error, not kill the process: ignore SIGPIPE unless the program
     * handles it itself (as libvirt asks of its clients). */
    if (sigaction(SIGPIPE, NULL, &sa) == 0 && sa.sa_handler == SIG_DFL) {
      sa.sa_handler = SIG_IGN;
      sigemptyset(&sa.sa_mask);
      sa.sa_flags = 0;
      sigaction(SIGPIPE, &sa, NULL);
    }
    int i;
    for (i = 0; i < 2; i++) {
      uv_mutex_init(&pools[i].m);
      uv_cond_init(&pools[i].c);
    }
    pools[LV_POOL_SHORT].want = env && atoi(env) > 0 ? atoi(env) : 16;
    pools[LV_POOL_LONG].want = 8;
    uv_mutex_init(&done_m);
    uv_cond_init(&done_c);
    uv_async_init(lv_loop(), &done_async, done_cb);
    uv_unref((uv_handle_t *)&done_async);
    uv_idle_init(lv_loop(), &ready_idle);
    uv_async_init(lv_loop(), &hold_async, hold_cb);
    uv_unref((uv_handle_t *)&hold_async);
    inited = 1;
  }
  if (!mainL)                 /* [REPL/embed] first, or after luvirt_close */
    adopt_state(L);
  if (luaL_newmetatable(L, TASK_MT)) {
    luaL_newlib(L, methods);
    lua_setfield(L, -2, "__index");
    lua_pushcfunction(L, t_gc);
    lua_setfield(L, -2, "__gc");
    lua_pushcfunction(L, t_tostring);
    lua_setfield(L, -2, "__tostring");
  }
  lua_pop(L, 1);
  luaL_setfuncs(L, fns, 0);
  return 0;
}
