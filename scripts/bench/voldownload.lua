-- luvirt voldownload.lua URI POOL VOLUME FILE [recv_all|copy_to]
--
-- Downloads a whole storage volume through a stream into FILE, with
-- st:recv_all and a handler that writes each chunk (what C's
-- virStreamRecvAll does), or with st:copy_to(FILE), luvirt's own way.
--
-- Copyright (C) 2026 the luvirt authors
-- SPDX-License-Identifier: LGPL-2.1-or-later
local virt = require "virt"
local uv = require "luv"

local uri, poolname, volname, path, how = arg[1], arg[2], arg[3], arg[4], arg[5] or "recv_all"
if not (uri and poolname and volname and path and (how == "recv_all" or how == "copy_to")) then
  error("usage: voldownload.lua URI POOL VOLUME FILE [recv_all|copy_to]", 0)
end

local conn = virt.new{ uri = uri }
local vol = conn:get_storage_pool_by_name(poolname):get_volume_by_name(volname)

local written = 0
local t0 = uv.hrtime()
local st = conn:new_stream(0)
vol:download(st, 0, 0, 0)
if how == "copy_to" then
  written = st:copy_to(path)
else
  local out = assert(io.open(path, "wb"))
  out:setvbuf("no")
  st:recv_all(function(_, data, nbytes)
    assert(out:write(data))
    written = written + nbytes
    return nbytes
  end)
  st:finish()
  assert(out:close())
end
local t1 = uv.hrtime()

print(("seconds=%.6f\nbytes=%d"):format((t1 - t0) / 1e9, written))
conn:close()
