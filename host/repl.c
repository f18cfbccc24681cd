/*
 * repl.c: the interactive prompt (`luvirt` on a terminal, `luvirt -i`).
 *
 * GNU readline's callback interface is fed from a uv_poll on stdin, so the
 * loop (timers, libvirt events, keepalives) keeps running while the user
 * types.  Each chunk runs as a task; the prompt comes back when it ends.
 * While the prompt is up, output from callbacks (print, io.write,
 * io.stdout/io.stderr:write, callback error reports) first clears the
 * prompt and the half-typed line, then redraws both below the output.
 *
 * Ctrl-C is taken with sigaction rather than uv_signal: a chunk spinning in
 * Lua holds the loop thread, so nothing queued on the loop would ever run.
 * The handler sets a debug hook on the chunk's coroutine, as lua.c does
 * (it raises "interrupted" at the next instruction: at once when it is
 * running, when it next resumes when it is suspended), and wakes the loop
 * (uv_async_send is async-signal-safe), which gives the prompt back without
 * waiting for a suspended chunk to resume.
 *
 * On a stdin that is not a terminal the same logic reads plain lines.
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <pwd.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <readline/readline.h>
#include <readline/history.h>
#include "luvirt.h"
#include "lv.h"

#define HISTORY_MAX 1000
#define CHUNKNAME "=stdin"

static struct {
  luvirt *lv;
  lua_State *L;
  int tty;                  /* readline on a terminal; else plain lines */
  int quit;
  int installed;            /* readline's handler is in: the prompt is up */
  int hidden;               /* prompt cleared while a callback writes */
  int polling;
  int stdin_flags;          /* to restore at the end */
  uv_poll_t in;
  uv_async_t intr;
  uv_signal_t winch;
  char *pending;            /* the lines of an incomplete chunk */
  size_t npending;
  int as_expr;              /* the pending lines may still be an expression */
  int forced_expr;          /* they began with "=": they must be one */
  int running;              /* a chunk runs: no prompt */
  int chunk_task;           /* registry ref of the last chunk's task */
  char *histfile;
  struct sigaction old_int;
  /* completion: the candidates and how much of each is the typed prefix */
  char **cand;
  int ncand;
  size_t cand_skip;
} R;

static unsigned chunk_seq;
static volatile sig_atomic_t cur_chunk;   /* seq of the running chunk, 0: none */
static volatile sig_atomic_t sig_chunk;   /* cur_chunk when Ctrl-C came */
static volatile sig_atomic_t sig_unacked; /* Ctrl-Cs the loop has not seen */
static lua_State *volatile running_co;

static const char runner_key = 'r';

static void show_prompt(int second);

/* ------------------------------------------------------------ output */

/* Output from a callback while the prompt is up: clear the prompt line
 * first, redraw it (with what was typed) after. */
static void out_begin(void)
{
  if (R.installed && !R.hidden) {
    rl_clear_visible_line();
    fflush(rl_outstream);
    R.hidden = 1;
  }
}

static void out_end(int need_newline)
{
  if (R.hidden) {
    if (need_newline)
      fputc('\n', stdout);
    fflush(stdout);
    fflush(stderr);
    rl_forced_update_display();
    R.hidden = 0;
  }
}

/* Call the wrapped function (upvalue 1) with our arguments, hidden from
 * the prompt; output that does not end a line gets a newline so that the
 * prompt is redrawn on a line of its own. */
static int call_hidden(lua_State *L, int check_last)
{
  int n = lua_gettop(L), rc, nl = 0;
  if (check_last && R.installed) {
    size_t len = 0;
    const char *s = lua_type(L, n) == LUA_TSTRING ? lua_tolstring(L, n, &len) : NULL;
    nl = !(s && len > 0 && s[len - 1] == '\n');
  }
  out_begin();
  lua_pushvalue(L, lua_upvalueindex(1));
  lua_insert(L, 1);
  rc = lua_pcall(L, n, LUA_MULTRET, 0);
  out_end(nl);
  if (rc != LUA_OK)
    return lua_error(L);
  return lua_gettop(L);
}

static int l_print(lua_State *L)
{
  return call_hidden(L, 0);
}

static int l_iowrite(lua_State *L)
{
  return call_hidden(L, 1);
}

