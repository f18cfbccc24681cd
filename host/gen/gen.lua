-- gen.lua: generate luvirt's bindings from libvirt's API description.
--
--   lua5.4 host/gen/gen.lua OUTDIR api.xml... [host/*.c...]
--
-- Writes OUTDIR/generated.c (lv_gen_register: every constant, every
-- typed-parameter name, a wrapper for every function of a simple shape,
-- virt._bindings and virt._skipped) and OUTDIR/REFERENCE.md.  Functions
-- bound by hand are found by scanning host/*.c (the C files given, or all of
-- host/ when none are).  A function that is neither generated, bound by hand
-- nor listed in skip.txt with a reason fails the build, listing its name.
--
-- Options: --report prints how many functions fit each shape.
-- SPDX-License-Identifier: LGPL-2.1-or-later

local here = arg[0]:match("^(.*)/[^/]*$") or "."
package.path = here .. "/?.lua;" .. package.path

local api_mod = require "api"
local constants = require "constants"
local names = require "names"
local shapes = require "shapes"
local emit = require "emit"

local outdir
local xmls, cfiles = {}, {}
local report = false
for _, a in ipairs(arg) do
  if a == "--report" then report = true
  elseif not outdir then outdir = a
  elseif a:match("%.xml$") then xmls[#xmls + 1] = a
  elseif a:match("%.c$") then cfiles[#cfiles + 1] = a
  else error("gen.lua: do not know what to do with '" .. a .. "'") end
end
if not outdir or #xmls == 0 then
  io.stderr:write("usage: gen.lua OUTDIR api.xml... [file.c...] [--report]\n")
  os.exit(2)
end
if #cfiles == 0 then
  local srcdir = here:gsub("/gen$", "")
  local p = io.popen('ls "' .. srcdir .. '"/*.c 2>/dev/null')
  for line in p:lines() do cfiles[#cfiles + 1] = line end
  p:close()
end
table.sort(cfiles)

local t0 = os.clock()
local api = api_mod.load(xmls)
local rules = constants.load_rules(here .. "/constants.txt")
local consts = constants.all(api, rules)
local namemap = names.load_names(here .. "/names.txt")
local skip = names.load_skip(here .. "/skip.txt")
local hand, defined = names.scan_sources(cfiles)
local nullable = {}
for line in io.lines(here .. "/nullable.txt") do
  local w = {}
  for t in line:gsub("#.*", ""):gmatch("%S+") do w[#w + 1] = t end
  if #w > 0 then
    nullable[w[1]] = {}
    for i = 2, #w do nullable[w[1]][w[i]] = true end
  end
end

-- ------------------------------------------------------------ decisions
local problems = {}
local function problem(s) problems[#problems + 1] = s end

for cname in pairs(namemap) do
  if not api.functions[cname] then problem("names.txt lists " .. cname .. ", which is in no API file") end
end
for cname in pairs(skip) do
  if not api.functions[cname] then problem("skip.txt lists " .. cname .. ", which is in no API file") end
end
for cname, h in pairs(hand) do
  if not api.functions[cname] then
    problem(("%s:%d binds %s, which is in no API file"):format(h.file, h.line, cname))
  end
end

local entries = {}          -- one per API function, in file order
local by_method = {}        -- "Class.method" -> { entries }
local hand_methods = {}     -- "Class.method" -> file:line
for _, fn in ipairs(api.order) do
  local e = { fn = fn }
  local n = namemap[fn.name]
  if n then e.class, e.method = n.class, n.method
  else e.class, e.method = names.rule_name(fn) end
  local h = hand[fn.name]
  if h then
    e.status, e.method, e.where = "hand", h.method, h.file:match("[^/]+$") .. ":" .. h.line
    if skip[fn.name] then problem(fn.name .. " is bound in " .. e.where .. " and also in skip.txt") end
    hand_methods[e.class .. "." .. e.method] = e.where
  elseif skip[fn.name] then
    e.status, e.reason = "skip", skip[fn.name]
  else
    local plan, why = shapes.classify(fn, api, { defined = defined, nullable = nullable, class = e.class })
    if plan then
      plan.class, plan.method = e.class, e.method
      e.status, e.plan = "gen", plan
    else
      e.status, e.reason = "unbound", why
    end
  end
  entries[#entries + 1] = e
  local key = e.class .. "." .. e.method
  by_method[key] = by_method[key] or {}
  table.insert(by_method[key], e)
end

-- A generated wrapper never replaces a hand-written method of the same name.
for _, e in ipairs(entries) do
  local key = e.class .. "." .. e.method
  if e.status == "gen" and hand_methods[key] then
    e.status, e.plan = "unbound", nil
    e.reason = ("%s is written by hand at %s, but its comment does not list %s"):format(key, hand_methods[key], e.fn.name)
  end
end

-- ------------------------------------------------------------ report
if report then
  local kinds, reasons = {}, {}
  for _, e in ipairs(entries) do
    local k = e.status
    if e.status == "gen" then
      local r = e.plan.ret.kind
      if e.plan.ret_list then r = "list of " .. e.plan.ret_list.kind end
      local extra = #e.plan.outs > 0 and (" + " .. #e.plan.outs .. " out") or ""
      k = "gen: " .. r .. extra
    elseif e.status == "unbound" then
      local r = e.reason:gsub("argument %S+ has", "an argument has")
      reasons[r] = (reasons[r] or 0) + 1
    end
    kinds[k] = (kinds[k] or 0) + 1
  end
  local function dump(t)
    local ks = {}
    for k in pairs(t) do ks[#ks + 1] = k end
    table.sort(ks, function(a, b) return t[a] > t[b] or (t[a] == t[b] and a < b) end)
    for _, k in ipairs(ks) do print(("%5d  %s"):format(t[k], k)) end
  end
  print("== functions by shape (" .. #entries .. ")")
  dump(kinds)
  print("== why the rest does not fit")
  dump(reasons)
end

local unbound = {}
for _, e in ipairs(entries) do
  if e.status == "unbound" then
    unbound[#unbound + 1] = ("  %-44s %s.%s: %s"):format(e.fn.name, e.class, e.method, e.reason)
  end
end

-- ------------------------------------------------------------ C output
local C = { emit.prelude }
local function c(s) C[#C + 1] = s end
for _, f in ipairs(api.files) do
  if f.lib ~= "libvirt" then c(("#include <libvirt/%s.h>"):format(f.lib)) end
end

-- Constants: one table per class.
local const_by_class, const_classes = {}, {}
for _, k in ipairs(consts) do
  if not const_by_class[k.class] then
    const_by_class[k.class] = {}
    const_classes[#const_classes + 1] = k.class
  end
  table.insert(const_by_class[k.class], k)
end
-- Names carry their length (sizeof): registering ~2,300 constants at every
-- start-up, lua_pushlstring + lua_rawset spare lua_setfield's strlen and
-- string-cache probe.
c("\nstruct g_iconst { const char *name; size_t len; lua_Integer value; };")
c("struct g_sconst { const char *name; size_t len; const char *value; };")
c('#define G_NAME(s) s, sizeof s - 1')
local function cident(class) return (class:gsub("%.", "_")) end
for _, class in ipairs(const_classes) do
  local ints, strs = {}, {}
  for _, k in ipairs(const_by_class[class]) do
    if k.kind == "int" then
      -- The XML's value, not the header's expression: the coverage spec
      -- compares the two.
      local v = tostring(k.value)
      if k.value > 2147483647 or k.value < -2147483647 then v = v .. "LL" end
      ints[#ints + 1] = ('  {G_NAME("%s"), %s},'):format(k.lua, v)
    else
      strs[#strs + 1] = ('  {G_NAME("%s"), "%s"},'):format(k.lua, k.value:gsub('[\\"]', "\\%0"))
    end
  end
  c(("static const struct g_iconst gi_%s[] = {\n%s\n  {NULL, 0, 0}\n};"):format(cident(class), table.concat(ints, "\n")))
  c(("static const struct g_sconst gs_%s[] = {\n%s\n  {NULL, 0, NULL}\n};"):format(cident(class), table.concat(strs, "\n")))
end

-- Typed-parameter names with their C type, for setters without a getter.
do
  local over, n = {}, 0
  for line in io.lines(here .. "/typedparams.txt") do
    n = n + 1
    local w = {}
    for t in line:gsub("#.*", ""):gmatch("%S+") do w[#w + 1] = t end
    if #w > 0 then
      if not (w[2] and (#w == 2 or (#w == 3 and w[3] == "list"))) then
        error("typedparams.txt:" .. n .. ": expected 'MACRO type [list]'")
      end
      over[w[1]] = { type = w[2], multi = w[3] == "list" }
    end
  end
  local TYPES = { int = 1, uint = 2, llong = 3, ullong = 4, double = 5, boolean = 6, string = 7 }
  local rows = {}
  for _, m in ipairs(api.strings) do
    local o = over[m.name]
    local ty, multi = o and o.type, o and o.multi
    if not ty then
      local info = (m.info or ""):gsub("%s+", " ")
      ty = info:match("VIR_TYPED_PARAMS?_(%u+)")
      ty = ty and ty:lower()
      ty = ty or info:match("type of (%l+)")
      if not ty then
        if info:find("as an? unsigned long long") then ty = "ullong"
        elseif info:find("as an? unsigned int") then ty = "uint"
        else ty = info:match("as an? (%l+)") end
      end
      multi = info:find("multiple field") ~= nil
    end
    if ty == "bool" then ty = "boolean" end
    if TYPES[ty] then
      rows[#rows + 1] = ('  {"%s", "%s", VIR_TYPED_PARAM_%s, %d},'):format(m.name, m.value, ty:upper(), multi and 1 or 0)
    end
    if o then over[m.name] = nil end
  end
  for name in pairs(over) do problem("typedparams.txt lists " .. name .. ", which is no typed-parameter name") end
  c(("\nconst lv_tp_def lv_tp_defs[] = {\n%s\n  {NULL, NULL, 0, 0}\n};"):format(table.concat(rows, "\n")))
end

-- Wrappers, then one luaL_Reg per class.
local regs, reg_classes = {}, {}
local function add_reg(class, method, cfun)
  if not regs[class] then regs[class] = {} reg_classes[#reg_classes + 1] = class end
  table.insert(regs[class], { method = method, cfun = cfun })
end
local generated_count = 0
local done_methods = {}
for _, e in ipairs(entries) do
  if e.status == "gen" then
    local code, cfun = emit.binding(e.plan)
    c("\n" .. code)
    generated_count = generated_count + 1
    local key = e.class .. "." .. e.method
    local group = {}
    for _, o in ipairs(by_method[key]) do if o.status == "gen" then group[#group + 1] = o.plan end end
    if #group == 1 then
      add_reg(e.class, e.method, cfun)
    elseif not done_methods[key] and group[#group] == e.plan then
      local dcode, dfun = emit.dispatcher(e.class, e.method, group)
      if not dcode then
        problem(key .. ": " .. dfun)
      else
        c("\n" .. dcode)
        add_reg(e.class, e.method, dfun)
      end
      done_methods[key] = true
    end
  end
end

local function class_sym(class)
  local cl = names.by_class[class]
  return cl and cl.sym
end
for _, class in ipairs(reg_classes) do
  local lines = {}
  table.sort(regs[class], function(a, b) return a.method < b.method end)
  for _, r in ipairs(regs[class]) do lines[#lines + 1] = ('  {"%s", %s},'):format(r.method, r.cfun) end
  c(("\nstatic const luaL_Reg gr_%s[] = {\n%s\n  {NULL, NULL}\n};"):format(cident(class), table.concat(lines, "\n")))
end

-- virt._bindings and virt._skipped.
local bind_lines, skip_lines = {}, {}
for _, e in ipairs(entries) do
  if e.status == "gen" or e.status == "hand" then
    bind_lines[#bind_lines + 1] = ('  {G_NAME("%s"), "%s.%s"},'):format(e.fn.name, e.class, e.method)
  elseif e.status == "skip" then
    skip_lines[#skip_lines + 1] = ('  {G_NAME("%s"), "%s"},'):format(e.fn.name, e.reason:gsub('[\\"]', "\\%0"))
  end
end
c(("\nstatic const struct g_sconst g_bindings[] = {\n%s\n  {NULL, 0, NULL}\n};"):format(table.concat(bind_lines, "\n")))
c(("static const struct g_sconst g_skipped[] = {\n%s\n  {NULL, 0, NULL}\n};"):format(table.concat(skip_lines, "\n")))

-- How many entries each table virt.<path> ends with (constants, generated
-- and hand-written methods; for "virt" also its classes): created at that
-- size, a table is not rehashed again and again while it fills.  Hand
-- methods with no C name in their comment are not counted: 8 more slots
-- leave room for them (the hash part is a power of two above that).
local table_size, top_classes = {}, {}
local function count(path, n) table_size[path] = (table_size[path] or 0) + n end
for _, class in ipairs(const_classes) do count(class, #const_by_class[class]) end
for _, class in ipairs(reg_classes) do count(class, #regs[class]) end
for key in pairs(hand_methods) do count(key:match("^(.*)%.[^.]*$"), 1) end
for path in pairs(table_size) do
  if path ~= "virt" then top_classes[path:match("^[^.]*")] = true end
end
for _ in pairs(top_classes) do count("virt", 1) end
count("virt", 2)                       -- _bindings, _skipped
local size_lines, size_paths = {}, {}
for path in pairs(table_size) do size_paths[#size_paths + 1] = path end
table.sort(size_paths)
for _, path in ipairs(size_paths) do
  size_lines[#size_lines + 1] = ('    {"%s", %d},'):format(path, table_size[path] + 8)
end
c(([[

int lv_gen_table_size(const char *path)
{
  static const struct { const char *path; int n; } sizes[] = {
%s
    {NULL, 0}};
  int i;
  for (i = 0; sizes[i].path; i++)
    if (strcmp(sizes[i].path, path) == 0)
      return sizes[i].n;
  return 0;
}]]):format(table.concat(size_lines, "\n")))

c([[

/* The table for class "Domain", "admin.Client" or "virt" (the module at
 * idx), created when missing; pushed. */
static void g_class_table(lua_State *L, int idx, const char *path)
{
  const char *dot, *full = path;
  lua_pushvalue(L, idx);
  if (strcmp(path, "virt") == 0)
    return;
  while (*path) {
    size_t n;
    dot = strchr(path, '.');
    n = dot ? (size_t)(dot - path) : strlen(path);
    lua_pushlstring(L, path, n);
    if (lua_rawget(L, -2) != LUA_TTABLE) {
      lua_pop(L, 1);
      lua_createtable(L, 0, dot ? 0 : lv_gen_table_size(full));
      lua_pushlstring(L, path, n);
      lua_pushvalue(L, -2);
      lua_rawset(L, -4);
    }
    lua_remove(L, -2);
    path = dot ? dot + 1 : path + n;
  }
}

static void g_set_consts(lua_State *L, int idx, const char *path,
                         const struct g_iconst *ic, const struct g_sconst *sc)
{
  g_class_table(L, idx, path);
  for (; ic->name; ic++) {
    lua_pushlstring(L, ic->name, ic->len);
    lua_pushinteger(L, ic->value);
    lua_rawset(L, -3);
  }
  for (; sc->name; sc++) {
    lua_pushlstring(L, sc->name, sc->len);
    lua_pushstring(L, sc->value);
    lua_rawset(L, -3);
  }
  lua_pop(L, 1);
}

static void g_set_map(lua_State *L, int idx, const char *field, const struct g_sconst *sc, int n)
{
  lua_createtable(L, 0, n);
  for (; sc->name; sc++) {
    lua_pushlstring(L, sc->name, sc->len);
    lua_pushstring(L, sc->value);
    lua_rawset(L, -3);
  }
  lua_setfield(L, idx, field);
}
]])

