-- luvirt events.lua drain|live URI DOMAIN COUNT FLIP
--
-- Lifecycle events delivered to a Lua callback, fed by `FLIP URI DOMAIN
-- COUNT` on its own connection (the same program feeds every competitor).
--   drain: hold the loop while FLIP runs, then time the delivery of the
--          queued events: the receiver's capacity.
--   live:  run FLIP alongside; the time from the first to the last event.
--
-- Copyright (C) 2026 the luvirt authors
-- SPDX-License-Identifier: LGPL-2.1-or-later
local virt = require "virt"
local uv = require "luv"

-- Events stop coming: fail rather than hang.
local STALL_NS = 30e9

local mode, uri, name, count, flip = arg[1], arg[2], arg[3], arg[4], arg[5]
local wanted = tonumber(count)
if not ((mode == "drain" or mode == "live") and uri and name and wanted and flip) then
  error("usage: events.lua drain|live URI DOMAIN COUNT FLIP", 0)
end

local function quote(s) return "'" .. s:gsub("'", "'\\''") .. "'" end

local conn = virt.new{ uri = uri }
local n, first, last = 0, 0, 0
local id = conn:domain_event_register_any(nil, virt.Domain.EVENT_ID_LIFECYCLE,
  function()
    local t = uv.hrtime()
    if n == 0 then first = t end
    n = n + 1
    last = t
  end)

local cmd = table.concat({ quote(flip), quote(uri), quote(name), count }, " ")
local t0, proc
if mode == "drain" then
  -- os.execute blocks the loop thread itself: the events queue up.
  assert(os.execute(cmd), "flip failed")
  t0 = uv.hrtime()
else
  proc = assert(io.popen(cmd, "r"))
  t0 = uv.hrtime()
end
-- The callback keeps the time; this task only has to notice the end.
while n < wanted and uv.hrtime() - (n > 0 and last or t0) < STALL_NS do
  virt.sleep(1)
end
if proc then assert(proc:close(), "flip failed") end
if n ~= wanted then error(("received %d of %d events"):format(n, wanted), 0) end

print(("seconds=%.6f\nevents=%d"):format((last - (mode == "drain" and t0 or first)) / 1e9, n))
conn:domain_event_deregister_any(id)
conn:close()