/* file:write: only the terminal's streams need hiding */
static int l_fwrite(lua_State *L)
{
  luaL_Stream *p = luaL_testudata(L, 1, LUA_FILEHANDLE);
  if (p && (p->f == stdout || p->f == stderr))
    return call_hidden(L, 1);
  lua_pushvalue(L, lua_upvalueindex(1));
  lua_insert(L, 1);
  lua_call(L, lua_gettop(L) - 1, LUA_MULTRET);
  return lua_gettop(L);
}

/* An error in an event callback, timer... (virt.set_error_handler) */
static int l_cb_error(lua_State *L)
{
  const char *msg = lua_tostring(L, 1), *where = lua_tostring(L, 2);
  out_begin();
  fprintf(stderr, "luvirt: error in %s: %s\n", where ? where : "a callback",
          msg ? msg : "(error object is not a string)");
  out_end(0);
  return 0;
}

static void wrap(lua_State *L, int table, const char *name, lua_CFunction f)
{
  lua_getfield(L, table, name);
  if (lua_isfunction(L, -1)) {
    lua_pushcclosure(L, f, 1);
    lua_setfield(L, table, name);
  } else
    lua_pop(L, 1);
}

static int setup_output(lua_State *L)
{
  lua_pushglobaltable(L);
  wrap(L, 1, "print", l_print);
  lua_getglobal(L, "io");
  if (lua_istable(L, -1))
    wrap(L, lua_gettop(L), "write", l_iowrite);
  if (luaL_getmetatable(L, LUA_FILEHANDLE) == LUA_TTABLE &&
      lua_getfield(L, -1, "__index") == LUA_TTABLE)
    wrap(L, lua_gettop(L), "write", l_fwrite);
  /* callback errors through us, unless the script chose a handler */
  lua_getfield(L, LUA_REGISTRYINDEX, "luvirt.errhandler");
  if (lua_isnil(L, -1)) {
    lua_getfield(L, LUA_REGISTRYINDEX, LUA_LOADED_TABLE);
    lua_getfield(L, -1, "virt.core");
    if (lua_istable(L, -1) && lua_getfield(L, -1, "set_error_handler") == LUA_TFUNCTION) {
      lua_pushcfunction(L, l_cb_error);
      lua_call(L, 1, 0);
    }
  }
  return 0;
}

/* ---------------------------------------------------------- Ctrl-C */

static void interrupt_hook(lua_State *L, lua_Debug *ar)
{
  (void)ar;
  lua_sethook(L, NULL, 0, 0);
  luaL_error(L, "interrupted");
}

static void on_sigint(int sig)
{
  lua_State *co = running_co;
  int saved = errno;
  if (++sig_unacked >= 3) {
    /* the loop thread has not answered twice: let the user kill us */
    signal(sig, SIG_DFL);
    raise(sig);
  }
  sig_chunk = cur_chunk;
  if (co)
    lua_sethook(co, interrupt_hook, LUA_MASKCALL | LUA_MASKRET | LUA_MASKCOUNT, 1);
  uv_async_send(&R.intr);
  errno = saved;
}

static void chunk_over(void)
{
  R.running = 0;
  cur_chunk = 0;
  running_co = NULL;
}

/* Give the prompt back while the chunk stays suspended; it fails with
 * "interrupted" if it is ever resumed, and nobody looks at it. */
static void abandon(const char *why)
{
  int echoed = sig_chunk == cur_chunk;
  chunk_over();
  fprintf(stderr, "%s%s\n", echoed ? "\n" : "", why);
  fflush(stderr);
  show_prompt(0);
}

static void drop_pending(void)
{
  free(R.pending);
  R.pending = NULL;
  R.npending = 0;
  R.as_expr = 1;
  R.forced_expr = 0;
}

static void intr_cb(uv_async_t *h)
{
  int which = sig_chunk;
  (void)h;
  sig_unacked = 0;
  if (R.running) {
    if (which == (int)chunk_seq)
      abandon("interrupted");
  } else if (which == 0 && R.installed) {
    /* at the prompt: drop what was typed, start afresh */
    rl_point = rl_end;
    rl_redisplay();
    /* before the handler goes: readline then ends with a carriage return */
    fputs("^C\n", rl_outstream);
    rl_callback_sigcleanup();
    rl_callback_handler_remove();
    R.installed = 0;
    drop_pending();
    show_prompt(0);
  }
}

