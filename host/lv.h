/*
 * lv.h: the private interface shared by the C files of the luvirt host.
 *
 * Copyright (C) 2026 the luvirt authors
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#ifndef LV_H
#define LV_H

#include <stddef.h>
#include <stdint.h>
#include <lua.h>
#include <lauxlib.h>
#include <uv.h>
#include <libvirt/libvirt.h>
#include <libvirt/virterror.h>

#define LV_VERSION "0.1.0"

/* ------------------------------------------------------------------ loop.c
 * libvirt's event loop implemented on libuv (virEventRegisterImpl).  The
 * implementation is process-global, as libvirt's is; it binds to one loop. */
int lv_loop_init(uv_loop_t *loop);  /* idempotent; 0 or -1 (other loop) */
uv_loop_t *lv_loop(void);
int lv_loop_on_thread(void);        /* 1 when called on the loop thread */
/* Watches and timers made by libvirt itself do not keep the loop alive
 * (an idle open connection must not stop a script from ending); those a
 * script adds through virt.Event do.  */
void lv_loop_ref_handle(int watch, int ref);
void lv_loop_ref_timeout(int timer, int ref);
/* Counters for tests: watches/timers alive, free callbacks run, wake-ups
 * other threads asked for, ready fds dispatched, re-enables parked from the
 * start; NULL for those not wanted. */
void lv_loop_stats(int *watches, int *timers, long *frees, long *wakes,
                   long *dispatches, long *deferred);
/* Apply pending changes and run pending free callbacks now (loop thread). */
void lv_loop_flush(void);
/* Loop thread: put back every parked fd now (no job left to read them). */
void lv_loop_unpark(void);
/* Jobs inside their work() on the pools' threads now (any thread). */
int lv_jobs_running(void);

/* ----------------------------------------------------------------- error.c */
typedef struct lv_error {
  int code, domain, level, int1, int2;
  char *message, *str1, *str2, *str3;
} lv_error;

/* Copy virGetLastError() (thread-local: call on the thread that failed). */
void lv_error_save(lv_error *e);
void lv_error_clear(lv_error *e);
/* Push a virt.Error made from e (takes ownership of e's strings). */
void lv_error_push(lua_State *L, lv_error *e);
/* Raise a virt.Error from e / from this thread's last libvirt error. */
int lv_error_raise(lua_State *L, lv_error *e);
int lv_error_raise_last(lua_State *L);
/* Raise a virt.Error with a message of our own (code VIR_ERR_INTERNAL_ERROR
 * unless given). */
int lv_error_raisef(lua_State *L, int code, const char *fmt, ...);
int luaopen_virt_error(lua_State *L);   /* leaves virt.Error on the stack */

/* ---------------------------------------------------------------- object.c
 * Every libvirt object is a full userdata holding an lv_obj.  Its first user
 * value is the parent object (a Domain keeps its connection alive). */
typedef struct lv_class {
  const char *tname;              /* metatable name, "virt.Domain" */
  size_t size;                    /* of the userdata; 0: sizeof(lv_obj) */
  const char *label;              /* "Domain", used in messages */
  int (*ref)(void *ptr);          /* virDomainRef */
  int (*free)(void *ptr);         /* virDomainFree */
  const char *(*name)(void *ptr); /* for __tostring; may be NULL */
  /* optional, keep new fields last (classes use positional initializers): */
  int (*same)(void *a, void *b);  /* __eq: libvirt hands out a new object per
                                     lookup; NULL compares pointers */
  const char *dead;               /* message for a freed object; NULL:
                                     "attempt to use a freed <label>" */
  int pin;                        /* an async call keeps the object by a pin
                                     on the loop thread, not by ref()/free()
                                     on either side of it (virDomainRef and
                                     virDomainFree format the UUID for their
                                     debug messages: ~7k instructions each) */
} lv_class;

typedef struct lv_obj {
  void *ptr;                      /* NULL once freed/closed */
  const lv_class *cls;
  int flags;                      /* class-private, but for LV_OBJ_* bits */
} lv_obj;

