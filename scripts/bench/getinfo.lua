-- luvirt getinfo.lua URI DOMAIN COUNT [TASKS [POOL]]
-- luvirt getinfo.lua URI DOMAIN COUNT blocking
--
-- COUNT dom:get_info() calls on one domain.  With TASKS > 1 the calls are
-- shared out among that many tasks on the same connection; POOL sets the
-- size of the worker pool that runs them (default: luvirt's own).
-- "blocking" makes them one after another on a connection opened with
-- blocking=true (calls on the loop thread, as Sys::Virt's).
--
-- Copyright (C) 2026 the luvirt authors
-- SPDX-License-Identifier: LGPL-2.1-or-later
local virt = require "virt"
local uv = require "luv"

local uri, name = arg[1], arg[2]
local blocking = arg[4] == "blocking"
local count, ntasks, pool = tonumber(arg[3]), blocking and 1 or tonumber(arg[4] or "1"), tonumber(arg[5])
if not (uri and name and count and ntasks) then
  error("usage: getinfo.lua URI DOMAIN COUNT [TASKS [POOL] | blocking]", 0)
end
if pool then virt.pool_size(pool) end

local conn = virt.new{ uri = uri, blocking = blocking }
local dom = conn:get_domain_by_name(name)

local function work(calls)
  for _ = 1, calls do dom:get_info() end
end

local t0 = uv.hrtime()
if ntasks == 1 then
  work(count)
else
  local tasks = {}
  for t = 1, ntasks do
    tasks[t] = virt.spawn(work, count // ntasks + (t <= count % ntasks and 1 or 0))
  end
  for _, task in ipairs(tasks) do task:wait() end
end
local t1 = uv.hrtime()

print(("seconds=%.6f\ncalls=%d"):format((t1 - t0) / 1e9, count))
conn:close()
