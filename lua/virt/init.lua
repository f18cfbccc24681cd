-- virt: the whole libvirt API for Lua 5.4, asynchronous on one libuv loop.
-- The C half (virt.core) binds libvirt; this half adds what is easier to
-- say in Lua: gather, semaphores, and small conveniences.
-- SPDX-License-Identifier: LGPL-2.1-or-later
local core = require "virt.core"

local M = {}
for k, v in pairs(core) do M[k] = v end
require "virt.stream"   -- the Lua half of virt.Stream (read, write, copy_to, recv_all...)

local spawn, suspend, wake, current = core.spawn, core._suspend, core._wake, core.current_task

--- virt.gather(t1, t2, ...) waits for every task (or function, which is
-- spawned) and returns the first result of each, in order.  If any failed,
-- the first failure is raised after all have finished.
function M.gather(...)
  local tasks = table.pack(...)
  for i = 1, tasks.n do
    local t = tasks[i]
    if type(t) == "function" then
      tasks[i] = spawn(t)
    elseif getmetatable(t) == nil or type(t.wait) ~= "function" then
      error(("bad argument #%d to 'gather' (task or function expected)"):format(i), 2)
    end
  end
  local results, failure = {}, nil
  for i = 1, tasks.n do
    local r = table.pack(pcall(tasks[i].wait, tasks[i]))
    if r[1] then
      results[i] = r[2]
    elseif failure == nil then
      failure = { r[2] }
    end
  end
  if failure then error(failure[1], 0) end
  return table.unpack(results, 1, tasks.n)
end

local Semaphore = {}
Semaphore.__index = Semaphore

--- virt.semaphore(n): at most n holders at once; acquire() suspends the
-- calling task while none is free (first come, first served).
function M.semaphore(n)
  n = math.tointeger(n)
  if not n or n < 0 then error("bad argument #1 to 'semaphore' (count >= 0 expected)", 2) end
  return setmetatable({ count = n, waiters = {} }, Semaphore)
end

function Semaphore:acquire()
  if self.count > 0 and #self.waiters == 0 then
    self.count = self.count - 1
    return
  end
  local me = current()
  if not me then error("semaphore:acquire() would block: call it inside a task", 2) end
  self.waiters[#self.waiters + 1] = me
  suspend()
end

function Semaphore:release()
  local t = table.remove(self.waiters, 1)
  if t then
    wake(t)            -- the slot passes straight to the next waiter
  else
    self.count = self.count + 1
  end
end

--- sem:with(fn, ...): acquire, call fn, release even if fn fails.
function Semaphore:with(fn, ...)
  self:acquire()
  local r = table.pack(pcall(fn, ...))
  self:release()
  if not r[1] then error(r[2], 0) end
  return table.unpack(r, 2, r.n)
end

--- virt.event(): a one-shot signal a task can wait for: ev:wait() returns
-- the values given to ev:set(...) (immediately if already set).
local Event = {}
Event.__index = Event
function M.event() return setmetatable({ waiters = {} }, Event) end
function Event:set(...)
  if self.values then return end
  self.values = table.pack(...)
  for _, t in ipairs(self.waiters) do wake(t) end
  self.waiters = {}
end
function Event:is_set() return self.values ~= nil end
function Event:wait()
  if not self.values then
    local me = current()
    if not me then
      -- outside a task: run the loop until it is set
      while not self.values do
        if not core.run("once") and not self.values then
          error("event:wait(): nothing left on the loop can set it", 2)
        end
      end
    else
      self.waiters[#self.waiters + 1] = me
      suspend()
    end
  end
  return table.unpack(self.values, 1, self.values.n)
end

return M