/* Calls on this object never block (it belongs to the in-process test
 * driver): they run inline even inside a task.  Inherited from the parent. */
#define LV_OBJ_INLINE 0x40000000
/* A connection to the in-process test driver: even its close never blocks
 * (a connection opened with blocking=true is INLINE but not INPROC). */
#define LV_OBJ_INPROC 0x20000000
/* Pins (classes with pin set): the number of jobs in flight that use the
 * pointer, and "released meanwhile: the last of them frees it". */
#define LV_OBJ_FREEPEND 0x10000000
#define LV_OBJ_BUSY1 0x00010000
#define LV_OBJ_BUSYMASK 0x0FFF0000

/* Push a new object owning ptr; parent is a stack index or 0 for none. */
lv_obj *lv_obj_push(lua_State *L, const lv_class *cls, void *ptr, int parent);
/* The object at idx, which must be open: "attempt to use a freed Domain". */
void *lv_obj_check(lua_State *L, int idx, const lv_class *cls);
/* The same, giving the lv_obj. */
lv_obj *lv_obj_open(lua_State *L, int idx, const lv_class *cls);
lv_obj *lv_obj_checkany(lua_State *L, int idx, const lv_class *cls);
lv_obj *lv_obj_test(lua_State *L, int idx, const lv_class *cls);
/* Create a class metatable: methods become __index (a plain table that is
 * also the class table virt.<label>), plus __gc/__close/__tostring/__eq.
 * Leaves the class table on the stack. */
void lv_class_new(lua_State *L, const lv_class *cls, const luaL_Reg *methods);
/* Generated: how many entries the table virt.<path> ("Domain", "admin.Client",
 * "virt" for the module) ends with, to create it at its size; 0 if unknown. */
int lv_gen_table_size(const char *path);
/* Add methods (NULL-terminated) to the class table of cls. */
void lv_class_add(lua_State *L, const lv_class *cls, const luaL_Reg *methods);
/* Free an object now (loop thread; for explicit free/close). */
int lv_obj_release(lv_obj *o);

/* ----------------------------------------------------------------- alloc.c
 * The host's Lua state allocates its small blocks from size-class free
 * lists; *arena (NULL when plain malloc is used) is freed after lua_close. */
typedef struct lv_arena lv_arena;
lua_Alloc lv_alloc_new(lv_arena **arena);
void lv_alloc_free(lv_arena *arena);

/* ------------------------------------------------------------------ task.c
 * The one mechanism that makes a bound function async-capable.
 *
 * A binding fills an argument struct whose first member is an lv_job, on the
 * C stack, and calls lv_job_run().  Outside a task (or where the running
 * coroutine cannot yield) the work runs inline.  Inside a task the struct is
 * copied to the heap, the objects it holds are referenced, the work runs on a
 * worker thread and the task yields; when the work is done the loop thread
 * resumes the task and push() converts the results.  work() never touches
 * Lua; a failure (work returns < 0) copies virGetLastError() on the worker
 * thread and becomes a virt.Error on the loop thread.
 *
 * Pointers into Lua strings of the binding's own arguments stay valid across
 * the yield (the coroutine's stack is kept).
 *
 *   struct a_get_info { lv_job job; virDomainPtr dom; virDomainInfo info; };
 *   static int w_get_info(lv_job *j) { ... return virDomainGetInfo(...); }
 *   static int p_get_info(lua_State *L, lv_job *j) { ...push...; return 1; }
 *   static int l_get_info(lua_State *L) {
 *     LV_JOB_DECL(struct a_get_info, a, w_get_info, p_get_info);
 *     a.dom = lv_job_hold(&a.job, L, 1, &lv_domain_class);
 *     return lv_job_run(L, &a.job);
 *   }
 */
typedef struct lv_job lv_job;
typedef int (*lv_work_fn)(lv_job *job);
typedef int (*lv_push_fn)(lua_State *L, lv_job *job);
typedef void (*lv_fini_fn)(lv_job *job);

