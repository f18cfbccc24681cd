-- shapes.lua: decide whether a libvirt function fits a shape the generator
-- can bind, and describe how (a "plan" that emit.lua turns into C).
--
-- A plan lists the members of the job struct, how each Lua argument fills
-- them, the C call, and how results are pushed.  Anything that does not fit
-- returns nil and a reason; gen.lua then expects a hand-written binding or
-- a skip.txt entry.
-- SPDX-License-Identifier: LGPL-2.1-or-later

local names = require "names"

local M = {}

local INT_TYPES = {
  ["int"] = "int", ["unsigned int"] = "uint", ["long"] = "long",
  ["unsigned long"] = "ulong", ["long long"] = "llong",
  ["unsigned long long"] = "ullong", ["size_t"] = "size",
}

-- Calls that may run for minutes go to the long pool so that they never
-- starve short calls (DESIGN.md, asynchrony).
local LONG = {
  "Migrate", "Save", "Restore", "CoreDump", "BackupBegin", "Snapshot.-Create",
  "RevertToSnapshot", "Checkpoint.-Create", "Wipe", "StoragePoolBuild",
  "StoragePoolDelete", "StorageVolCreateXMLFrom", "StorageVolCreateXML",
  "StorageVolResize", "StorageVolDelete", "BlockPull", "BlockCommit", "BlockRebase",
  "BlockCopy", "NodeSuspend", "PMSuspend", "ManagedSave", "FSFreeze", "FSTrim",
  "QemuAgentCommand", "Shutdown", "Reboot", "StoragePoolRefresh",
}

local function is_long(name)
  for _, p in ipairs(LONG) do
    if name:find(p) then return true end
  end
  return false
end

local function mentions_null(info)
  return info:find("NULL") or info:find("optional") or info:find("[Oo]ptionally")
end

-- int returns: boolean predicates, plain status, or a value (a count, an
-- id, a comparison result), told apart by the name and the documentation.
local function int_kind(fn)
  local rest = fn.name:gsub("^vir", "")
  if rest:find("Is%u") or rest:find("Has%u") then return "bool" end
  local info = fn.ret.info
  for _, w in ipairs { "number", "count", "identifier", "maximum", "comparison result",
                       "an fd", "integer", "most recent" } do
    if info:find(w, 1, true) then return "int" end
  end
  for _, w in ipairs { "0 in case of success", "0 on success", "0 if ", "0 when successful",
                       "0 upon success", "0 in success", "0 otherwise", "0, or -1",
                       "0 in case of success" } do
    if info:find(w, 1, true) then return "status" end
  end
  return nil
end

local SCALAR_OUT = {
  ["int *"] = "int", ["unsigned int *"] = "uint", ["unsigned long *"] = "ulong",
  ["unsigned long long *"] = "ullong", ["long long *"] = "llong",
}

