-- luvirt listall.lua URI ROUNDS
--
-- ROUNDS times: conn:list_all_domains() and dom:get_info() on each domain.
-- Only the rounds are timed, not opening URI.
--
-- Copyright (C) 2026 the luvirt authors
-- SPDX-License-Identifier: LGPL-2.1-or-later
local virt = require "virt"
local uv = require "luv"

local uri, rounds = arg[1], tonumber(arg[2])
if not (uri and rounds) then error("usage: listall.lua URI ROUNDS", 0) end

local conn = virt.new{ uri = uri }
local n = 0
local t0 = uv.hrtime()
for _ = 1, rounds do
  local doms = conn:list_all_domains(0)
  for i = 1, #doms do doms[i]:get_info() end
  n = #doms
end
local t1 = uv.hrtime()

print(("seconds=%.6f\ndomains=%d"):format((t1 - t0) / 1e9, n))
conn:close()