/* ----------------------------------------------------------- chunks */

/* The task body wrapping a chunk: results or error go to done(); the
 * results are formatted in the task (a __tostring may call libvirt). */
static const char runner_src[] =
  "local done, msgh, pretty = ...\n"
  "local pack, unpack, select, pcall, xpcall, concat, tostring =\n"
  "  table.pack, table.unpack, select, pcall, xpcall, table.concat, tostring\n"
  "local function show(r)\n"
  "  local out = {}\n"
  "  for i = 2, r.n do\n"
  "    local ok, s = pcall(pretty, r[i])\n"
  "    out[#out + 1] = ok and s or '<cannot show this value>'\n"
  "  end\n"
  "  return concat(out, '\\t')\n"
  "end\n"
  "return function(fn, seq, print_results)\n"
  "  return function()\n"
  "    local r = pack(xpcall(fn, msgh))\n"
  "    if not r[1] then return done(seq, false, r[2]) end\n"
  "    if print_results and r.n > 1 then\n"
  "      local ok, s = pcall(show, r)\n"
  "      return done(seq, true, ok and s or '<cannot show the results>')\n"
  "    end\n"
  "    return done(seq, true)\n"
  "  end\n"
  "end\n";

/* The error with a traceback cut where the REPL's own frames start. */
static int l_msgh(lua_State *L)
{
  const char *msg = lua_tostring(L, 1), *tb, *cut;
  if (!msg) {
    if (luaL_callmeta(L, 1, "__tostring") && lua_type(L, -1) == LUA_TSTRING)
      msg = lua_tostring(L, -1);
    else
      msg = lua_pushfstring(L, "(error object is a %s value)", luaL_typename(L, 1));
  }
  luaL_traceback(L, L, msg, 1);
  tb = lua_tostring(L, -1);
  cut = strstr(tb, "\n\t[C]: in function 'xpcall'");
  if (cut) {
    const char *head = strstr(tb, "\nstack traceback:");
    if (head && head + strlen("\nstack traceback:") == cut)
      cut = head;           /* nothing left to show */
    lua_pushlstring(L, tb, (size_t)(cut - tb));
  }
  return 1;
}

/* done(seq, ok, text): the chunk ended (unless it was given up). */
static int l_done(lua_State *L)
{
  lua_Integer seq = lua_tointeger(L, 1);
  const char *text = lua_tostring(L, 3);
  int echoed = sig_chunk == cur_chunk;
  if (!R.running || seq != (lua_Integer)chunk_seq)
    return 0;
  chunk_over();
  if (!lua_toboolean(L, 2)) {
    /* the terminal echoed ^C where the cursor was */
    fprintf(stderr, "%s%s\n", echoed ? "\n" : "", text ? text : "(error object is not a string)");
    fflush(stderr);
  } else if (text) {
    fputs(text, stdout);
    fputc('\n', stdout);
    fflush(stdout);
  }
  if (!R.quit)
    show_prompt(0);
  return 0;
}

static int p_spawn(lua_State *L)
{
  lv_task_spawn(L, 0);
  lua_getiuservalue(L, -1, 1);
  return 2;
}

/* Run the function on top of the stack as the chunk. */
static void run_chunk(int print_results)
{
  lua_State *L = R.L;
  lua_rawgetp(L, LUA_REGISTRYINDEX, &runner_key);
  lua_insert(L, -2);
  lua_pushinteger(L, (lua_Integer)++chunk_seq);
  lua_pushboolean(L, print_results);
  if (lua_pcall(L, 3, 1, 0) == LUA_OK) {
    lua_pushcfunction(L, p_spawn);
    lua_insert(L, -2);
    if (lua_pcall(L, 1, 2, 0) == LUA_OK) {
      running_co = lua_tothread(L, -1);
      lua_pop(L, 1);
      luaL_unref(L, LUA_REGISTRYINDEX, R.chunk_task);
      R.chunk_task = luaL_ref(L, LUA_REGISTRYINDEX);
      R.running = 1;
      cur_chunk = (sig_atomic_t)chunk_seq;
      return;
    }
  }
  fprintf(stderr, "luvirt: %s\n", lua_tostring(L, -1));
  lua_pop(L, 1);
  show_prompt(0);
}