-- A flat struct libvirt fills in for us: every field a number or a fixed
-- char array.
local function flat_struct(api, ctype)
  local target = api.typedefs[ctype]
  local sname = target and target:match("^([%w_]+) %*$")
  local s = sname and api.structs[sname]
  if not s or #s.fields == 0 then return nil end
  local fields = {}
  for _, f in ipairs(s.fields) do
    local t = f.type
    local kind
    if t:match("^char [%w_]+%[.-%]$") then kind = "chars"
    elseif t == "unsigned char" or t == "unsigned short" or t == "unsigned int" or t == "unsigned long" then kind = "uint"
    elseif t == "unsigned long long" or t == "unsigned long long int" then kind = "ullong"
    elseif t == "int" or t == "long long" or t == "long long int" or t == "char" then kind = "int"
    elseif t == "double" then kind = "double"
    else return nil end
    fields[#fields + 1] = { name = f.name, kind = kind }
  end
  return { cname = sname, fields = fields }
end

-- The class of a pointer type (nil for non-objects).
local function objclass(ctype) return names.by_ctype[ctype] end

-- Lists libvirt allocates: "virXPtr **" -> objects.
local function objlist_class(ctype)
  local base = ctype:match("^([%w_]+) %*%*$")
  return base and names.by_ctype[base]
end

function M.classify(fn, api, ctx)
  -- libvirt-admin cannot initialize in luvirt's process (libvirt 9.0):
  -- admin.c runs it in a helper, so nothing here may call it directly.
  if fn.lib == "libvirt-admin" then
    return nil, "the admin API runs in luvirt-admin-helper: bind it in admin.c"
  end
  -- virXFree drops the reference the Lua object holds, now rather than at
  -- collection; the object then reads as freed.
  local only = #fn.args == 1 and objclass(fn.args[1].type)
  if only and fn.name == only.prefixes[1] .. "Ref" then
    return nil, "reference counting"
  end
  if only and fn.name == only.prefixes[1] .. "Free" then
    if not ctx.defined[only.sym] then
      return nil, "class " .. only.class .. " has no C file yet (" .. only.sym .. ")"
    end
    return { fn = fn, ret = { kind = "release" }, self = only, luaargs = { "obj" }, luatypes = {},
             outs = {}, fill = {}, frees = {}, fields = {}, call = {} }
  end
  local plan = {
    fn = fn, fields = {}, fill = {}, late = {}, call = {}, outs = {}, luaargs = {}, luatypes = {},
    pool = is_long(fn.name) and "LV_POOL_LONG" or "LV_POOL_SHORT", holds = 0,
    frees = {}, parent = 0,
  }
  local args = fn.args
  local typed, counted = false, false
  for _, a in ipairs(args) do
    if a.type:find("virTypedParameterPtr") then typed = true end
    -- a count argument (npages, cellCount, maxcpus) means pointers are arrays
    if INT_TYPES[a.type] and a.name ~= "flags" and
        (a.name:find("^n%l") or a.name:find("Count$") or a.name:find("^max")) then
      counted = true
    end
  end
  local pos = 0            -- Lua stack position of the next argument
  local used = {}          -- args consumed by a neighbour (counts, sizes)
  local function field(ctype, name)
    plan.fields[#plan.fields + 1] = { ctype = ctype, name = name }
    return name
  end
  local cur_type
  local function lua_arg(doc)
    pos = pos + 1
    plan.luaargs[#plan.luaargs + 1] = doc
    plan.luatypes[pos] = cur_type
    return pos
  end

  -- (list, count): the list from one Lua array, the count from its length
  local function intlist(la, li, ca, list_first)
    local f, cf = "a" .. li, "a" .. li .. "n"
    cur_type = la.type
    field(la.type, f)
    field(ca.type, cf)
    local p = lua_arg(la.name .. " (list of integers)")
    plan.late[#plan.late + 1] = ("{\n    unsigned int n_;\n    a.%s = (%s)g_check_intlist(L, %d, %d, &n_);\n    a.%s = (%s)n_;\n  }"):format(
      f, la.type, p, la.type == "int *" and 0 or 1, cf, ca.type)
    if list_first then
      plan.call[#plan.call + 1] = "a->" .. f
      plan.call[#plan.call + 1] = "a->" .. cf
    else
      plan.call[#plan.call + 1] = "a->" .. cf
      plan.call[#plan.call + 1] = "a->" .. f
    end
  end

  -- A method Sys::Virt puts on another class than its first argument's
  -- (conn:get_storage_pool_by_volume(vol)): the receiver comes first and
  -- becomes the parent of what is returned.
  local recv = ctx.class and names.by_class[ctx.class]
  local first = args[1] and objclass(args[1].type)
  if recv and first and recv ~= first then
    if not ctx.defined[recv.sym] then
      return nil, "class " .. recv.class .. " has no C file yet (" .. recv.sym .. ")"
    end
    pos = 1
    plan.luaargs[1] = "self"
    plan.fill[#plan.fill + 1] = ("lv_obj_check(L, 1, &%s);"):format(recv.sym)
    plan.parent = 1
  end

  for i, a in ipairs(args) do
    local f = "a" .. i
    local t = a.type
    cur_type = t
    local nxt = args[i + 1]
    if used[i] then
      -- filled by the argument that owns it
    elseif objclass(t) then
      local c = objclass(t)
      if not ctx.defined[c.sym] then
        return nil, "class " .. c.class .. " has no C file yet (" .. c.sym .. ")"
      end
      plan.holds = plan.holds + 1
      if plan.holds > 4 then return nil, "more than LV_JOB_MAXHOLD objects" end
      field(t, f)
      local p = lua_arg(a.name)
      if plan.parent == 0 then plan.parent, plan.self = p, c end
      plan.fill[#plan.fill + 1] = ("a.%s = lv_job_hold(&a.job, L, %d, &%s);"):format(f, p, c.sym)
      plan.call[#plan.call + 1] = "a->" .. f
    elseif t == "unsigned int" and a.name == "flags" then
      field("unsigned int", f)
      local p = lua_arg("flags=0")
      plan.fill[#plan.fill + 1] = ("a.%s = lv_optflags(L, %d);"):format(f, p)
      plan.call[#plan.call + 1] = "a->" .. f
    elseif t == "int" and a.name == "autostart" then
      field(t, f)
      local p = lua_arg("autostart")
      plan.fill[#plan.fill + 1] = ("a.%s = g_check_bool(L, %d);"):format(f, p)
      plan.call[#plan.call + 1] = "a->" .. f
    elseif INT_TYPES[t] and nxt and (nxt.type == "int *" or nxt.type == "unsigned int *") and
        a.name == "n" .. nxt.name then
      -- a list of integers in, its count before it
      intlist(nxt, i + 1, a, false)
      used[i + 1] = true
    elseif INT_TYPES[t] then
      field(t, f)
      local p = lua_arg(a.name)
      plan.fill[#plan.fill + 1] = ("a.%s = (%s)g_check_%s(L, %d);"):format(f, t, INT_TYPES[t], p)
      plan.call[#plan.call + 1] = "a->" .. f
    elseif t == "const char *" and nxt and nxt.type == "size_t" then
      -- bytes in: (data, nbytes)
      field("const char *", f); field("size_t", f .. "n")
      local p = lua_arg(a.name)
      plan.fill[#plan.fill + 1] = ("a.%s = luaL_checklstring(L, %d, &a.%sn);"):format(f, p, f)
      plan.call[#plan.call + 1] = "a->" .. f
      plan.call[#plan.call + 1] = "a->" .. f .. "n"
      used[i + 1] = true
    elseif t == "const unsigned char *" and nxt and nxt.type == "size_t" then
      field("const char *", f); field("size_t", f .. "n")
      local p = lua_arg(a.name)
      plan.fill[#plan.fill + 1] = ("a.%s = luaL_checklstring(L, %d, &a.%sn);"):format(f, p, f)
      plan.call[#plan.call + 1] = "(const unsigned char *)a->" .. f
      plan.call[#plan.call + 1] = "a->" .. f .. "n"
      used[i + 1] = true
    elseif t == "const unsigned char *" and a.name == "uuid" then
      field("const char *", f)
      local p = lua_arg("uuid (16 bytes)")
      plan.fill[#plan.fill + 1] = ("a.%s = g_check_rawuuid(L, %d);"):format(f, p)
      plan.call[#plan.call + 1] = "(const unsigned char *)a->" .. f
    elseif t == "const char *" then
      field("const char *", f)
      if mentions_null(a.info) or (ctx.nullable[fn.name] or {})[a.name] then
        local p = lua_arg(a.name .. "=nil")
        plan.fill[#plan.fill + 1] = ("a.%s = luaL_optstring(L, %d, NULL);"):format(f, p)
      else
        local p = lua_arg(a.name)
        plan.fill[#plan.fill + 1] = ("a.%s = luaL_checkstring(L, %d);"):format(f, p)
      end
      plan.call[#plan.call + 1] = "a->" .. f
    elseif t == "const char **" and nxt and (nxt.type == "unsigned int" or nxt.type == "int") then
      -- a list of strings in, with its count
      field("const char **", f); field(nxt.type, f .. "n")
      local p = lua_arg(a.name .. " (list of strings)")
      plan.late[#plan.late + 1] = ("a.%s = g_check_strlist(L, %d);"):format(f, p)
      plan.late[#plan.late + 1] = ("a.%sn = (%s)g_strlist_len(a.%s);"):format(f, nxt.type, f)
      plan.call[#plan.call + 1] = "a->" .. f
      plan.call[#plan.call + 1] = "a->" .. f .. "n"
      used[i + 1] = true
    elseif (t == "unsigned char *" and a.name == "uuid") then
      field("unsigned char", f .. "[VIR_UUID_BUFLEN]")
      plan.call[#plan.call + 1] = "a->" .. f
      plan.outs[#plan.outs + 1] = { kind = "rawuuid", field = f }
    elseif t == "char *" and a.name == "buf" and fn.name:find("UUIDString$") then
      field("char", f .. "[VIR_UUID_STRING_BUFLEN]")
      plan.call[#plan.call + 1] = "a->" .. f
      plan.outs[#plan.outs + 1] = { kind = "chars", field = f }
    elseif t == "char **" and a.name ~= "names" and a.name ~= "uuids" and
        not (nxt and (nxt.name:find("^max") or nxt.name == "nameslen")) then
      -- one string libvirt allocates
      field("char *", f)
      plan.call[#plan.call + 1] = "&a->" .. f
      plan.outs[#plan.outs + 1] = { kind = "string_free", field = f }
      plan.frees[#plan.frees + 1] = ("free(a->%s); a->%s = NULL;"):format(f, f)
    elseif (t == "char ** const" or t == "char **") and nxt and nxt.type == "int" and
        (nxt.name:find("^max") or nxt.name == "nameslen") then
      -- caller-sized name arrays of the old List* calls
      field("char **", f); field("int", f .. "n")
      local p = lua_arg(nxt.name)
      plan.fill[#plan.fill + 1] = ("a.%sn = (int)g_check_int(L, %d);"):format(f, p)
      plan.late[#plan.late + 1] = ("a.%s = g_alloc_array(L, a.%sn, sizeof(char *));"):format(f, f)
      plan.call[#plan.call + 1] = "a->" .. f
      plan.call[#plan.call + 1] = "a->" .. f .. "n"
      plan.ret_list = { kind = "names", field = f }
      plan.frees[#plan.frees + 1] = ("g_free_names(a->%s, a->r);"):format(f)
      used[i + 1] = true
    elseif t == "int *" and nxt and nxt.type == "int" and nxt.name:find("^max") then
      field("int *", f); field("int", f .. "n")
      local p = lua_arg(nxt.name)
      plan.fill[#plan.fill + 1] = ("a.%sn = (int)g_check_int(L, %d);"):format(f, p)
      plan.late[#plan.late + 1] = ("a.%s = g_alloc_array(L, a.%sn, sizeof(int));"):format(f, f)
      plan.call[#plan.call + 1] = "a->" .. f
      plan.call[#plan.call + 1] = "a->" .. f .. "n"
      plan.ret_list = { kind = "ints", field = f }
      used[i + 1] = true
    elseif t == "unsigned long long *" and a.name == "freeMems" then
      return nil, "caller-sized array filled from a start index"
    elseif t == "char ***" then
      field("char **", f)
      plan.call[#plan.call + 1] = "&a->" .. f
      plan.ret_list = { kind = "strv", field = f }
      plan.frees[#plan.frees + 1] = ("g_free_names(a->%s, a->r); free(a->%s); a->%s = NULL;"):format(f, f, f)
    elseif objlist_class(t) then
      local c = objlist_class(t)
      if not ctx.defined[c.sym] then
        return nil, "class " .. c.class .. " has no C file yet (" .. c.sym .. ")"
      end
      field(c.ctype .. " *", f)
      plan.call[#plan.call + 1] = "&a->" .. f
      plan.ret_list = { kind = "objects", field = f, cls = c }
      plan.frees[#plan.frees + 1] = ("g_free_objs(a->%s, a->r, %s.free); a->%s = NULL;"):format(f, c.sym, f)
    elseif (t == "int *" or t == "unsigned int *") and nxt and INT_TYPES[nxt.type] and
        nxt.name:find("^n" .. a.name) then
      -- a list of integers in, its count after it
      intlist(a, i, nxt, true)
      used[i + 1] = true
    elseif SCALAR_OUT[t] and counted then
      return nil, ("argument %s (%s) is an array sized by another argument"):format(a.name, t)
    elseif SCALAR_OUT[t] and not (typed and (a.name:find("^n") or a.name:find("^max"))) then
      if a.info:find("NULL") and a.info:find("pass NULL") then
        plan.call[#plan.call + 1] = "NULL"
      else
        field(t:sub(1, -3), f)
        plan.call[#plan.call + 1] = "&a->" .. f
        local kind = SCALAR_OUT[t]
        if a.name == "autostart" then kind = "bool" end
        plan.outs[#plan.outs + 1] = { kind = kind, field = f }
      end
    elseif t == "void *" and a.name == "buffer" then
      -- (..., size_t size, void *buffer, ...): read `size` bytes
      local size
      for j, b in ipairs(args) do if b.name == "size" and b.type == "size_t" and j < i then size = "a" .. j end end
      if not size then return nil, "buffer without a size argument" end
      field("char *", f)
      plan.late[#plan.late + 1] = ("a.%s = g_alloc_array(L, a.%s, 1);"):format(f, size)
      plan.call[#plan.call + 1] = "a->" .. f
      plan.outs[#plan.outs + 1] = { kind = "buffer", field = f, size = "a->" .. size }
    elseif flat_struct(api, t) and plan.parent ~= 0 and
        not (nxt and INT_TYPES[nxt.type] and nxt.name ~= "size" and nxt.name ~= "flags") then
      local s = flat_struct(api, t)
      field(s.cname, f)
      plan.call[#plan.call + 1] = "&a->" .. f
      plan.outs[#plan.outs + 1] = { kind = "struct", field = f, struct = s }
      if nxt and nxt.type == "size_t" and nxt.name == "size" then
        plan.call[#plan.call + 1] = "sizeof a->" .. f
        used[i + 1] = true
      end
    else
      return nil, ("argument %s has type '%s'"):format(a.name, t)
    end
  end

  -- The result.
  local rt = fn.ret.type
  if plan.ret_list then
    if rt ~= "int" then return nil, "list with a '" .. rt .. "' result" end
    plan.ret = { kind = "count", ctype = "int" }
  elseif rt == "int" then
    local k = int_kind(fn)
    if not k then return nil, "cannot tell what its int result means" end
    if #plan.outs > 0 and k ~= "status" then
      if fn.name:find("GetBlockJobInfo") or fn.name:find("PinInfo") then
        return nil, "result and output arguments both carry data"
      end
    end
    plan.ret = { kind = k, ctype = "int" }
  elseif rt == "char *" then
    plan.ret = { kind = "string_free", ctype = "char *" }
  elseif rt == "const char *" then
    plan.ret = { kind = "string", ctype = "const char *" }
  elseif rt == "unsigned char *" then
    return nil, "binary result with a size argument"
  elseif INT_TYPES[rt] then
    plan.ret = { kind = "u_" .. INT_TYPES[rt], ctype = rt }
  elseif objclass(rt) then
    local c = objclass(rt)
    if not ctx.defined[c.sym] then
      return nil, "class " .. c.class .. " has no C file yet (" .. c.sym .. ")"
    end
    if fn.name:find("GetConnect$") or fn.name:find("GetDomain$") or fn.name:find("GetNetwork$") then
      plan.ret = { kind = "parent", ctype = rt, cls = c }
    else
      if plan.parent == 0 then return nil, "object result without an object argument" end
      plan.ret = { kind = "object", ctype = rt, cls = c }
    end
  elseif rt == "void" then
    return nil, "no result to report"
  else
    return nil, "result type '" .. rt .. "'"
  end
  return plan
end

return M
