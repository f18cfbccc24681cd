-- constants.lua: place every libvirt constant on its Lua class (rules in
-- constants.txt).  Shared by gen.lua and spec/coverage_spec.lua.
-- SPDX-License-Identifier: LGPL-2.1-or-later

local M = {}

function M.load_rules(path)
  local rules = { name = {}, type = {}, prefix = {}, alias = {} }
  local n = 0
  for line in io.lines(path) do
    n = n + 1
    line = line:gsub("#.*", "")
    local w = {}
    for t in line:gmatch("%S+") do w[#w + 1] = t end
    local kind = w[1]
    local function bad() error(path .. ":" .. n .. ": cannot read rule '" .. line .. "'") end
    if kind == nil then
      -- blank
    elseif kind == "name" or kind == "alias" then
      if #w ~= 4 then bad() end
      local list = rules[kind][w[2]] or {}
      list[#list + 1] = { class = w[3], lua = w[4] }
      rules[kind][w[2]] = list
    elseif kind == "type" then
      if #w ~= 5 then bad() end
      rules.type[w[2]] = { class = w[3], from = w[4], to = w[5] == "-" and "" or w[5] }
    elseif kind == "prefix" then
      if #w ~= 4 then bad() end
      rules.prefix[#rules.prefix + 1] = { from = w[2], class = w[3], to = w[4] == "-" and "" or w[4] }
    else
      bad()
    end
  end
  table.sort(rules.prefix, function(a, b) return #a.from > #b.from end)
  return rules
end

-- The primary placement of a C constant: class, lua name.
function M.place(rules, cname, ctype)
  local exact = rules.name[cname]
  if exact then return exact[1].class, exact[1].lua end
  local t = ctype and rules.type[ctype]
  if t and cname:sub(1, #t.from) == t.from then
    return t.class, t.to .. cname:sub(#t.from + 1)
  end
  for _, p in ipairs(rules.prefix) do
    if cname:sub(1, #p.from) == p.from then
      return p.class, p.to .. cname:sub(#p.from + 1)
    end
  end
  return nil
end

-- All constants of an api (api.lua) as a list of
-- { class=, lua=, cname=, value= (integer or string), kind="int"|"string" },
-- sorted by class and name; raises on a constant no rule places or on two
-- C names that claim the same Lua name with different values.
function M.all(api, rules)
  local out, seen, problems = {}, {}, {}
  local function add(class, lua, cname, value, kind)
    local key = class .. "." .. lua
    local prev = seen[key]
    if prev then
      if prev.value ~= value then
        problems[#problems + 1] = key .. " is both " .. prev.cname .. " (" .. tostring(prev.value) ..
          ") and " .. cname .. " (" .. tostring(value) .. ")"
      end
      return
    end
    local c = { class = class, lua = lua, cname = cname, value = value, kind = kind }
    seen[key] = c
    out[#out + 1] = c
  end
  local function one(cname, ctype, value, kind)
    local class, lua = M.place(rules, cname, ctype)
    if not class then
      problems[#problems + 1] = cname .. " matches no rule in constants.txt"
      return
    end
    add(class, lua, cname, value, kind)
    for _, a in ipairs(rules.alias[cname] or {}) do add(a.class, a.lua, cname, value, kind) end
  end
  for _, e in ipairs(api.enums) do one(e.name, e.type, e.value, "int") end
  for _, m in ipairs(api.numeric_macros) do one(m.name, nil, m.value, "int") end
  for _, m in ipairs(api.strings) do one(m.name, nil, m.value, "string") end
  if #problems > 0 then
    error("constants: " .. #problems .. " problem(s):\n  " .. table.concat(problems, "\n  "), 0)
  end
  table.sort(out, function(a, b)
    if a.class ~= b.class then return a.class < b.class end
    return a.lua < b.lua
  end)
  return out
end

return M
