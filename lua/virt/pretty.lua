-- virt.pretty: show Lua values the way the REPL prints them.
--
--   local pretty = require "virt.pretty"
--   print(pretty.format({ 1, 2, name = "x", dom = dom }))
--   --> { 1, 2, dom = <Domain test id=1>, name = "x" }
--
-- Tables are indented once they no longer fit on a line; a table met again
-- is labelled (<1>{ ... }) and its later appearances say <cycle 1> (inside
-- itself) or <same 1> (elsewhere); lists longer than max_items end with a
-- count of what was left out; userdata show their __tostring.  Only
-- __tostring is ever called: no __index, __pairs or __len.
-- SPDX-License-Identifier: LGPL-2.1-or-later
local M = {}

M.defaults = {
  max_items = 40,     -- entries shown per table
  max_depth = 8,      -- deeper tables show as {...}
  max_string = 1000,  -- longer strings are cut, with their length
  width = 78,         -- a table fitting in this many columns stays on one line
  indent = "  ",
}

local keywords = {}
for w in ([[and break do else elseif end false for function goto if in
  local nil not or repeat return then true until while]]):gmatch("%a+") do
  keywords[w] = true
end

local function is_identifier(s)
  return type(s) == "string" and s:match("^[%a_][%w_]*$") ~= nil and not keywords[s]
end
M.is_identifier = is_identifier

local escapes = { ["\n"] = "\\n", ["\t"] = "\\t", ["\r"] = "\\r", ["\\"] = "\\\\",
  ['"'] = '\\"', ["\a"] = "\\a", ["\b"] = "\\b", ["\f"] = "\\f", ["\v"] = "\\v" }

local function quote(s, max)
  local n, cut = #s, ""
  if max and n > max then
    s, cut = s:sub(1, max), ("...(%d bytes)"):format(n)
  end
  s = s:gsub('[%c"\\]', function(c)
    return escapes[c] or ("\\%03d"):format(c:byte())
  end)
  return '"' .. s .. '"' .. cut
end

-- A __tostring that fails or returns a non-string must not break printing.
local function meta_tostring(v)
  local ok, s = pcall(tostring, v)
  if ok and type(s) == "string" then return s end
  local mt = debug.getmetatable(v)
  local name = mt and rawget(mt, "__name")
  return ("<%s: __tostring failed>"):format(type(name) == "string" and name or type(v))
end

local function has_tostring(v)
  local mt = debug.getmetatable(v)
  return mt ~= nil and rawget(mt, "__tostring") ~= nil
end

local function scalar(v, o)
  local t = type(v)
  if t == "string" then
    return quote(v, o.max_string)
  elseif t == "number" then
    if v ~= v then return "0/0" end
    if v == math.huge then return "math.huge" end
    if v == -math.huge then return "-math.huge" end
    return tostring(v)
  elseif t == "function" then
    local info = debug.getinfo(v, "S")
    if info.what == "C" then return "<function [C]>" end
    return ("<function %s:%d>"):format(info.short_src, info.linedefined)
  elseif t == "thread" then
    return ("<coroutine %s>"):format(coroutine.status(v))
  elseif t == "userdata" then
    if not has_tostring(v) then
      local mt = debug.getmetatable(v)
      local name = mt and rawget(mt, "__name")
      return ("<%s>"):format(type(name) == "string" and name or "userdata")
    end
    local s = meta_tostring(v)
    return s:sub(1, 1) == "<" and s or "<" .. s .. ">"
  elseif t == "table" then
    return meta_tostring(v)
  end
  return tostring(v)   -- nil, boolean
end

local type_rank = { number = 1, string = 2, boolean = 3 }

local function key_less(a, b)
  local ta, tb = type(a), type(b)
  if ta ~= tb then
    return (type_rank[ta] or 4) < (type_rank[tb] or 4)
  end
  if ta == "number" or ta == "string" then return a < b end
  if ta == "boolean" then return (not a) and b end
  return tostring(a) < tostring(b)
end