#define LV_JOB_MAXHOLD 4
#define LV_POOL_SHORT 0
#define LV_POOL_LONG 1   /* migrations, backups: never starve short calls */

struct lv_job {
  lv_work_fn work;
  lv_push_fn push;          /* NULL: no results */
  lv_fini_fn fini;          /* frees what work() allocated; may be NULL */
  size_t size;              /* of the whole argument struct */
  int pool;                 /* LV_POOL_SHORT or LV_POOL_LONG */
  int nhold;
  void *hold[LV_JOB_MAXHOLD];
  const lv_class *holdcls[LV_JOB_MAXHOLD];
  lv_obj *holdobj[LV_JOB_MAXHOLD];
  unsigned pinmask;         /* holds kept by a pin rather than a reference */
  int failed;
  int inline_ok;            /* every held object is LV_OBJ_INLINE */
  lv_error err;
  lv_job *next;             /* private to task.c */
  void *task;               /* private to task.c */
};

#define LV_JOB_DECL(type, var, workfn, pushfn)        \
  type var;                                            \
  lv_job_init(&var.job, sizeof var, (workfn), (pushfn))

void lv_job_init(lv_job *job, size_t size, lv_work_fn work, lv_push_fn push);
/* The pointer of the open object at idx, remembered so that an async call
 * keeps it referenced until work() is done. */
void *lv_job_hold(lv_job *job, lua_State *L, int idx, const lv_class *cls);
/* Run the job; returns push()'s result count (or raises).  The argument
 * struct is copied when the call goes async: it must not point into itself. */
int lv_job_run(lua_State *L, lv_job *job);
/* Run the job on the pool with nobody waiting (e.g. a close from __gc):
 * only work() and fini() run. */
int lv_job_detach(lv_job *job);
/* 1 when calls from L would run asynchronously. */
int lv_task_async(lua_State *L);

/* Tasks. */
int luaopen_virt_task(lua_State *L);     /* adds spawn/run/stop/... to the table on top */
int lv_task_pool_size(int pool, int n);  /* set (n > 0) and/or get */
/* Run fn at the top of L as a task with nargs arguments below... see task.c */
int lv_task_spawn(lua_State *L, int nargs); /* fn + nargs on top -> pushes task */
/* Report an error from a callback (rule 7): handler or stderr. */
void lv_report_error(lua_State *L, const char *where);
/* Call the function on top of L (with nargs) under pcall with a traceback;
 * reports failures; returns 0 on success. */
int lv_pcall(lua_State *L, int nargs, int nresults, const char *where);
/* The main thread of the state that loaded virt (for callbacks). */
lua_State *lv_main_state(void);
void lv_task_shutdown(void);             /* before lua_close */
/* Keep the loop alive while a script's callback is registered. */
void lv_hold(int delta);
/* Release a registry reference from any thread: done on the loop thread. */
void lv_unref_later(int ref);
/* From any thread: on the loop thread, call the function fn_ref with the
 * arguments push(L, data) pushes (it returns their count); data is then
 * free()d.  Ordered with lv_unref_later, so a callback queued before its
 * function's release still runs. */
typedef int (*lv_later_fn)(lua_State *L, void *data);
void lv_call_later(int fn_ref, lv_later_fn push, void *data, const char *where);
int lv_task_run_loop(lua_State *L, uv_run_mode mode); /* guarded uv_run */
int lv_task_pending(void);               /* live tasks */

/* --------------------------------------------------------------- classes */
extern const lv_class lv_connect_class;
extern const lv_class lv_domain_class;

int luaopen_virt_connect(lua_State *L);  /* each adds its class to the table on top */
int luaopen_virt_domain(lua_State *L);
int luaopen_virt_event(lua_State *L);
int luaopen_virt_domainevent(lua_State *L);

