-- virt.Stream on the in-process test driver, whose only stream is the
-- screenshot (a 33,443-byte PNG read from a file): reading it every way,
-- the handler contracts of the *_all methods, and bad input.
local virt = require "virt"
local S = virt.Stream

local PNG_FILE = "/usr/share/libvirt/test-screenshot.png"

local function slurp(path)
  local f = assert(io.open(path, "rb"), path .. " is missing (package libvirt-daemon ships it)")
  local s = f:read("a")
  f:close()
  return s
end

describe("virt.Stream (test driver)", function()
  local conn, dom, png

  setup(function()
    png = slurp(PNG_FILE)
    assert.equals(33443, #png)
  end)

  before_each(function()
    conn = virt.new{ uri = "test:///default" }
    dom = conn:get_domain_by_name("test")
  end)

  after_each(function()
    conn:close()
  end)

  local function screenshot(flags)
    local st = conn:new_stream(flags or 0)
    assert.equals("image/png", dom:screenshot(st, 0, 0))
    return st
  end

  it("has Sys::Virt's constants with libvirt's values", function()
    assert.equals(1, S.NONBLOCK)
    assert.equals(1, S.EVENT_READABLE)
    assert.equals(2, S.EVENT_WRITABLE)
    assert.equals(4, S.EVENT_ERROR)
    assert.equals(8, S.EVENT_HANGUP)
    assert.equals(1, S.RECV_STOP_AT_HOLE)
  end)

  it("is made by conn:new_stream and by Stream.new(conn, flags)", function()
    local a, b = conn:new_stream(), S.new(conn, S.NONBLOCK)
    assert.is_false(a:is_nonblocking())
    assert.is_true(b:is_nonblocking())
    assert.equals("open", a:get_state())
    assert.equals(conn, a:get_connection())
    assert.matches("^<Stream 0x%x+ open nonblocking>$", tostring(b))
    a:free()
    assert.equals("freed", a:get_state())
    assert.equals("<Stream (freed)>", tostring(a))
    assert.has_error(function() a:recv(10) end, "attempt to use a freed Stream")
  end)

  it("reads the screenshot with recv on a blocking stream inside a task", function()
    -- a task of its own: under plain lua5.4 (make check-lua) specs are no task
    virt.spawn(function()
      assert.is_true(virt.in_task())
      local st = screenshot()
      local parts = {}
      while true do
        local n, data = st:recv(4096)
        assert.equals(n > 0 and n or 0, #data)
        if n == 0 then break end
        parts[#parts + 1] = data
      end
      st:finish()
      assert.equals(png, table.concat(parts))
      assert.equals("finished", st:get_state())
    end):wait()
  end)

  it("reads it with read() until nil, binary-safe", function()
    local st = screenshot()
    local parts = {}
    for data in function() return st:read(1000) end do parts[#parts + 1] = data end
    st:finish()
    local got = table.concat(parts)
    assert.equals(png, got)
    assert.truthy(got:find("\0", 1, true))   -- embedded NULs made it through
  end)

  it("reads it through add_callback on a NONBLOCK stream, recv answering -2 when empty", function()
    local st = screenshot(S.NONBLOCK)
    local parts, calls, saw_eagain = {}, 0, false
    local done = virt.event()
    st:add_callback(S.EVENT_READABLE, function(s, events)
      calls = calls + 1
      assert.equals(st, s)
      assert.is_true(events & S.EVENT_READABLE ~= 0)
      while true do
        local n, data = s:recv(8192)
        if n == -2 then saw_eagain = true return end
        if n == 0 then
          s:remove_callback()
          done:set(table.concat(parts))
          return
        end
        parts[#parts + 1] = data
      end
    end)
    assert.equals(png, done:wait())
    st:finish()
    assert.is_true(calls >= 1)
    assert.is_true(saw_eagain or calls == 1)
  end)

  it("copies it to a file with copy_to, reporting progress", function()
    local path = os.tmpname()
    local st = screenshot(S.NONBLOCK)
    local last = 0
    local n = st:copy_to(path, { progress = function(done, total)
      assert.is_true(done > last)
      assert.equals(99, total)
      last = done
    end, total = 99 })
    assert.equals(33443, n)
    assert.equals(33443, last)
    assert.equals("finished", st:get_state())
    assert.equals(png, slurp(path))
    os.remove(path)
  end)

  it("replaces a longer file copy_to writes over", function()
    local path = os.tmpname()
    local f = assert(io.open(path, "wb"))
    f:write(("junk"):rep(50000))
    f:close()
    assert.equals(33443, screenshot():copy_to(path))
    assert.equals(png, slurp(path))
    os.remove(path)
  end)

  it("copies it into an open file from its current position", function()
    local path = os.tmpname()
    local f = assert(io.open(path, "wb"))
    f:write("head:")
    assert.equals(33443, screenshot():copy_to(f))
    f:write(":tail")
    f:close()
    assert.equals("head:" .. png .. ":tail", slurp(path))
    os.remove(path)
  end)

  it("calls the recv_all handler until it has taken every byte it was given", function()
    local st = screenshot()
    local got, calls = {}, 0
    st:recv_all(function(s, data, nbytes)
      assert.equals(st, s)
      assert.equals(#data, nbytes)
      calls = calls + 1
      -- take at most 1000 bytes at a time: the rest comes back
      local take = math.min(nbytes, 1000)
      got[#got + 1] = data:sub(1, take)
      return take
    end)
    st:finish()
    assert.equals(png, table.concat(got))
    assert.is_true(calls >= 34)
  end)

  it("takes a nil from the recv_all handler as 'all of it'", function()
    local st = screenshot()
    local got = {}
    st:recv_all(function(_, data) got[#got + 1] = data end)
    st:finish()
    assert.equals(png, table.concat(got))
  end)

  it("passes on the driver's refusal of sparse_recv_all (no virStreamRecvFlags here)", function()
    local st = screenshot(S.NONBLOCK)
    local ok, err = pcall(st.sparse_recv_all, st, function() end, function() end)
    assert.is_false(ok)
    assert.is_true(virt.Error.is(err))
    assert.equals(virt.Error.ERR_NO_SUPPORT, err.code)
    assert.equals("aborted", st:get_state())
  end)

  describe("refuses bad handlers cleanly and aborts the stream", function()
    it("a recv_all handler that raises", function()
      local st = screenshot()
      local ok, err = pcall(st.recv_all, st, function() error("handler boom", 0) end)
      assert.is_false(ok)
      assert.equals("handler boom", err)
      assert.equals("aborted", st:get_state())
    end)

    it("a recv_all handler that claims more bytes than it was given", function()
      local st = screenshot()
      local ok, err = pcall(st.recv_all, st, function(_, _, n) return n + 1 end)
      assert.is_false(ok)
      assert.matches("more than the %d+ bytes it was given", err)
      assert.equals("aborted", st:get_state())
    end)

    it("a recv_all handler that reports failure or returns garbage", function()
      local st = screenshot()
      assert.has_error(function() st:recv_all(function() return -1 end) end,
        "the recv_all handler reported failure (-1)")
      st = screenshot()
      assert.has_error(function() st:recv_all(function() return "lots" end) end,
        "the recv_all handler must return a byte count, got lots")
    end)

    it("a send_all handler that returns more than it was asked for", function()
      local st = conn:new_stream()
      local ok, err = pcall(st.send_all, st, function(_, n) return ("x"):rep(n + 1) end)
      assert.is_false(ok)
      assert.matches("more than the %d+ asked for", err)
      assert.equals("aborted", st:get_state())
    end)

    it("a send_all handler whose count exceeds its data, or which returns a table", function()
      local st = conn:new_stream()
      assert.has_error(function() st:send_all(function() return "abc", 4 end) end,
        "the send_all handler returned 4, more than the 3 bytes it was given")
      st = conn:new_stream()
      assert.has_error(function() st:send_all(function() return {} end) end,
        "the send_all handler must return a string, got table")
    end)

    it("a sparse_send_all skip handler that fails", function()
      local st = conn:new_stream()
      local ok, err = pcall(st.sparse_send_all, st, function() return "" end,
        function() return false, 10 end, function() return -1 end)
      assert.is_false(ok)
      -- the hole cannot be sent on a stream no API opened: libvirt says so
      assert.truthy(virt.Error.is(err) or tostring(err):find("skip handler"))
      assert.equals("aborted", st:get_state())
    end)

    it("handlers that are not functions", function()
      local st = conn:new_stream()
      assert.has_error(function() st:recv_all(42) end,
        "bad argument #1 to 'recv_all' (function expected, got number)")
      assert.has_error(function() st:sparse_send_all(print, print) end,
        "bad argument #3 to 'sparse_send_all' (function expected, got nil)")
    end)
  end)

  describe("bad input is a clean error", function()
    it("recv and send on a finished stream", function()
      local st = screenshot()
      st:copy_to(os.tmpname())   -- finishes it
      local ok, err = pcall(st.recv, st, 10)
      assert.is_false(ok)
      assert.is_true(virt.Error.is(err))
      assert.equals(virt.Error.ERR_OPERATION_INVALID, err.code)
      assert.equals("the stream is finished", err.message)
      assert.has_error(function() st:send("x") end)
      assert.has_error(function() st:finish() end)
      st:abort()   -- harmless once closed
    end)

    it("send, read and waits on an aborted stream", function()
      local st = screenshot()
      st:abort()
      assert.equals("aborted", st:get_state())
      for _, f in ipairs{ function() st:send("x") end, function() st:read() end,
                          function() st:write("x") end, function() st:_wait(S.EVENT_READABLE) end,
                          function() st:add_callback(1, print) end } do
        local ok, err = pcall(f)
        assert.is_false(ok)
        assert.equals("the stream is aborted", err.message)
      end
    end)

    it("a stream no API has opened yet", function()
      local st = conn:new_stream()
      local ok, err = pcall(st.recv, st, 10)
      assert.is_false(ok)
      assert.is_true(virt.Error.is(err))
      assert.has_error(function() st:add_callback(S.EVENT_READABLE, print) end)
      -- a failed add_callback leaves no callback behind
      assert.has_error(function() st:remove_callback() end, nil)
    end)

    it("wrong argument types and sizes", function()
      local st = conn:new_stream()
      assert.has_error(function() st:recv(0) end)
      assert.has_error(function() st:recv(1 << 40) end)
      assert.has_error(function() st:recv("x") end)
      assert.has_error(function() st:send() end)
      assert.has_error(function() st:send("abc", 4) end)
      assert.has_error(function() st:send("abc", -1) end)
      assert.has_error(function() st:send_hole(-5) end)
      assert.has_error(function() st:add_callback(99, print) end)
      assert.has_error(function() st:add_callback(1, "nope") end)
      assert.has_error(function() st:copy_to(42) end)
      assert.has_error(function() st:copy_to("/nonexistent/dir/x") end)
      assert.has_error(function() virt.Stream.recv(conn, 10) end)
      assert.has_error(function() dom:screenshot("not a stream") end)
      assert.has_error(function() dom:screenshot(st, -1) end)
      assert.equals(0, st:send(""))   -- nothing to send is no packet at all
    end)

    it("one callback per stream, and update/remove need one", function()
      local st = screenshot(S.NONBLOCK)
      assert.has_error(function() st:update_callback(S.EVENT_READABLE) end)
      assert.has_error(function() st:remove_callback() end)
      st:add_callback(S.EVENT_READABLE, function() end)
      assert.has_error(function() st:add_callback(S.EVENT_READABLE, print) end)
      st:update_callback(0)
      st:remove_callback()
      st:abort()
    end)

    it("a NONBLOCK read outside any task while the loop runs", function()
      local st = screenshot(S.NONBLOCK)
      st:read(1)   -- data is there: no wait needed
      -- a plain coroutine is not a task: waiting there would have to run the
      -- loop inside itself, which is refused
      local co = coroutine.wrap(function()
        local parts = {}
        while true do
          local n, data = st:recv(65536)
          if n == -2 then return pcall(st._wait, st, S.EVENT_READABLE) end
          if n == 0 then return "eof" end
          parts[#parts + 1] = data
        end
      end)
      local ok, err = co()
      if ok ~= "eof" then
        assert.is_false(ok)
        assert.matches("loop", tostring(err))
      end
      st:abort()
    end)
  end)

  it("survives garbage passed to every method, open, finished and freed", function()
    local nop = function() end
    local garbage = {
      {}, { nil }, { -1 }, { 0 }, { math.mininteger }, { math.maxinteger }, { 2.0 ^ 63 }, { 0.5 },
      { "x" }, { ("x"):rep(5000) }, { {} }, { conn }, { nop }, { 1, nop }, { 15, nop },
      { "x", -1, {}, 1.5 }, { 1, "x", conn, 2 }, { nil, nil, nil, nil, -7 }, { nop, nop, nop },
    }
    -- copy_to/copy_from would create files named by the garbage
    local skip = { copy_to = true, copy_from = true, new = true }
    local last = { finish = true, abort = true, free = true }
    local names = {}
    for k, v in pairs(S) do
      if type(v) == "function" and not k:find("^_") and not skip[k] then names[#names + 1] = k end
    end
    table.sort(names, function(a, b)
      if (last[a] or false) ~= (last[b] or false) then return not last[a] end
      return a < b
    end)
    local calls = 0
    for _, st in ipairs{ screenshot(S.NONBLOCK), screenshot(), conn:new_stream() } do
      for _, round in ipairs{ "open", "closed", "freed" } do
        for _, m in ipairs(names) do
          for _, args in ipairs(garbage) do
            local ok, err = pcall(S[m], st, table.unpack(args, 1, 5))
            calls = calls + 1
            if not ok then
              assert(type(err) == "string" or virt.Error.is(err),
                ("%s:%s raised a %s"):format(round, m, type(err)))
            end
          end
          assert.is_false((pcall(S[m], conn)))   -- not a stream
        end
        if round == "open" then st:abort() else st:free() end
      end
    end
    assert.is_true(calls > 2000)
  end)

  it("leaves no watch, timer or job behind", function()
    local before = virt.loop_stats()
    for _ = 1, 5 do
      local st = screenshot(S.NONBLOCK)
      st:add_callback(S.EVENT_READABLE, function() end)
      st:read(10)
      st:abort()
      screenshot():read(10)   -- dropped open: collected and aborted
    end
    collectgarbage()
    collectgarbage()
    -- the collected ones are aborted on workers: give them a moment
    local after
    for _ = 1, 100 do
      virt.sleep(20)
      after = virt.loop_stats()
      if after.jobs == 0 and after.watches == before.watches then break end
    end
    assert.equals(before.watches, after.watches)
    assert.equals(before.timers, after.timers)
    assert.equals(0, after.jobs)
  end)
end)
