-- luvirt floor.lua FLOOR_SO URI DOMAIN COUNT [table|values]
--
-- COUNT virDomainGetInfo calls through the bare Lua C function of
-- scripts/bench/floor.c (built as FLOOR_SO), each building the same
-- 5-field table as dom:get_info() ("table"), or returning the five numbers
-- ("values"): the floor under any Lua binding that returns a table, on the
-- same Lua as luvirt's.
--
-- Copyright (C) 2026 the luvirt authors
-- SPDX-License-Identifier: LGPL-2.1-or-later
local uv = require "luv"

local so, uri, name, count, how = arg[1], arg[2], arg[3], tonumber(arg[4]), arg[5] or "table"
if not (so and uri and name and count and (how == "table" or how == "values")) then
  error("usage: floor.lua FLOOR_SO URI DOMAIN COUNT [table|values]", 0)
end
local f = assert(package.loadlib(so, "luaopen_benchfloor"))()
local dom = f.open(uri, name)
local call = how == "table" and f.info or f.values

local t0 = uv.hrtime()
for _ = 1, count do call(dom) end
local t1 = uv.hrtime()

print(("seconds=%.6f\ncalls=%d"):format((t1 - t0) / 1e9, count))