local R = { "void lv_gen_register(lua_State *L)\n{\n  int m = lua_gettop(L);" }
for _, class in ipairs(const_classes) do
  R[#R + 1] = ('  g_set_consts(L, m, "%s", gi_%s, gs_%s);'):format(class, cident(class), cident(class))
end
for _, class in ipairs(reg_classes) do
  local sym = class_sym(class)
  if sym then
    R[#R + 1] = ("  lv_class_add(L, &%s, gr_%s);"):format(sym, cident(class))
  else
    R[#R + 1] = ('  g_class_table(L, m, "%s");\n  luaL_setfuncs(L, gr_%s, 0);\n  lua_pop(L, 1);'):format(class, cident(class))
  end
end
R[#R + 1] = ('  g_set_map(L, m, "_bindings", g_bindings, %d);'):format(#bind_lines)
R[#R + 1] = ('  g_set_map(L, m, "_skipped", g_skipped, %d);'):format(#skip_lines)
R[#R + 1] = "}"
c("\nvoid lv_gen_register(lua_State *L);\n" .. table.concat(R, "\n"))

-- ------------------------------------------------------------ REFERENCE.md
local function args_of(fn)
  local t = {}
  for _, a in ipairs(fn.args) do t[#t + 1] = a.type .. (a.type:find("%*$") and "" or " ") .. a.name end
  return table.concat(t, ", ")
end
local ref = { "# luvirt reference", "",
  "Generated at build time from libvirt's API description (" .. #api.order .. " functions): every class",
  "and method with the C function it calls.  *generated* wrappers take the C arguments in order,",
  "without the object itself, output pointers and sizes; `flags` may be omitted.  *hand* bindings",
  "are written in the file named.", "" }
-- How the reference names the receiver of each class's methods.
local RECV = {
  Virt = "conn", Domain = "dom", Network = "net", NetworkPort = "port", StoragePool = "pool",
  StorageVol = "vol", Interface = "iface", NodeDevice = "dev", Secret = "secret",
  NWFilter = "filter", NWFilterBinding = "binding", DomainSnapshot = "snap",
  DomainCheckpoint = "checkpoint", Stream = "st", ["admin.Connect"] = "adm",
  ["admin.Server"] = "srv", ["admin.Client"] = "client",
}
local classes = {}
for key, list in pairs(by_method) do
  local class = list[1].class
  classes[class] = classes[class] or {}
  table.insert(classes[class], key)
end
local cl = {}
for k in pairs(classes) do cl[#cl + 1] = k end
table.sort(cl)
for _, class in ipairs(cl) do
  local keys = classes[class]
  table.sort(keys)
  local rows = {}
  for _, key in ipairs(keys) do
    for _, e in ipairs(by_method[key]) do
      if e.status == "gen" or e.status == "hand" then
        local recv = RECV[class]
        local sig = ""
        if e.status == "gen" then
          local a = table.move(e.plan.luaargs, recv and 2 or 1, #e.plan.luaargs, 1, {})
          sig = "(" .. table.concat(a, ", ") .. ")"
        end
        local call = recv and (recv .. ":" .. e.method) or ((class == "virt" and "virt." or ("virt." .. class .. ".")) .. e.method)
        rows[#rows + 1] = ("| `%s%s` | `%s(%s)` → `%s` | %s |"):format(call, sig, e.fn.name, args_of(e.fn),
          e.fn.ret.type, e.status == "gen" and "generated" or ("hand, " .. e.where))
      end
    end
  end
  if #rows > 0 then
    local title = class == "virt" and "virt (module functions)" or ("virt." .. class)
    ref[#ref + 1] = "## " .. title
    ref[#ref + 1] = ""
    ref[#ref + 1] = "| method | C function | binding |"
    ref[#ref + 1] = "|---|---|---|"
    for _, r in ipairs(rows) do ref[#ref + 1] = r end
    ref[#ref + 1] = ""
  end
end
ref[#ref + 1] = "## Not bound"
ref[#ref + 1] = ""
ref[#ref + 1] = "| C function | why |"
ref[#ref + 1] = "|---|---|"
for _, e in ipairs(entries) do
  if e.status == "skip" then ref[#ref + 1] = ("| `%s` | %s |"):format(e.fn.name, e.reason) end
end
ref[#ref + 1] = ""
ref[#ref + 1] = "## Constants"
ref[#ref + 1] = ""
for _, class in ipairs(const_classes) do
  local list = {}
  for _, k in ipairs(const_by_class[class]) do list[#list + 1] = "`" .. k.lua .. "`" end
  ref[#ref + 1] = ("- **%s** (%d): %s"):format(class == "virt" and "virt" or "virt." .. class, #list, table.concat(list, ", "))
end

-- ------------------------------------------------------------ finish
if #problems > 0 or #unbound > 0 then
  local msg = { "gen.lua: the bindings are incomplete." }
  if #unbound > 0 then
    msg[#msg + 1] = #unbound .. " libvirt function(s) are neither generated, bound by hand " ..
      "(a luaL_Reg line with the C name in a comment in host/*.c) nor listed with a reason in host/gen/skip.txt:"
    for _, u in ipairs(unbound) do msg[#msg + 1] = u end
  end
  for _, p in ipairs(problems) do msg[#msg + 1] = "  " .. p end
  msg[#msg + 1] = "(LV_GEN_PARTIAL=1 builds the rest anyway while work on these is in progress)"
  io.stderr:write(table.concat(msg, "\n"), "\n")
  if not os.getenv("LV_GEN_PARTIAL") then os.exit(1) end
  io.stderr:write("gen.lua: LV_GEN_PARTIAL is set: writing the partial bindings anyway\n")
end

-- Rewrite only on change so that make does not rebuild every object when
-- a C file changes without touching the bindings.
local function write(path, text)
  local f = io.open(path, "rb")
  if f then
    local old = f:read("a")
    f:close()
    if old == text then return false end
  end
  f = assert(io.open(path .. ".tmp", "wb"))
  f:write(text)
  f:close()
  assert(os.rename(path .. ".tmp", path))
  return true
end
write(outdir .. "/generated.c", table.concat(C, "\n") .. "\n")
write(outdir .. "/REFERENCE.md", table.concat(ref, "\n") .. "\n")

local counts = { gen = 0, hand = 0, skip = 0, unbound = 0 }
for _, e in ipairs(entries) do counts[e.status] = counts[e.status] + 1 end
io.stderr:write(("gen.lua: %d functions: %d generated, %d by hand, %d skipped, %d unbound; %d constants (%.2fs)\n"):format(
  #entries, counts.gen, counts.hand, counts.skip, counts.unbound, #consts, os.clock() - t0))
