-- virt.stream: the Lua half of virt.Stream (host/stream.c has the C half).
--
-- File-like use inside tasks:
--   st:read([max])      -> data, or nil at the end of the stream
--   st:write(data)      -> st; waits while a NONBLOCK stream is full
--   st:copy_to(dst [, opts]) / st:copy_from(src [, opts]) -> bytes
-- and Sys::Virt's whole-transfer methods with its handler contracts:
--   recv_all, send_all, sparse_recv_all, sparse_send_all.
-- Every wait suspends only the calling task; outside tasks the calls block
-- (running the loop), as Sys::Virt's do.
-- SPDX-License-Identifier: LGPL-2.1-or-later
local core = require "virt.core"

local S = core.Stream
local file_op, fileno = S._file, S._fileno
local READABLE, WRITABLE = S.EVENT_READABLE, S.EVENT_WRITABLE
local STOP_AT_HOLE = S.RECV_STOP_AT_HOLE
local in_task, spawn = core.in_task, core.spawn
local suspend, wake, current = core._suspend, core._wake, core.current_task
local tointeger = math.tointeger

-- Bulk transfers read 4 MiB at a time, more while the client holds more.
-- A blocking stream can be read only once per event (a second recv could
-- wait on the socket), and libvirt's client queues whatever the daemon
-- sends meanwhile, without limit: with fixed 1 MiB reads a fast daemon
-- sometimes stayed ahead (190 of 4000 reads came back full) and the process
-- grew to 180-200 MB over a 1 GiB download, against 22 MB otherwise.  A read
-- that comes back full doubles the next one (up to 32 MiB), so each event
-- drains what has piled up.  Writes go out in slices of CHUNK (libvirt
-- refuses messages over 32 MiB).
local CHUNK = 4 * 1024 * 1024
local MAX_BULK = 32 * 1024 * 1024
-- An upload has no such backlog (a send returns once it is written), so
-- copy_from reads the file 1 MiB at a time: less memory in flight.
local SEND_CHUNK = 1024 * 1024
local DEFAULT_READ = 65536

local M = { chunk = CHUNK }

local function fail(fmt, ...)
  error(fmt:format(...), 0)
end

-- recv that waits on a NONBLOCK stream too: rv, data (rv > 0, 0 at the
-- end, -3 at a hole when asked to stop there).
local function recv_wait(st, max, flags)
  while true do
    local rv, data = st:recv(max, flags)
    if rv ~= -2 then return rv, data end
    st:_wait(READABLE)
  end
end

-- The size of the next bulk read after one of size that brought rv bytes.
local function grow(size, rv)
  if rv == size and size < MAX_BULK then return size * 2 end
  if rv < size // 4 and size > CHUNK then return size // 2 end
  return size
end