static int is_incomplete(lua_State *L, int status)
{
  if (status == LUA_ERRSYNTAX) {
    size_t len;
    const char *msg = lua_tolstring(L, -1, &len);
    if (len >= 5 && strcmp(msg + len - 5, "<eof>") == 0)
      return 1;
  }
  return 0;
}

static int load(const char *prefix, const char *src, size_t len)
{
  lua_State *L = R.L;
  luaL_Buffer b;
  luaL_buffinit(L, &b);
  luaL_addstring(&b, prefix);
  luaL_addlstring(&b, src, len);
  luaL_pushresult(&b);
  {
    size_t n;
    const char *code = lua_tolstring(L, -1, &n);
    int rc = luaL_loadbufferx(L, code, n, CHUNKNAME, "t");
    lua_remove(L, -2);
    return rc;
  }
}

static int append_pending(const char *line)
{
  size_t n = strlen(line);
  char *p = realloc(R.pending, R.npending + n + 2);
  if (!p)
    return -1;
  if (R.npending)
    p[R.npending++] = '\n';
  memcpy(p + R.npending, line, n + 1);
  R.npending += n;
  R.pending = p;
  return 0;
}

/* A line was entered: as lua.c does, try it as an expression first (its
 * values are printed), then as statements; "<eof>" errors mean more lines
 * are needed.  "=expr" is an expression. */
static void handle_line(const char *line)
{
  lua_State *L = R.L;
  int rc;
  if (R.npending == 0) {
    R.as_expr = 1;
    R.forced_expr = line[0] == '=';
    if (R.forced_expr)
      line++;
  }
  if (append_pending(line) < 0) {
    fputs("luvirt: not enough memory\n", stderr);
    drop_pending();
    show_prompt(0);
    return;
  }
  if (R.as_expr) {
    rc = load("return ", R.pending, R.npending);
    if (rc == LUA_OK) {
      drop_pending();
      run_chunk(1);
      return;
    }
    if (is_incomplete(L, rc)) {
      lua_pop(L, 1);
      show_prompt(1);
      return;
    }
    if (R.forced_expr) {
      fprintf(stderr, "%s\n", lua_tostring(L, -1));
      lua_pop(L, 1);
      drop_pending();
      show_prompt(0);
      return;
    }
    lua_pop(L, 1);
    R.as_expr = 0;
  }
  rc = load("", R.pending, R.npending);
  if (rc == LUA_OK) {
    drop_pending();
    run_chunk(1);
  } else if (is_incomplete(L, rc)) {
    lua_pop(L, 1);
    show_prompt(1);
  } else {
    fprintf(stderr, "%s\n", lua_tostring(L, -1));
    lua_pop(L, 1);
    drop_pending();
    show_prompt(0);
  }
}

/* ---------------------------------------------------------- history */

static void history_setup(void)
{
  const char *home = getenv("HOME");
  size_t n;
  int fd;
  if (!home || !*home) {
    struct passwd *pw = getpwuid(getuid());
    home = pw ? pw->pw_dir : NULL;
  }
  using_history();
  stifle_history(HISTORY_MAX);
  if (!home)
    return;
  n = strlen(home) + sizeof "/.luvirt_history";
  R.histfile = malloc(n);
  if (!R.histfile)
    return;
  snprintf(R.histfile, n, "%s/.luvirt_history", home);
  /* append_history needs the file; it holds what was typed: private */
  fd = open(R.histfile, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0600);
  if (fd >= 0)
    close(fd);
  read_history(R.histfile);
}

static void history_remember(const char *line)
{
  const char *s = line;
  HIST_ENTRY *last;
  while (*s == ' ' || *s == '\t')
    s++;
  if (!*s)
    return;
  last = history_length > 0 ? history_get(history_base + history_length - 1) : NULL;
  if (last && strcmp(last->line, line) == 0)
    return;
  add_history(line);
  if (R.histfile && append_history(1, R.histfile) == 0)
    history_truncate_file(R.histfile, HISTORY_MAX);
}

/* ------------------------------------------------------- completion */