-- The entries of t in display order: the list part 1..n first, then the
-- other keys sorted.  Raw: a proxy table shows what it really holds.
local function entries(t)
  local n = 0
  while rawget(t, n + 1) ~= nil do n = n + 1 end
  local rest = {}
  for k in next, t do
    if not (math.type(k) == "integer" and k >= 1 and k <= n) then
      rest[#rest + 1] = k
    end
  end
  table.sort(rest, key_less)
  return n, rest
end

local function shown_as_table(v)
  return type(v) == "table" and not has_tostring(v)
end

-- Walk the tables that will be shown (same limits as render) and count how
-- often each is reached: those reached twice get a label.
local function scan(v, o, depth, count)
  if not shown_as_table(v) then return end
  count[v] = (count[v] or 0) + 1
  if count[v] > 1 or depth >= o.max_depth then return end
  local n, rest = entries(v)
  local shown = 0
  for i = 1, n do
    shown = shown + 1
    if shown > o.max_items then return end
    scan(rawget(v, i), o, depth + 1, count)
  end
  for _, k in ipairs(rest) do
    shown = shown + 1
    if shown > o.max_items then return end
    scan(k, o, depth + 1, count)
    scan(rawget(v, k), o, depth + 1, count)
  end
end

local render

local function render_key(k, o, st, depth)
  if is_identifier(k) then return k end
  return "[" .. render(k, o, st, depth + 1, 0) .. "]"
end

-- col: the column where the value starts (to decide whether it fits).
function render(v, o, st, depth, col)
  if not shown_as_table(v) then
    return scalar(v, o)
  end
  local label = st.labels[v]
  if label then
    return (st.open[v] and "<cycle %d>" or "<same %d>"):format(label)
  end
  local prefix = ""
  if (st.count[v] or 0) > 1 then
    st.next_label = st.next_label + 1
    st.labels[v] = st.next_label
    prefix = ("<%d>"):format(st.next_label)
  end
  if next(v) == nil then return prefix .. "{}" end
  if depth >= o.max_depth then return prefix .. "{...}" end

  st.open[v] = true
  local n, rest = entries(v)
  local total, parts, multiline = n + #rest, {}, false
  local inner = col + #o.indent
  for i = 1, math.min(n, o.max_items) do
    local s = render(rawget(v, i), o, st, depth + 1, inner)
    parts[#parts + 1] = s
    multiline = multiline or s:find("\n", 1, true) ~= nil
  end
  for j = 1, math.min(#rest, o.max_items - #parts) do
    local k = rest[j]
    local ks = render_key(k, o, st, depth)
    local s = ks .. " = " .. render(rawget(v, k), o, st, depth + 1, inner + #ks + 3)
    parts[#parts + 1] = s
    multiline = multiline or s:find("\n", 1, true) ~= nil
  end
  st.open[v] = nil
  if total > #parts then
    parts[#parts + 1] = ("... (%d more)"):format(total - #parts)
  end

  local one = prefix .. "{ " .. table.concat(parts, ", ") .. " }"
  if not multiline and col + #one <= o.width then
    return one
  end
  -- One entry per line, except that short list items share lines.
  local pad = o.indent
  local lines = { prefix .. "{" }
  local fill
  for i, p in ipairs(parts) do
    local short = i <= n and #p < o.width // 3 and not p:find("\n", 1, true)
    if short and fill and #fill + #p + 2 <= o.width then
      fill = fill .. " " .. p .. ","
      lines[#lines] = fill
    else
      lines[#lines + 1] = pad .. p:gsub("\n", "\n" .. pad) .. ","
      fill = short and lines[#lines] or nil
    end
  end
  lines[#lines + 1] = "}"
  return table.concat(lines, "\n")
end

--- pretty.format(v [, opts]) -> string.  opts override M.defaults.
function M.format(v, opts)
  local o = setmetatable({}, { __index = M.defaults })
  if opts then
    for k, x in pairs(opts) do o[k] = x end
  end
  local st = { count = {}, labels = {}, open = {}, next_label = 0 }
  scan(v, o, 0, st.count)
  return (render(v, o, st, 0, 0))
end

--- pretty.print(...): each value formatted, separated by tabs, as print does.
function M.print(...)
  local n = select("#", ...)
  local out = {}
  for i = 1, n do
    out[i] = M.format((select(i, ...)))
  end
  print(table.concat(out, "\t"))
end

return M