-- A reader for recv_all and sparse_recv_all: rv, data as recv_wait, data
-- at most 256 KiB (one RPC message, what virStreamRecvAll's handler gets).
-- The receives are sized as above, into a buffer kept on the stream that
-- _recv_bulk hands out a slice at a time: no string as big as the read.
local function bulk_reader(st, flags)
  local size = CHUNK
  return function()
    while true do
      local rv, data, got = st:_recv_bulk(size, flags)
      if got and got > 0 then size = grow(size, got) end
      if rv ~= -2 then return rv, data end
      st:_wait(READABLE)
    end
  end
end

--- st:read([max]) -> up to max bytes (default 64 KiB), nil at the end.
function S.read(st, max)
  local rv, data = recv_wait(st, max or DEFAULT_READ)
  if rv == 0 then return nil end
  return data
end

--- st:write(data) -> st, once all of data is sent.
function S.write(st, data)
  if type(data) ~= "string" then
    error(("bad argument #1 to 'write' (string expected, got %s)"):format(type(data)), 2)
  end
  local n, off = #data, 0
  while off < n do
    local rv = st:send((off == 0 and n <= CHUNK) and data or data:sub(off + 1, off + CHUNK))
    if rv == -2 then
      st:_wait(WRITABLE)
    else
      off = off + rv
    end
  end
  return st
end

-- A handler returned something other than what its contract allows.
local function count_of(v, what, limit)
  local n = tointeger(v)
  if n == nil then fail("%s must return a byte count, got %s", what, tostring(v)) end
  if n < 0 then fail("%s reported failure (%d)", what, n) end
  if n > limit then fail("%s returned %d, more than the %d bytes it was given", what, n, limit) end
  return n
end

-- Hand data to handler(st, data, nbytes) until it has taken all of it,
-- honouring the count it returns (nil: all of it).
local function consume(st, handler, data)
  local n, off = #data, 0
  while off < n do
    local left = n - off
    local done = handler(st, off == 0 and data or data:sub(off + 1), left)
    done = done == nil and left or count_of(done, "the recv_all handler", left)
    if done == 0 and in_task() then coroutine.yield() end  -- let the others run
    off = off + done
  end
end

-- What a send_all handler gave for a request of max bytes: data to send, or
-- nil at the end.  It returns data [, n]: n bytes of data (all by default).
local function produced(max, data, n)
  if data == nil or data == "" then return nil end
  if type(data) ~= "string" then
    fail("the send_all handler must return a string, got %s", type(data))
  end
  if n ~= nil then
    n = count_of(n, "the send_all handler", #data)
    if n == 0 then return nil end
    if n < #data then data = data:sub(1, n) end
  end
  if #data > max then
    fail("the send_all handler returned %d bytes, more than the %d asked for", #data, max)
  end
  return data
end

-- Run body; on failure abort the stream (as libvirt's *All functions do)
-- and raise the failure.
local function transfer(st, body, ...)
  local r = table.pack(pcall(body, ...))
  if not r[1] then
    pcall(st.abort, st)
    error(r[2], 0)
  end
  return table.unpack(r, 2, r.n)
end

local function check_fn(f, n, name)
  if type(f) ~= "function" then
    error(("bad argument #%d to '%s' (function expected, got %s)"):format(n, name, type(f)), 3)
  end
end

--- st:recv_all(handler): handler(st, data, nbytes) -> bytes it consumed.
function S.recv_all(st, handler)
  check_fn(handler, 1, "recv_all")
  transfer(st, function()
    local read = bulk_reader(st, 0)
    while true do
      local rv, data = read()
      if rv == 0 then return end
      consume(st, handler, data)
    end
  end)
end

--- st:send_all(handler): handler(st, nbytes) -> data [, n], nil/"" at the end.
function S.send_all(st, handler)
  check_fn(handler, 1, "send_all")
  transfer(st, function()
    while true do
      local data = produced(CHUNK, handler(st, CHUNK))
      if not data then return end
      st:write(data)
    end
  end)
end

--- st:sparse_recv_all(handler, hole_handler): data as recv_all; each hole
-- as hole_handler(st, length) -> >= 0 (nil is fine), < 0 on failure.
function S.sparse_recv_all(st, handler, hole_handler)
  check_fn(handler, 1, "sparse_recv_all")
  check_fn(hole_handler, 2, "sparse_recv_all")
  transfer(st, function()
    local read = bulk_reader(st, STOP_AT_HOLE)
    while true do
      local rv, data = read()
      if rv == 0 then return end
      if rv == -3 then
        local r = hole_handler(st, st:recv_hole(0))
        if r ~= nil then count_of(r, "the hole handler", math.maxinteger) end
      else
        consume(st, handler, data)
      end
    end
  end)
end

--- st:sparse_send_all(handler, hole_handler, skip_handler):
-- hole_handler(st) -> in_data, section_length (of what is under the
-- source's cursor; 0 at the end); skip_handler(st, length) moves the cursor
-- past a hole; handler as in send_all.  libvirt's virStreamSparseSendAll.
function S.sparse_send_all(st, handler, hole_handler, skip_handler)
  check_fn(handler, 1, "sparse_send_all")
  check_fn(hole_handler, 2, "sparse_send_all")
  check_fn(skip_handler, 3, "sparse_send_all")
  transfer(st, function()
    local data_left = 0
    while true do
      if data_left == 0 then
        local in_data, len = hole_handler(st)
        len = count_of(len or 0, "the hole handler's section length", math.maxinteger)
        if not in_data or in_data == 0 then
          if len == 0 then return end
          st:send_hole(len, 0)
          local r = skip_handler(st, len)
          if r ~= nil and (tointeger(r) or -1) < 0 then
            fail("the skip handler reported failure (%s)", tostring(r))
          end
        else
          data_left = len
        end
      end
      if data_left > 0 then
        local want = math.min(CHUNK, data_left)
        local data = produced(want, handler(st, want))
        if not data then return end
        st:write(data)
        data_left = data_left - #data
      end
    end
  end)
end

-- ------------------------------------------------------------ whole files

local function fail_file(what, name, msg)
  error(core.Error.new{ code = core.Error.ERR_SYSTEM_ERROR or 38,
    message = ("cannot %s %s: %s"):format(what, name, msg) }, 0)
end

local function fcall(what, name, ...)
  local r, msg = file_op(...)
  if r == nil and msg ~= nil then fail_file(what, name, msg) end
  return r, msg
end

-- A path (opened and closed here) or a Lua file handle (used from its
-- current position, left after what was transferred).
local function open_target(x, mode, argn, fname)
  if type(x) == "string" then
    return { fd = fcall("open", x, "open", x, mode), name = x, own = true }
  elseif io.type(x) == "file" then
    local pos = x:seek("cur")              -- flushes buffered output
    return { fd = fileno(x), name = tostring(x), file = x, pos = pos }
  end
  error(("bad argument #%d to '%s' (path or file expected, got %s)"):format(argn, fname, type(x)), 3)
end

local function close_target(t, moved)
  if t.own then
    file_op("close", t.fd)
  elseif t.file and t.pos then
    t.file:seek("set", t.pos + moved)
  end
end

local function check_opts(opts, fname)
  if opts == nil then return {} end
  if type(opts) ~= "table" then
    error(("bad argument #2 to '%s' (table expected, got %s)"):format(fname, type(opts)), 3)
  end
  if opts.progress ~= nil and type(opts.progress) ~= "function" then
    error(("bad argument #2 to '%s' (progress must be a function)"):format(fname), 3)
  end
  return opts
end

-- A one-producer one-consumer queue between two tasks.
local Chan = {}
Chan.__index = Chan

local function chan(cap)
  return setmetatable({ items = {}, first = 1, last = 0, cap = cap }, Chan)
end

local function wake_one(ch, who)
  local t = ch[who]
  if t then
    ch[who] = nil
    wake(t)
  end
end

function Chan:put(v)
  while self.last - self.first + 1 >= self.cap and not self.closed do
    self.putter = current()
    suspend()
  end
  if self.closed then return false end
  self.last = self.last + 1
  self.items[self.last] = v
  wake_one(self, "getter")
  return true
end

function Chan:get()
  while self.last < self.first and not self.closed do
    self.getter = current()
    suspend()
  end
  if self.last < self.first then return nil end
  local v = self.items[self.first]
  self.items[self.first] = nil
  self.first = self.first + 1
  wake_one(self, "putter")
  return v
end

-- No more puts; with drop, the items not yet taken are discarded.
function Chan:close(drop)
  self.closed = true
  if drop then self.items, self.first, self.last = {}, 1, 0 end
  wake_one(self, "getter")
  wake_one(self, "putter")
end

-- Run produce() (the calling task) and consume(item) (another task) at
-- once, DEPTH items apart, so that disk and stream I/O (each on a worker)
-- overlap.  produce returns nil at the end.  The first failure of either
-- side stops both and is raised; stop() runs when the consumer fails, to
-- wake a producer waiting on the stream.  Outside tasks: one after the other.
local DEPTH = 2
local function pipeline(produce, consume, stop)
  if not in_task() then
    for item in produce do consume(item) end
    return
  end
  local ch, failure = chan(DEPTH), nil
  local consumer = spawn(function()
    for item in function() return ch:get() end do
      local ok, err = pcall(consume, item)
      if not ok then
        failure = failure or { err }
        ch:close(true)
        stop()
        return
      end
    end
  end)
  local ok, err = pcall(function()
    for item in produce do
      if not ch:put(item) then return end
    end
  end)
  if not ok then failure = failure or { err } end
  ch:close(not ok)
  consumer:wait()
  if failure then error(failure[1], 0) end
end

--- st:copy_to(dst [, opts]) -> bytes: receive the whole stream into dst (a
-- path or a file), then finish the stream.  opts: progress(done, total)
-- after each chunk is written, total (passed to progress), sparse (keep the
-- holes of a sparse stream as holes: the file is seeked over them), finish
-- = false to leave the stream open.  On failure the stream is aborted.
--
-- libvirt's client takes a stream's data off the socket whenever the loop
-- runs and queues it without limit; the daemon only slows down while the
-- loop does not run.  So the file is written on the loop thread, between
-- two reads (by _recv_to, straight from the receive buffer), as a C program
-- with virStreamRecvAll does: with the writes on
-- a worker, a slow write let up to 450 MB pile up over a 1 GiB download
-- (8 runs: 22 MB peak every time written here).  For the same reason a
-- path is not truncated when it is opened (a cached 1 GiB file takes
-- 0.25 s) but when the data has ended.
function S.copy_to(st, dst, opts)
  opts = check_opts(opts, "copy_to")
  local t = open_target(dst, "w", 1, "copy_to")
  local flags = opts.sparse and STOP_AT_HOLE or 0
  local progress, total, done = opts.progress, opts.total, 0
  local ok, err = pcall(function()
    local hole, size = false, CHUNK
    while true do
      -- received and written in C: no Lua string on the way
      local rv, msg = st:_recv_to(t.fd, size, flags)
      if rv == nil then fail_file("write", t.name, msg) end
      if rv == 0 then break end
      if rv == -2 then
        st:_wait(READABLE)
      elseif rv == -3 then
        local len = st:recv_hole(0)
        fcall("skip a hole in", t.name, "skip", t.fd, len)
        done, hole = done + len, true
      else
        done, hole = done + rv, false
        size = grow(size, rv)
      end
      if progress and rv ~= -2 then progress(done, total) end
    end
    if t.own then
      fcall("truncate", t.name, "truncate", t.fd)
    elseif hole then
      fcall("extend", t.name, "extend", t.fd)
    end
    if opts.finish ~= false then st:finish() end
  end)
  close_target(t, done)
  if not ok then
    pcall(st.abort, st)
    error(err, 0)
  end
  return done
end

--- st:copy_from(src [, opts]) -> bytes: send src (a path or a file) from
-- its current position, then finish the stream.  opts: progress(done,
-- total), total (default: what is left of the file), length (send at most
-- this many bytes), sparse (send the file's holes as holes; the stream must
-- have been opened for a sparse upload), finish = false.
function S.copy_from(st, src, opts)
  opts = check_opts(opts, "copy_from")
  local t = open_target(src, "r", 1, "copy_from")
  local progress, total, done = opts.progress, opts.total, 0
  local left = opts.length and opts.length > 0 and opts.length or math.huge
  local data_left = 0   -- of the data section being read (sparse)
  local function produce()
    if left <= 0 then return nil end
    if opts.sparse and data_left == 0 then
      local in_data, len = fcall("inspect", t.name, "section", t.fd)
      len = math.min(len, left)
      if len == 0 then return nil end
      if not in_data then
        fcall("seek in", t.name, "seek", t.fd, len, "cur")
        left = left - len
        return len
      end
      data_left = len
    end
    local want = math.min(SEND_CHUNK, left, opts.sparse and data_left or math.huge)
    local data = fcall("read", t.name, "read", t.fd, want)
    if not data then return nil end
    left = left - #data
    if opts.sparse then data_left = data_left - #data end
    return data
  end
  local ok, err = pcall(function()
    if total == nil and progress then
      total = math.min(fcall("measure", t.name, "size", t.fd) - (t.pos or 0), left)
    end
    pipeline(produce, function(item)
      if type(item) == "number" then
        st:send_hole(item, 0)
        done = done + item
      else
        st:write(item)
        done = done + #item
      end
      if progress then progress(done, total) end
    end, function() pcall(st.abort, st) end)
    if opts.finish ~= false then st:finish() end
  end)
  close_target(t, done)
  if not ok then
    pcall(st.abort, st)
    error(err, 0)
  end
  return done
end

return M