static int is_ident(const char *s, size_t n)
{
  static const char *const kw[] = {
    "and", "break", "do", "else", "elseif", "end", "false", "for", "function", "goto",
    "if", "in", "local", "nil", "not", "or", "repeat", "return", "then", "true",
    "until", "while", NULL};
  size_t i;
  if (n == 0 || !((s[0] >= 'a' && s[0] <= 'z') || (s[0] >= 'A' && s[0] <= 'Z') || s[0] == '_'))
    return 0;
  for (i = 1; i < n; i++)
    if (!((s[i] >= 'a' && s[i] <= 'z') || (s[i] >= 'A' && s[i] <= 'Z') ||
          (s[i] >= '0' && s[i] <= '9') || s[i] == '_'))
      return 0;
  for (i = 0; kw[i]; i++)
    if (strlen(kw[i]) == n && memcmp(kw[i], s, n) == 0)
      return 0;
  return 1;
}

/* Push the value of key in v (at idx) without calling anything: the raw
 * field, else the same through __index tables of the metatables. */
static void raw_lookup(lua_State *L, int idx, const char *key, size_t klen)
{
  int depth;
  lua_pushvalue(L, idx);
  for (depth = 0; depth < 16; depth++) {
    if (lua_istable(L, -1)) {
      lua_pushlstring(L, key, klen);
      if (lua_rawget(L, -2) != LUA_TNIL) {
        lua_remove(L, -2);
        return;
      }
      lua_pop(L, 1);
    }
    if (!lua_getmetatable(L, -1))
      break;
    lua_pushliteral(L, "__index");
    lua_rawget(L, -2);
    lua_remove(L, -2);            /* the metatable */
    lua_remove(L, -2);            /* the previous value */
    if (!lua_istable(L, -1))
      break;
  }
  lua_pop(L, 1);
  lua_pushnil(L);
}

/* Add to the set at `set` the identifier keys of v (at idx) and of the
 * __index tables behind it that start with part; methods: functions only. */
static void collect(lua_State *L, int idx, int set, const char *part, int methods)
{
  size_t plen = strlen(part);
  int depth;
  lua_pushvalue(L, idx);
  for (depth = 0; depth < 16; depth++) {
    if (lua_istable(L, -1)) {
      lua_pushnil(L);
      while (lua_next(L, -2)) {
        size_t klen;
        const char *k;
        if (lua_type(L, -2) == LUA_TSTRING && (k = lua_tolstring(L, -2, &klen)) &&
            klen >= plen && memcmp(k, part, plen) == 0 && is_ident(k, klen) &&
            (!methods || lua_type(L, -1) == LUA_TFUNCTION)) {
          lua_pushvalue(L, -2);
          lua_rawget(L, set);
          if (lua_isnil(L, -1)) {
            lua_pushvalue(L, -3);
            lua_pushinteger(L, lua_type(L, -3));
            lua_rawset(L, set);
          }
          lua_pop(L, 1);
        }
        lua_pop(L, 1);
      }
    }
    if (!lua_getmetatable(L, -1))
      break;
    lua_pushliteral(L, "__index");
    lua_rawget(L, -2);
    lua_remove(L, -2);
    lua_remove(L, -2);
    if (!lua_istable(L, -1))
      break;
  }
  lua_pop(L, 1);
}

/* l_complete(text) -> set {name = lua type} of what completes text. */
static int l_complete(lua_State *L)
{
  const char *text = lua_touserdata(L, 1);
  const char *sep = NULL, *p, *seg;
  int set;
  for (p = text; *p; p++)
    if (*p == '.' || *p == ':')
      sep = p;
  lua_newtable(L);
  set = lua_gettop(L);
  lua_pushglobaltable(L);               /* the value being walked */
  if (!sep) {
    static const char *const kw[] = {
      "and", "break", "do", "else", "elseif", "end", "false", "for", "function", "goto",
      "if", "in", "local", "nil", "not", "or", "repeat", "return", "then", "true",
      "until", "while", NULL};
    size_t n = strlen(text), i;
    collect(L, set + 1, set, text, 0);
    for (i = 0; kw[i]; i++)
      if (strncmp(kw[i], text, n) == 0) {
        lua_pushinteger(L, LUA_TNONE);
        lua_setfield(L, set, kw[i]);
      }
    lua_settop(L, set);
    return 1;
  }
  /* the path before sep: identifiers joined by dots */
  for (seg = text; seg <= sep;) {
    const char *end = seg;
    while (end < sep && *end != '.' && *end != ':')
      end++;
    if (!is_ident(seg, (size_t)(end - seg)) || (end < sep && *end == ':')) {
      lua_settop(L, set);
      return 1;
    }
    raw_lookup(L, -1, seg, (size_t)(end - seg));
    lua_remove(L, -2);
    if (lua_isnil(L, -1)) {
      lua_settop(L, set);
      return 1;
    }
    seg = end + 1;
  }
  collect(L, set + 1, set, sep + 1, *sep == ':');
  lua_settop(L, set);
  return 1;
}