/* Helpers for bindings (util.c). */
unsigned int lv_optflags(lua_State *L, int idx);
int lv_push_uint64(lua_State *L, unsigned long long v);  /* never negative */
unsigned long long lv_check_uint64(lua_State *L, int idx);
void lv_push_string_free(lua_State *L, char *s);         /* free()s s; nil if NULL */
void lv_setfield_int(lua_State *L, const char *k, lua_Integer v);
void lv_setfield_str(lua_State *L, const char *k, const char *v);

/* libvirt-qemu and libvirt-lxc are not linked but opened on the first call
 * of one of their functions: each shared library loaded at start-up makes
 * every symbol lookup of the dynamic loader slower, for every script
 * (scripts/bench/RESULTS.md, start-up).  lv_lazy_sym(L, "libvirt-qemu",
 * name) returns the function, or raises a virt.Error when the library or
 * the function cannot be found (with L NULL: returns NULL).  Call it on the
 * loop thread, before the job goes to a worker; LV_LAZY keeps the type:
 *   a.fn = LV_LAZY(L, "libvirt-qemu", virDomainQemuAttach); */
void *lv_lazy_sym(lua_State *L, const char *lib, const char *name);
#define LV_LAZY(L, lib, fn) ((__typeof__(&fn))lv_lazy_sym(L, lib, #fn))

/* typedparams.c */
void lv_tp_push(lua_State *L, virTypedParameterPtr params, int n);

/* Callbacks from libvirt into Lua (events, close).  An lv_cb is the opaque
 * handed to libvirt; its free callback may run on any thread, so it only
 * queues the release of its references. */
typedef struct lv_cb {
  int fn;                         /* registry ref of the Lua function */
  int conn;                       /* registry ref of the connection, or LUA_NOREF */
  int kind;                       /* what registered it (class-private) */
  int id;                         /* libvirt's callback id */
  int held;                       /* counted in lv_hold */
} lv_cb;
lv_cb *lv_cb_new(lua_State *L, int fn_idx, int conn_idx, int hold);
void lv_cb_free(void *opaque);     /* a virFreeCallback */

/* Delivering a callback (object.c).  libvirt calls us with C values; the
 * C callback only describes them in an lv_args, and lv_cb_deliver pushes
 * them and calls the script's function on the main state, all under
 * lua_pcall: not even a memory error while pushing unwinds through
 * libvirt, and the function's own error goes to virt.set_error_handler
 * (or stderr) with `where`.  Nothing happens off the loop thread. */
typedef void (*lv_arg_pushfn)(lua_State *L, const void *data);
typedef struct lv_arg {
  char t;                         /* private: i, u, s, o, f */
  union {
    long long i;
    unsigned long long u;
    const char *s;
    struct { const lv_class *cls; void *ptr; } o;
    struct { lv_arg_pushfn push; const void *data; } f;
  } v;
} lv_arg;
#define LV_MAXARGS 8
typedef struct lv_args {
  int n;
  lv_arg a[LV_MAXARGS];
} lv_args;
#define LV_ARGS_INIT {0}
void lv_arg_int(lv_args *a, long long v);
void lv_arg_uint64(lv_args *a, unsigned long long v);  /* never negative */
void lv_arg_str(lv_args *a, const char *s);            /* NULL: nil */
/* A new object of cls for ptr, which the object references (libvirt's own
 * reference stays libvirt's); its parent is the callback's connection. */
void lv_arg_obj(lv_args *a, const lv_class *cls, void *ptr);
/* Whatever push(L, data) pushes (tables...); data must outlive the call. */
void lv_arg_push(lv_args *a, lv_arg_pushfn push, const void *data);
/* fn(conn, args...) for cb; fn(args...) when cb has no connection. */
void lv_cb_deliver(lv_cb *cb, const lv_args *args, const char *where);
/* The lower level: call the function at registry ref fn with the values
 * push(L, data) pushes (it returns their count; NULL: none), under
 * lua_pcall on the main state.  0, or -1 when the function raised or could
 * not be called (off the loop thread, no state, no stack). */
int lv_deliver(int fn, lv_later_fn push, void *data, const char *where);

