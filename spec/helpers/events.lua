-- What the event specs (spec/unit/events_spec.lua, spec/remote/events_spec.lua)
-- share: wait for deliveries, register a raising callback beside a quiet
-- one, and check Sys::Virt's argument lists.
local virt = require "virt"
local uv = require "luv"
local assert = require "luassert"

local M = {}

function M.wait_for(cond, what, ms)
  local deadline = uv.now() + (ms or 5000)
  while not cond() do
    if uv.now() > deadline then error("timed out waiting for " .. what, 2) end
    virt.sleep(10)
  end
end

-- t = { conn =, other_uri =, family = "network", id =, obj = nil, count =, act = fn }
-- On t.conn a callback (for t.obj, or every object) records its arguments
-- and then raises; on a second connection to t.other_uri one that only
-- counts (libvirt takes one registration per event id, object and
-- connection).  t.act() runs, then t.count deliveries are awaited on both.
-- Checks that every delivery was reported once, with the callback's
-- message and a traceback, and that the quiet callback saw every event.
-- Returns the argument lists (table.pack) and the reports { msg, where }.
function M.exercise(t)
  local conn, family = t.conn, t.family
  local other = virt.new{ uri = t.other_uri }
  local got, errors, also = {}, {}, 0
  virt.set_error_handler(function(msg, where) errors[#errors + 1] = { msg = msg, where = where } end)
  local ok, err = pcall(function()
    local bad = conn[family .. "_event_register_any"](conn, t.obj, t.id, function(...)
      got[#got + 1] = table.pack(...)
      error("deliberate failure #" .. #got)
    end)
    local good = other[family .. "_event_register_any"](other, nil, t.id, function() also = also + 1 end)
    t.act()
    M.wait_for(function() return #got >= t.count and also >= t.count end,
               t.count .. " " .. family .. " events")
    virt.sleep(50)   -- nothing more should come
    conn[family .. "_event_deregister_any"](conn, bad)
    other[family .. "_event_deregister_any"](other, good)
  end)
  virt.set_error_handler(nil)
  other:close()
  assert(ok, err)
  assert.equals(t.count, #got)
  assert.equals(#got, #errors)
  for i, e in ipairs(errors) do
    assert.matches("deliberate failure #" .. i, e.msg, 1, true)
    assert.matches("stack traceback", e.msg, 1, true)
  end
  return got, errors
end

-- Every argument list is fn(conn, obj, ...) with n values in all (nil
-- counted), obj a virt.<label> named name (its connection conn, where the
-- class can say), and when given, event numbers and their details (0
-- unless details are given).
function M.check_args(got, conn, n, label, name, events, details)
  for i, args in ipairs(got) do
    assert.equals(n, args.n)
    assert.is_true(rawequal(conn, args[1]))
    assert.equals("virt." .. label, getmetatable(args[2]).__name)
    assert.equals(name, args[2]:get_name())
    if args[2].get_connection then assert.equals(conn, args[2]:get_connection()) end
    if events then
      assert.equals(events[i], args[3])
      assert.equals(details and details[i] or 0, args[4])
    end
  end
end

-- Every report came from where.
function M.check_where(errors, where)
  for _, e in ipairs(errors) do assert.equals(where, e.where) end
end

return M