static int cmp_str(const void *a, const void *b)
{
  return strcmp(*(char *const *)a, *(char *const *)b);
}

static void free_cand(void)
{
  int i;
  for (i = 0; i < R.ncand; i++)
    free(R.cand[i]);
  free(R.cand);
  R.cand = NULL;
  R.ncand = 0;
}

static char *cand_gen(const char *text, int state)
{
  static int i;
  (void)text;
  if (!state)
    i = 0;
  return i < R.ncand ? strdup(R.cand[i++]) : NULL;
}

static char **complete(const char *text, int start, int end)
{
  lua_State *L = R.L;
  const char *sep = NULL, *p;
  size_t plen;
  int n = 0, single_type = LUA_TNONE;
  (void)start;
  (void)end;
  rl_attempted_completion_over = 1;       /* never file names */
  rl_completion_append_character = '\0';
  free_cand();
  for (p = text; *p; p++)
    if (*p == '.' || *p == ':')
      sep = p;
  plen = sep ? (size_t)(sep - text) + 1 : 0;
  R.cand_skip = plen;
  lua_pushcfunction(L, l_complete);
  lua_pushlightuserdata(L, (void *)text);
  if (lua_pcall(L, 1, 1, 0) != LUA_OK) {
    lua_pop(L, 1);
    return NULL;
  }
  lua_pushnil(L);
  while (lua_next(L, -2))
    n++, lua_pop(L, 1);
  R.cand = calloc((size_t)n + 1, sizeof *R.cand);
  if (!R.cand) {
    lua_pop(L, 1);
    return NULL;
  }
  lua_pushnil(L);
  while (lua_next(L, -2)) {
    size_t klen;
    const char *k = lua_tolstring(L, -2, &klen);
    char *s = malloc(plen + klen + 1);
    if (s && R.ncand < n) {
      memcpy(s, text, plen);
      memcpy(s + plen, k, klen + 1);
      R.cand[R.ncand++] = s;
      single_type = (int)lua_tointeger(L, -1);
    } else
      free(s);
    lua_pop(L, 1);
  }
  lua_pop(L, 1);
  qsort(R.cand, (size_t)R.ncand, sizeof *R.cand, cmp_str);
  if (R.ncand == 1)
    rl_completion_append_character = single_type == LUA_TFUNCTION ? '(' :
                                     single_type == LUA_TTABLE ? '.' : '\0';
  return rl_completion_matches(text, cand_gen);
}

/* List the candidates without the part the user typed before the last
 * dot or colon: "list_all_domains", not "conn:list_all_domains". */
static void display_matches(char **matches, int num, int max)
{
  char **shown = malloc(((size_t)num + 2) * sizeof *shown);
  size_t skip = R.cand_skip;
  int i;
  if (!shown) {
    rl_display_match_list(matches, num, max);
  } else {
    for (i = 0; i <= num; i++)
      shown[i] = strlen(matches[i]) >= skip ? matches[i] + skip : matches[i];
    shown[num + 1] = NULL;
    rl_display_match_list(shown, num, max > (int)skip ? max - (int)skip : max);
    free(shown);
  }
  rl_forced_update_display();
}

/* ------------------------------------------------------------ input */

static void on_line(char *line)
{
  if (!line) {                           /* Ctrl-D */
    rl_callback_handler_remove();
    R.installed = 0;
    fputc('\n', stdout);
    fflush(stdout);
    R.quit = 1;
    uv_stop(lv_loop());
    return;
  }
  history_remember(line);
  /* the prompt stays off while the chunk runs; a continuation line sets
   * the second prompt again (show_prompt) */
  rl_callback_handler_remove();
  R.installed = 0;
  handle_line(line);
  free(line);
}