/* Connections. */
typedef int (*lv_dereg_fn)(virConnectPtr conn, int id);
typedef struct lv_conn {
  lv_obj obj;
  lv_cb *close_cb;
  int ntrack, captrack;
  struct { int id; lv_dereg_fn dereg; } *track;   /* deregistered on close */
} lv_conn;
virConnectPtr lv_connect_check(lua_State *L, int idx);
lv_conn *lv_connect_checkobj(lua_State *L, int idx);
/* Remember a callback registration so close() can undo it. */
void lv_connect_track(lv_conn *c, int id, lv_dereg_fn dereg);
void lv_connect_untrack(lv_conn *c, int id, lv_dereg_fn dereg);
/* The common ends of every event registration: given libvirt's answer for
 * cb, raise (freeing cb) or remember the registration and push its id;
 * and conn:xxx_event_deregister_any(id) through dereg. */
int lv_cb_registered(lua_State *L, lv_conn *c, lv_cb *cb, int id, lv_dereg_fn dereg);
int lv_cb_deregister(lua_State *L, lv_dereg_fn dereg);
/* Push a child object (a Domain...) whose parent is the connection at conn_idx. */
#define lv_push_child(L, cls, ptr, conn_idx) lv_obj_push((L), (cls), (ptr), (conn_idx))

/* ------------------------------------- classes from the generator work
 * One file per class (network.c ...); luaopen_virt_<class> adds the class to
 * the module table on top.  Simple calls are generated (host/gen/gen.lua,
 * lv_gen_register); these files hold what does not fit a simple shape. */
extern const lv_class lv_network_class;
extern const lv_class lv_networkport_class;
extern const lv_class lv_storagepool_class;
extern const lv_class lv_storagevol_class;
extern const lv_class lv_interface_class;
extern const lv_class lv_nodedev_class;
extern const lv_class lv_secret_class;
extern const lv_class lv_nwfilter_class;
extern const lv_class lv_nwfilterbinding_class;
extern const lv_class lv_snapshot_class;
extern const lv_class lv_checkpoint_class;
extern const lv_class lv_admconnect_class;
extern const lv_class lv_admserver_class;
extern const lv_class lv_admclient_class;

int luaopen_virt_network(lua_State *L);
int luaopen_virt_networkport(lua_State *L);
int luaopen_virt_storagepool(lua_State *L);
int luaopen_virt_storagevol(lua_State *L);
int luaopen_virt_interface(lua_State *L);
int luaopen_virt_nodedev(lua_State *L);
int luaopen_virt_secret(lua_State *L);
int luaopen_virt_nwfilter(lua_State *L);
int luaopen_virt_nwfilterbinding(lua_State *L);
int luaopen_virt_snapshot(lua_State *L);
int luaopen_virt_checkpoint(lua_State *L);
int luaopen_virt_qemu(lua_State *L);
int luaopen_virt_lxc(lua_State *L);
int luaopen_virt_admin(lua_State *L);
int luaopen_virt_typedparams(lua_State *L);
void lv_gen_register(lua_State *L);

/* Events of networks, storage pools, node devices and secrets (network.c):
 * conn:<family>_event_register_any(obj_or_nil, id, fn) -> id. */
typedef struct lv_objev_family {
  const lv_class *cls;
  void (*(*callback_for)(int id))(void);      /* NULL: unknown id */
  int (*reg)(virConnectPtr c, void *obj, int id, void (*cb)(void), void *opaque);
  lv_dereg_fn dereg;
} lv_objev_family;
int lv_objev_register(lua_State *L, const lv_objev_family *fam);
int lv_objev_deregister(lua_State *L, const lv_objev_family *fam);
/* The two shapes their callbacks share: fn(conn, obj, event, detail) and
 * fn(conn, obj), delivered with lv_cb_deliver. */
void lv_objev_lifecycle(void *opaque, const lv_class *cls, void *obj, int event, int detail,
                        const char *where);
void lv_objev_generic(void *opaque, const lv_class *cls, void *obj, const char *where);

