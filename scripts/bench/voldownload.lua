-- luvirt voldownload.lua URI POOL VOLUME FILE
--
-- Downloads a whole storage volume through a stream into FILE.
--
-- Copyright (C) 2026 the luvirt authors
-- SPDX-License-Identifier: LGPL-2.1-or-later
local virt = require "virt"
local uv = require "luv"

local uri, poolname, volname, path = arg[1], arg[2], arg[3], arg[4]
if not (uri and poolname and volname and path) then
  error("usage: voldownload.lua URI POOL VOLUME FILE", 0)
end

local conn = virt.new{ uri = uri }
local vol = conn:get_storage_pool_by_name(poolname):get_volume_by_name(volname)
local out = assert(io.open(path, "wb"))
out:setvbuf("no")

local written = 0
local t0 = uv.hrtime()
local st = conn:new_stream(0)
vol:download(st, 0, 0, 0)
st:recv_all(function(_, data, nbytes)
  assert(out:write(data))
  written = written + nbytes
  return nbytes
end)
st:finish()
assert(out:close())
local t1 = uv.hrtime()

print(("seconds=%.6f\nbytes=%d"):format((t1 - t0) / 1e9, written))
conn:close()