static int input_ready(void)
{
  struct pollfd p = {0, POLLIN, 0};
  return poll(&p, 1, 0) > 0 && (p.revents & (POLLIN | POLLHUP));
}

static void stdin_cb(uv_poll_t *h, int status, int events)
{
  (void)h;
  (void)events;
  if (status < 0) {
    R.quit = 1;
    uv_stop(lv_loop());
    return;
  }
  /* a paste arrives at once: take it all, unless a chunk starts */
  do
    rl_callback_read_char();
  while (R.installed && !R.quit && input_ready());
  if (!R.installed && R.polling) {
    uv_poll_stop(&R.in);
    R.polling = 0;
  }
}

static void winch_cb(uv_signal_t *h, int sig)
{
  (void)h;
  (void)sig;
  if (R.installed)
    rl_resize_terminal();
}

static const char *prompt_text(int second)
{
  static char buf[256];
  lua_State *L = R.L;
  const char *p;
  lua_pushglobaltable(L);
  lua_pushstring(L, second ? "_PROMPT2" : "_PROMPT");
  lua_rawget(L, -2);
  p = lua_tostring(L, -1);
  snprintf(buf, sizeof buf, "%s", p ? p : second ? ">> " : "> ");
  lua_pop(L, 2);
  return buf;
}

static void show_prompt(int second)
{
  if (R.quit)
    return;
  if (!R.tty) {
    fputs(prompt_text(second), stdout);
    fflush(stdout);
    return;
  }
  if (R.installed)
    rl_callback_handler_remove();
  rl_callback_handler_install(prompt_text(second), on_line);
  R.installed = 1;
  if (!R.polling && uv_poll_start(&R.in, UV_READABLE, stdin_cb) == 0)
    R.polling = 1;
}

/* Not a terminal: plain lines, read when no chunk runs. */
static void read_plain(void)
{
  char *line = NULL;
  size_t cap = 0;
  ssize_t n = getline(&line, &cap, stdin);
  if (n < 0) {
    free(line);
    fputc('\n', stdout);
    R.quit = 1;
    return;
  }
  if (n > 0 && line[n - 1] == '\n')
    line[--n] = '\0';
  handle_line(line);
  free(line);
}

/* ------------------------------------------------------------- setup */

static int setup_lua(lua_State *L)
{
  /* tasks need virt.core; `virt` is at hand at the prompt */
  luaL_requiref(L, "virt.core", luaopen_virt_core, 0);
  lua_pushglobaltable(L);
  lua_pushliteral(L, "virt");
  if (lua_rawget(L, -2) == LUA_TNIL) {
    lua_getglobal(L, "require");
    lua_pushliteral(L, "virt");
    lua_call(L, 1, 1);
    lua_setglobal(L, "virt");
  }
  lua_settop(L, 0);
  if (luaL_loadbuffer(L, runner_src, sizeof runner_src - 1, "=luvirt-repl") != LUA_OK)
    return lua_error(L);
  lua_pushcfunction(L, l_done);
  lua_pushcfunction(L, l_msgh);
  lua_getglobal(L, "require");
  lua_pushliteral(L, "virt.pretty");
  lua_call(L, 1, 1);
  lua_getfield(L, -1, "format");
  lua_remove(L, -2);
  lua_call(L, 3, 1);
  lua_rawsetp(L, LUA_REGISTRYINDEX, &runner_key);
  return setup_output(L);
}

/* ~/.luvirtrc.lua, run like a chunk before the first prompt */
static int run_rc(void)
{
  const char *home = getenv("HOME");
  char path[4096];
  if (!home || !*home)
    return 0;
  snprintf(path, sizeof path, "%s/.luvirtrc.lua", home);
  if (access(path, F_OK) != 0)
    return 0;
  if (luaL_loadfilex(R.L, path, "t") != LUA_OK) {
    fprintf(stderr, "luvirt: %s\n", lua_tostring(R.L, -1));
    lua_pop(R.L, 1);
    return 0;
  }
  run_chunk(0);
  return 1;
}

