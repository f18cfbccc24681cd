-- xml.lua: just enough XML for libvirt's API descriptions.
--
-- The generator must run with a bare lua5.4 at build time, so it carries its
-- own parser instead of depending on a rock.  It handles what libvirt's
-- apibuild.py writes: elements, attributes in either quote, CDATA, comments,
-- the XML declaration and the five named entities plus numeric ones.
-- SPDX-License-Identifier: LGPL-2.1-or-later

local M = {}

local named = { lt = "<", gt = ">", amp = "&", quot = '"', apos = "'" }

local function unescape(s)
  return (s:gsub("&(#?x?)(%w+);", function(kind, body)
    if kind == "" then
      return named[body] or error("xml: unknown entity &" .. body .. ";")
    end
    local n = kind == "#x" and tonumber(body, 16) or tonumber(body, 10)
    if not n then error("xml: bad character reference &" .. kind .. body .. ";") end
    return utf8.char(n)
  end))
end

local function parse_attrs(s, where, at)
  local attr, pos = {}, 1
  while true do
    local a, name, q, e = s:match("^%s*()([%w_:%-%.]+)%s*=%s*(['\"])()", pos)
    if not a then break end
    local close = s:find(q, e, true)
    if not close then error("xml: unterminated attribute " .. name .. where(at)) end
    attr[name] = unescape(s:sub(e, close - 1))
    pos = close + 1
  end
  if s:find("%S", pos) then error("xml: cannot parse attributes '" .. s:sub(pos) .. "'" .. where(at)) end
  return attr
end

-- Returns the root element: { tag=, attr={}, kids={elements...}, text= }.
function M.parse(src, name)
  name = name or "?"
  local function where(pos)
    local line = select(2, src:sub(1, pos):gsub("\n", "")) + 1
    return " (" .. name .. ":" .. line .. ")"
  end
  local root = { tag = "#document", attr = {}, kids = {}, text = {} }
  local stack, cur, pos = {}, root, 1
  local len = #src
  while pos <= len do
    local lt = src:find("<", pos, true)
    if not lt then
      cur.text[#cur.text + 1] = unescape(src:sub(pos))
      break
    end
    if lt > pos then cur.text[#cur.text + 1] = unescape(src:sub(pos, lt - 1)) end
    if src:sub(lt, lt + 3) == "<!--" then
      local e = src:find("-->", lt + 4, true) or error("xml: unterminated comment" .. where(lt))
      pos = e + 3
    elseif src:sub(lt, lt + 8) == "<![CDATA[" then
      local e = src:find("]]>", lt + 9, true) or error("xml: unterminated CDATA" .. where(lt))
      cur.text[#cur.text + 1] = src:sub(lt + 9, e - 1)
      pos = e + 3
    elseif src:sub(lt, lt + 1) == "<?" then
      local e = src:find("?>", lt + 2, true) or error("xml: unterminated declaration" .. where(lt))
      pos = e + 2
    elseif src:sub(lt, lt + 1) == "<!" then
      local e = src:find(">", lt + 2, true) or error("xml: unterminated declaration" .. where(lt))
      pos = e + 1
    elseif src:sub(lt, lt + 1) == "</" then
      local tag, e = src:match("^</([%w_:%-%.]+)%s*>()", lt)
      if not tag then error("xml: bad end tag" .. where(lt)) end
      if tag ~= cur.tag then
        error("xml: </" .. tag .. "> closes <" .. cur.tag .. ">" .. where(lt))
      end
      cur.text = table.concat(cur.text)
      cur = table.remove(stack)
      pos = e
    else
      -- Attribute values may contain '>' so find the tag end outside quotes.
      local tag, apos = src:match("^<([%w_:%-%.]+)()", lt)
      if not tag then error("xml: bad start tag" .. where(lt)) end
      local i, q = apos, nil
      while true do
        local c = src:sub(i, i)
        if c == "" then error("xml: unterminated tag <" .. tag .. ">" .. where(lt)) end
        if q then
          if c == q then q = nil end
        elseif c == "'" or c == '"' then
          q = c
        elseif c == ">" then
          break
        end
        i = i + 1
      end
      local body = src:sub(apos, i - 1)
      local selfclose = body:sub(-1) == "/"
      if selfclose then body = body:sub(1, -2) end
      local el = { tag = tag, attr = parse_attrs(body, where, lt), kids = {}, text = {} }
      cur.kids[#cur.kids + 1] = el
      if selfclose then
        el.text = ""
      else
        stack[#stack + 1] = cur
        cur = el
      end
      pos = i + 1
    end
  end
  if cur ~= root then error("xml: <" .. cur.tag .. "> is never closed (" .. name .. ")") end
  for _, k in ipairs(root.kids) do return k end
  error("xml: no root element (" .. name .. ")")
end

function M.parse_file(path)
  local f = assert(io.open(path, "rb"))
  local s = f:read("a")
  f:close()
  return M.parse(s, path)
end

-- Children of el with the given tag.
function M.children(el, tag)
  local out = {}
  for _, k in ipairs(el.kids) do
    if k.tag == tag then out[#out + 1] = k end
  end
  return out
end

function M.child(el, tag)
  for _, k in ipairs(el.kids) do
    if k.tag == tag then return k end
  end
end

return M