/* Sys::Virt's list_* helpers (network.c): count, list names, look each up
 * (one that went away meanwhile is skipped); receiver at 1, an optional
 * string argument at 2 when has_arg. */
typedef struct lv_namelist {
  const lv_class *recv, *cls;
  int (*num)(void *recv, const char *arg);
  int (*list)(void *recv, const char *arg, char **names, int max);
  void *(*lookup)(void *recv, const char *name);
  int has_arg;
} lv_namelist;
int lv_namelist_call(lua_State *L, const lv_namelist *nl);

/* typedparams.c, beyond lv_tp_push: Lua tables -> typed parameters.
 * lv_tp_defs (generated) gives the C type of every typed-parameter name
 * macro, for setters without a getter. */
typedef struct lv_tp_def {
  const char *cname;              /* "VIR_MIGRATE_PARAM_URI" */
  const char *name;               /* "migrate_uri" */
  int type;                       /* VIR_TYPED_PARAM_* */
  int multi;                      /* a string that may repeat */
} lv_tp_def;
extern const lv_tp_def lv_tp_defs[];

/* A parameter table read on the loop thread (lv_tpin_check; its memory is
 * anchored on the binding's stack) and typed on the worker (lv_tpin_build:
 * the type of each name comes from known[], a getter's answer, when prefix
 * is NULL, else from the lv_tp_defs whose macro starts with prefix; an
 * unknown name or a bad value is recorded in job->err/failed and -1
 * returned: work() then returns 0 so the runner keeps that error). */
typedef struct lv_tpin_item {
  const char *name;
  int kind;
  lua_Integer i;
  double d;
  const char *s;
  const char **strs;
  int nstrs;
} lv_tpin_item;
typedef struct lv_tpin {
  lv_tpin_item *items;
  int n;
} lv_tpin;
void lv_tpin_check(lua_State *L, int idx, lv_tpin *in);
int lv_tpin_build(lv_job *job, const lv_tpin *in, virTypedParameterPtr known, int nknown,
                  const char *prefix, virTypedParameterPtr *out, int *nout);
int lv_tp_alloc(virTypedParameterPtr *params, int n);

/* obj:get_xxx([arg,] flags) and obj:set_xxx([arg,] params, flags) methods
 * described by a table; get and set run on a worker (libvirt only). */
enum { LV_TP_ARG_NONE, LV_TP_ARG_STR, LV_TP_ARG_UINT };
typedef int (*lv_tp_get_fn)(void *obj, const char *arg, unsigned int iarg,
                            virTypedParameterPtr *params, int *n, unsigned int flags);
typedef int (*lv_tp_set_fn)(void *obj, const char *arg, unsigned int iarg,
                            virTypedParameterPtr params, int n, unsigned int flags);
typedef struct lv_tp_method {
  const lv_class *cls;
  int arg;                        /* LV_TP_ARG_* between object and params */
  lv_tp_get_fn get;               /* the getter (also gives a setter its types) */
  lv_tp_set_fn set;
  const char *prefix;             /* setter without getter: lv_tp_defs prefix */
  unsigned int getflags_mask;     /* setter flags passed on to the getter */
  int pool;
} lv_tp_method;
int lv_tp_get(lua_State *L, const lv_tp_method *m);
int lv_tp_set(lua_State *L, const lv_tp_method *m);
/* Read a Lua array of file descriptors (anchored on the stack). */
int *lv_check_fds(lua_State *L, int idx, unsigned int *n);
/* ------------------------------------- end of classes from the generator work */

/* streams (stream.c) */
extern const lv_class lv_stream_class;
int luaopen_virt_stream(lua_State *L);
/* The virStreamPtr of the open Stream at idx (raises for a freed, finished
 * or aborted one).  Calls that take a stream and may block should rather
 * hold it in their job: lv_job_hold(&a.job, L, idx, &lv_stream_class). */
virStreamPtr lv_stream_check(lua_State *L, int idx);
/* end of streams */

/* --------------------------------------------------------------- module */
int luaopen_virt_core(lua_State *L);

#endif
