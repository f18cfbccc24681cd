-- luvirt memory.lua URI
--
-- Resident memory with a connection open, while holding every domain of URI
-- as Domain objects, and after dropping them and collecting; twice, so the
-- second cycle shows whether the memory is really given back for reuse.
--
-- Copyright (C) 2026 the luvirt authors
-- SPDX-License-Identifier: LGPL-2.1-or-later
local virt = require "virt"

local uri = arg[1]
if not uri then error("usage: memory.lua URI", 0) end

local function rss_kib()
  for line in io.lines("/proc/self/status") do
    local kib = line:match("^VmRSS:%s+(%d+)")
    if kib then return tonumber(kib) end
  end
  error("no VmRSS in /proc/self/status")
end

local conn = virt.new{ uri = uri }
collectgarbage()
print(("rss_open_kib=%d"):format(rss_kib()))
for cycle = 1, 2 do
  local doms = conn:list_all_domains(0)
  print(("domains=%d"):format(#doms))
  print(("rss_hold%d_kib=%d"):format(cycle, rss_kib()))
  -- The local's slot would keep them alive until the loop ends.
  doms = nil
  collectgarbage()
  collectgarbage()
  print(("rss_drop%d_kib=%d"):format(cycle, rss_kib()))
end
conn:close()
