-- api.lua: libvirt's API description files as Lua tables.
--
-- Shared by gen.lua (build time) and spec/coverage_spec.lua (test time), so
-- the coverage test reads the XML itself instead of trusting the generator.
-- SPDX-License-Identifier: LGPL-2.1-or-later

local xml = require "xml"

local M = {}

local function basename(path)
  return (path:match("([^/]+)$"))
end

-- Enum values may name another enum; macro values may be small constant
-- expressions ("(36+1)", "9007199254740991LL /* ... */").
local function literal(raw)
  local s = raw:gsub("/%*.-%*/", ""):gsub("^%s+", ""):gsub("%s+$", "")
  s = s:gsub("(%d)U?LL?", "%1"):gsub("(%d)U", "%1")
  if s:match("^[%d%s%+%-%*%(%)]+$") and s:match("%d") then
    local f = load("return " .. s, "=macro", "t", {})
    local ok, v = pcall(f)
    if ok and math.type(v) == "integer" then return v end
  end
  return nil, s
end

-- Load the files; returns { files = {path=...}, functions = {name=fn},
-- order = {fn...}, enums = {e...}, enum_by_name = {}, strings = {m...},
-- numeric_macros = {m...}, structs = {}, typedefs = {} }.
function M.load(paths)
  local api = {
    files = {}, functions = {}, order = {}, enums = {}, enum_by_name = {},
    strings = {}, numeric_macros = {}, structs = {}, functypes = {}, typedefs = {},
  }
  local pending_macros = {}
  for _, path in ipairs(paths) do
    local root = xml.parse_file(path)
    local file = { path = path, name = basename(path), lib = root.attr.name, functions = {} }
    api.files[#api.files + 1] = file
    local symbols = xml.child(root, "symbols")
    for _, el in ipairs(symbols and symbols.kids or {}) do
      local a = el.attr
      if el.tag == "function" then
        local ret = xml.child(el, "return")
        local fn = {
          name = a.name, file = file.name, lib = file.lib, header = a.file,
          module = a.module, version = a.version,
          info = xml.child(el, "info") and xml.child(el, "info").text or "",
          ret = { type = ret and ret.attr.type or "void", info = ret and ret.attr.info or "" },
          args = {},
        }
        for _, arg in ipairs(xml.children(el, "arg")) do
          fn.args[#fn.args + 1] = { name = arg.attr.name, type = arg.attr.type, info = arg.attr.info or "" }
        end
        api.functions[fn.name] = fn
        api.order[#api.order + 1] = fn
        file.functions[#file.functions + 1] = fn
      elseif el.tag == "enum" then
        local e = { name = a.name, raw = a.value, type = a.type, file = file.name, info = a.info }
        api.enums[#api.enums + 1] = e
        api.enum_by_name[e.name] = e
      elseif el.tag == "macro" then
        if a.string then
          local info = xml.child(el, "info")
          api.strings[#api.strings + 1] = { name = a.name, value = a.string, file = file.name,
                                            info = info and info.text or "" }
        elseif a.raw and not a.params and a.raw ~= "" then
          pending_macros[#pending_macros + 1] = { name = a.name, raw = a.raw, file = file.name }
        end
      elseif el.tag == "struct" then
        local s = { name = a.name, type = a.type, fields = {} }
        for _, f in ipairs(xml.children(el, "field")) do
          s.fields[#s.fields + 1] = { name = f.attr.name, type = f.attr.type, info = f.attr.info }
        end
        api.structs[a.name] = s
      elseif el.tag == "typedef" then
        api.typedefs[a.name] = a.type
      elseif el.tag == "functype" then
        api.functypes[a.name] = true
      end
    end
  end
  -- Resolve symbolic enum values (aliases of other enums).
  local function resolve(e, depth)
    if e.value then return e.value end
    if depth > 20 then error("api: enum alias loop at " .. e.name) end
    local n = math.tointeger(tonumber(e.raw))
    if n then e.value = n return n end
    local target = api.enum_by_name[e.raw]
    if not target then error("api: enum " .. e.name .. " has value '" .. tostring(e.raw) .. "' I cannot resolve") end
    e.alias = e.raw
    e.value = resolve(target, depth + 1)
    return e.value
  end
  for _, e in ipairs(api.enums) do resolve(e, 0) end
  -- Numeric macros: literals, or a name of a resolved constant.
  local known = {}
  for _, e in ipairs(api.enums) do known[e.name] = e.value end
  for _ = 1, 3 do
    for _, m in ipairs(pending_macros) do
      if not m.value then
        local v, s = literal(m.raw)
        if v then m.value = v
        elseif known[s] then m.value, m.alias = known[s], s end
        if m.value then known[m.name] = m.value end
      end
    end
  end
  for _, m in ipairs(pending_macros) do
    if m.value then api.numeric_macros[#api.numeric_macros + 1] = m end
  end
  table.sort(api.numeric_macros, function(x, y) return x.name < y.name end)
  return api
end

-- The pkg-config names of the four files, for tools that look them up.
M.pkgconfig = {
  { "libvirt", "libvirt_api" }, { "libvirt-qemu", "libvirt_qemu_api" },
  { "libvirt-lxc", "libvirt_lxc_api" }, { "libvirt-admin", "libvirt_admin_api" },
}

return M