static void setup_terminal(void)
{
  struct sigaction sa;
  uv_loop_t *loop = lv_loop();
  R.stdin_flags = fcntl(0, F_GETFL);
  if (R.tty && uv_poll_init(loop, &R.in, 0) != 0)
    R.tty = 0;
  /* uv_poll_init made stdin non-blocking, and with it the terminal's
   * stdout (one open file): writes could fail with EAGAIN */
  if (R.stdin_flags >= 0)
    fcntl(0, F_SETFL, R.stdin_flags & ~O_NONBLOCK);
  uv_async_init(loop, &R.intr, intr_cb);
  uv_unref((uv_handle_t *)&R.intr);
  memset(&sa, 0, sizeof sa);
  sa.sa_handler = on_sigint;
  sigemptyset(&sa.sa_mask);
  sa.sa_flags = SA_RESTART;
  sigaction(SIGINT, &sa, &R.old_int);
  if (!R.tty)
    return;
  uv_signal_init(loop, &R.winch);
  uv_signal_start(&R.winch, winch_cb, SIGWINCH);
  uv_unref((uv_handle_t *)&R.winch);
  rl_readline_name = "luvirt";
  rl_catch_signals = 0;            /* Ctrl-C is ours, see above */
  rl_catch_sigwinch = 0;
  rl_change_environment = 0;
  rl_basic_word_break_characters = " \t\n\"'`@$><=;|&{(,+-*/%^~#[]}!?";
  rl_completer_word_break_characters = rl_basic_word_break_characters;
  rl_attempted_completion_function = complete;
  rl_completion_display_matches_hook = display_matches;
  history_setup();
}

static void teardown(void)
{
  if (R.installed)
    rl_callback_handler_remove();
  R.installed = 0;
  sigaction(SIGINT, &R.old_int, NULL);
  if (R.tty) {
    if (R.polling)
      uv_poll_stop(&R.in);
    uv_close((uv_handle_t *)&R.in, NULL);
    uv_close((uv_handle_t *)&R.winch, NULL);
  }
  uv_close((uv_handle_t *)&R.intr, NULL);
  uv_run(lv_loop(), UV_RUN_NOWAIT);    /* the closes complete */
  if (R.stdin_flags >= 0)
    fcntl(0, F_SETFL, R.stdin_flags);
  free_cand();
  drop_pending();
  free(R.histfile);
  R.histfile = NULL;
  if (R.chunk_task != LUA_NOREF && R.L)
    luaL_unref(R.L, LUA_REGISTRYINDEX, R.chunk_task);
  rl_clear_history();
}

int lv_repl_run(luvirt *lv)
{
  lua_State *L = luvirt_state(lv);
  memset(&R, 0, sizeof R);
  R.lv = lv;
  R.L = L;
  R.chunk_task = LUA_NOREF;
  R.as_expr = 1;
  R.tty = isatty(0);
  lua_pushcfunction(L, setup_lua);
  if (lua_pcall(L, 0, 0, 0) != LUA_OK) {
    fprintf(stderr, "luvirt: cannot start the REPL: %s\n", lua_tostring(L, -1));
    lua_pop(L, 1);
    return -1;
  }
  setup_terminal();
  if (R.tty) {
    printf("luvirt %s (%s) -- `virt` is loaded; Tab completes, Ctrl-C interrupts, Ctrl-D exits\n",
           LUVIRT_VERSION, LUA_RELEASE);
    fflush(stdout);
  }
  if (!run_rc())
    show_prompt(0);

  while (!R.quit) {
    int rc;
    if (!R.tty && !R.running) {
      luvirt_run(lv, UV_RUN_NOWAIT);      /* callbacks between lines */
      if (!R.running && !R.quit)
        read_plain();
      continue;
    }
    rc = luvirt_run(lv, R.tty ? UV_RUN_DEFAULT : UV_RUN_ONCE);
    if (rc < 0) {
      out_begin();
      fprintf(stderr, "luvirt: %s\n", luvirt_errmsg(lv));
      out_end(0);
    } else if (rc == 0 && R.running && !R.quit)
      abandon("luvirt: the chunk waits for something nothing left on the loop can do "
              "(a semaphore, event or task that never comes): given up");
    else if (rc == 0 && R.tty && !R.installed && !R.running && !R.quit)
      show_prompt(0);
  }
  teardown();
  return 0;
}
