-- Remote tier: streams through a private libvirtd.  The test driver's
-- screenshot over RPC, and volume transfers through the same daemon's
-- qemu:///system on a dir pool in the session directory: a 256 MiB random
-- volume up and down byte for byte, sparse files that keep their holes,
-- aborts in mid-transfer that leave nothing behind, and 20 transfers at
-- once in tasks.
local virt = require "virt"
local tb = require "spec.helpers.testbed"
local S, V = virt.Stream, virt.StorageVol

local MiB = 1024 * 1024

local function sh(cmd)
  local p = assert(io.popen(cmd .. " 2>&1"))
  local out = p:read("a")
  local ok = p:close()
  if not ok then error("command failed: " .. cmd .. "\n" .. out, 2) end
  return out
end

local function q(s) return "'" .. s:gsub("'", "'\\''") .. "'" end

local function sha256(path)
  return (sh("sha256sum " .. q(path)):match("^(%x+)"))
end

-- Bytes the file really occupies on disk.
local function allocated(path)
  return tonumber((sh("stat -c '%b %B' " .. q(path)):gsub("(%d+) (%d+).*", function(b, bs)
    return tostring(tonumber(b) * tonumber(bs))
  end)))
end

local function size_of(path)
  return tonumber((sh("stat -c %s " .. q(path)):match("%d+")))
end

local function slurp(path)
  local f = assert(io.open(path, "rb"))
  local s = f:read("a")
  f:close()
  return s
end

local function random_file(path, bytes)
  sh(("head -c %d /dev/urandom > %s"):format(bytes, q(path)))
end

-- A sparse file of `size` bytes with 1 MiB of random data at each offset
-- (in MiB) of `at`; everything else is a hole, the end included.
local function sparse_file(path, size, at)
  sh(("rm -f %s && truncate -s %d %s"):format(q(path), size, q(path)))
  for _, mib in ipairs(at) do
    sh(("dd if=/dev/urandom of=%s bs=1M count=1 seek=%d conv=notrunc status=none"):format(q(path), mib))
  end
end

local function vol_xml(name, capacity)
  return ([[<volume><name>%s</name><capacity unit='bytes'>%d</capacity>
    <allocation unit='bytes'>0</allocation><target><format type='raw'/></target></volume>]])
    :format(name, capacity)
end

describe("remote: streams through a private libvirtd", function()
  local d, tconn, conn, pool, dir, work

  setup(function()
    local ok, why = tb.check()
    if not ok then error("remote tier cannot run: " .. why) end
    d = tb.daemon{ tcp = false }
    dir = tb.session_dir() .. "/stream-pool"
    work = tb.session_dir() .. "/stream-work"
    sh("mkdir -p " .. q(dir) .. " " .. q(work))
    tconn = virt.new{ uri = d.test_uri }
    conn = virt.new{ uri = d.qemu_uri }
    pool = conn:create_storage_pool(([[<pool type='dir'><name>streams</name>
      <target><path>%s</path></target></pool>]]):format(dir))
  end)

  teardown(function()
    if pool then pcall(pool.destroy, pool) end
    if conn then pcall(conn.close, conn) end
    if tconn then pcall(tconn.close, tconn) end
    tb.cleanup_all()
  end)

  local function new_volume(name, capacity)
    return pool:create_volume(vol_xml(name, capacity))
  end

  describe("the test driver's screenshot", function()
    local png

    setup(function()
      png = slurp("/usr/share/libvirt/test-screenshot.png")
    end)

    it("arrives whole on a NONBLOCK stream driven by add_callback", function()
      local dom = tconn:get_domain_by_name("test")
      local st = tconn:new_stream(S.NONBLOCK)
      assert.equals("image/png", dom:screenshot(st, 0, 0))
      local parts, done = {}, virt.event()
      st:add_callback(S.EVENT_READABLE | S.EVENT_ERROR | S.EVENT_HANGUP, function(s, ev)
        while true do
          local n, data = s:recv(65536)
          if n == -2 then return end
          if n == 0 then
            s:remove_callback()
            s:finish()
            done:set(table.concat(parts))
            return
          end
          parts[#parts + 1] = data
        end
      end)
      local got = done:wait()
      assert.equals(33443, #got)
      local path = work .. "/shot.png"
      local f = assert(io.open(path, "wb"))
      f:write(got)
      f:close()
      assert.equals(sha256("/usr/share/libvirt/test-screenshot.png"), sha256(path))
      assert.equals(png, got)
    end)

    it("reads the same with read() on a blocking stream in a task, and with recv_all", function()
      local dom = tconn:get_domain_by_name("test")
      local st = tconn:new_stream()
      dom:screenshot(st)
      local parts = {}
      for data in function() return st:read(5000) end do parts[#parts + 1] = data end
      st:finish()
      assert.equals(png, table.concat(parts))
      st = tconn:new_stream()
      dom:screenshot(st)
      parts = {}
      st:recv_all(function(_, data, n) parts[#parts + 1] = data return n end)
      st:finish()
      assert.equals(png, table.concat(parts))
    end)

    it("is read by many tasks at once, each on its own stream", function()
      local dom = tconn:get_domain_by_name("test")
      local tasks = {}
      for i = 1, 20 do
        tasks[i] = virt.spawn(function()
          local st = tconn:new_stream(i % 2 == 0 and S.NONBLOCK or 0)
          dom:screenshot(st)
          local parts = {}
          for data in function() return st:read(1000 + i) end do parts[#parts + 1] = data end
          st:finish()
          return table.concat(parts)
        end)
      end
      for _, got in ipairs{ virt.gather(table.unpack(tasks)) } do
        assert.equals(png, got)
      end
    end)
  end)

  describe("volumes on a dir pool of qemu:///system", function()
    local SIZE = 256 * MiB
    local src, vol

    setup(function()
      src = work .. "/random.raw"
      random_file(src, SIZE)
      vol = new_volume("random.raw", SIZE)
    end)

    it("uploads and downloads 256 MiB of random data byte for byte", function()
      local want = sha256(src)
      local st = conn:new_stream()
      vol:upload(st, 0, 0, 0)
      local calls, last = 0, 0
      assert.equals(SIZE, st:copy_from(src, { progress = function(done, total)
        calls = calls + 1
        assert.equals(SIZE, total)
        assert.is_true(done > last)
        last = done
      end }))
      assert.equals(SIZE, last)
      assert.is_true(calls >= SIZE // require("virt.stream").chunk)
      assert.equals(want, sha256(vol:get_path()))

      local out = work .. "/random.down"
      st = conn:new_stream()
      vol:download(st, 0, 0, 0)
      assert.equals(SIZE, st:copy_to(out))
      assert.equals("finished", st:get_state())
      assert.equals(want, sha256(out))
      os.remove(out)
    end)

    it("honours offset and length, with Sys::Virt's recv_all and send_all", function()
      -- download 3 MiB from offset 5 MiB with recv_all
      local st = conn:new_stream(S.NONBLOCK)
      vol:download(st, 5 * MiB, 3 * MiB, 0)
      local parts = {}
      st:recv_all(function(_, data, n) parts[#parts + 1] = data return n end)
      st:finish()
      local got = table.concat(parts)
      local f = assert(io.open(src, "rb"))
      f:seek("set", 5 * MiB)
      local want = f:read(3 * MiB)
      f:close()
      assert.equals(want, got)

      -- upload them back at offset 7 MiB with send_all, 4000 bytes at a time
      local v2 = new_volume("part.raw", 16 * MiB)
      st = conn:new_stream()
      v2:upload(st, 7 * MiB, 3 * MiB, 0)
      local pos = 1
      st:send_all(function(_, nbytes)
        assert.is_true(nbytes > 0)
        local chunk = got:sub(pos, pos + math.min(nbytes, 4000) - 1)
        pos = pos + #chunk
        return chunk
      end)
      st:finish()
      local back = slurp(v2:get_path())
      assert.equals(16 * MiB, #back)
      assert.equals(want, back:sub(7 * MiB + 1, 10 * MiB))
      assert.equals(("\0"):rep(7 * MiB), back:sub(1, 7 * MiB))
      v2:delete(0)
    end)

    it("gives recv_all's handler a message's worth at a time, however much has piled up", function()
      -- the first call waits while the client queues what the daemon sends;
      -- then the reads are big, but every string stays at most 256 KiB
      local want = sh(("head -c %d %s | sha256sum"):format(32 * MiB, q(vol:get_path()))):match("^(%x+)")
      local function download(flags, pause)
        local out = work .. "/piled.down"
        local f = assert(io.open(out, "wb"))
        local st = conn:new_stream(flags)
        vol:download(st, 0, 32 * MiB, 0)
        local calls, biggest, total = 0, 0, 0
        st:recv_all(function(s, data, n)
          assert.equals(st, s)
          assert.equals(#data, n)
          calls = calls + 1
          if calls == 1 and pause then pause() end
          biggest, total = math.max(biggest, n), total + n
          assert(f:write(data))
          return n
        end)
        st:finish()
        f:close()
        assert.equals(32 * MiB, total)
        assert.is_true(biggest <= 256 * 1024, "a chunk of " .. biggest .. " bytes")
        assert.equals(want, sha256(out))
        os.remove(out)
      end
      download(0, function() virt.sleep(300) end)
      download(S.NONBLOCK, function() virt.sleep(300) end)
      -- outside a task (a coroutine of the script's own) the reads block
      local co = coroutine.wrap(function()
        assert.is_false(virt.in_task())
        download(0)
        return "done"
      end)
      assert.equals("done", co())
    end)

    it("gives up cleanly when the recv_all handler raises or over-claims, and the connection lives on", function()
      local st = conn:new_stream()
      vol:download(st, 0, 0, 0)
      local ok, err = pcall(st.recv_all, st, function() error("disk full", 0) end)
      assert.is_false(ok)
      assert.equals("disk full", err)
      assert.equals("aborted", st:get_state())

      st = conn:new_stream()
      vol:download(st, 0, 0, 0)
      ok, err = pcall(st.recv_all, st, function(_, _, n) return n + 10 end)
      assert.is_false(ok)
      assert.matches("more than the %d+ bytes it was given", err)
      assert.has_error(function() st:recv(10) end, nil)

      -- a send_all handler that over-delivers on an upload
      st = conn:new_stream()
      local v2 = new_volume("bad.raw", MiB)
      v2:upload(st, 0, 0, 0)
      ok, err = pcall(st.send_all, st, function(_, n) return ("x"):rep(n + 1) end)
      assert.is_false(ok)
      assert.matches("more than the %d+ asked for", err)
      v2:delete(0)

      -- the same connection still transfers
      st = conn:new_stream()
      vol:download(st, 0, MiB, 0)
      local total = 0
      for data in function() return st:read(2 * MiB) end do total = total + #data end
      assert.equals(MiB, total)
      st:finish()
    end)

    it("stops copy_to when the disk is full or the progress callback fails", function()
      local st = conn:new_stream()
      vol:download(st, 0, 0, 0)
      local ok, err = pcall(st.copy_to, st, "/dev/full")
      assert.is_false(ok)
      assert.equals(virt.Error.ERR_SYSTEM_ERROR, err.code)
      assert.matches("cannot write /dev/full", err.message)
      assert.equals("aborted", st:get_state())

      st = conn:new_stream(S.NONBLOCK)
      vol:download(st, 0, 0, 0)
      ok, err = pcall(st.copy_to, st, work .. "/stopped", { progress = function(done)
        if done >= 4 * MiB then error("enough", 0) end
      end })
      assert.is_false(ok)
      assert.equals("enough", err)
      assert.equals("aborted", st:get_state())

      st = conn:new_stream()
      local v2 = new_volume("stopped-up.raw", SIZE)
      v2:upload(st, 0, 0, 0)
      ok, err = pcall(st.copy_from, st, src, { progress = function(done)
        if done >= 4 * MiB then error("enough up", 0) end
      end })
      assert.is_false(ok)
      assert.equals("enough up", err)
      assert.equals("aborted", st:get_state())
      v2:delete(0)
    end)

    it("refuses recv on a finished stream and send on an aborted one", function()
      local st = conn:new_stream()
      vol:download(st, 0, 1000, 0)
      assert.equals(1000, st:copy_to(work .. "/small"))
      local ok, err = pcall(st.recv, st, 100)
      assert.is_false(ok)
      assert.equals("the stream is finished", err.message)
      st = conn:new_stream()
      local v2 = new_volume("ab.raw", MiB)
      v2:upload(st, 0, 0, 0)
      st:write("some bytes")
      st:abort()
      ok, err = pcall(st.send, st, "more")
      assert.is_false(ok)
      assert.equals("the stream is aborted", err.message)
      v2:delete(0)
    end)

    it("aborts a download in the middle and leaves the loop idle", function()
      local base = virt.loop_stats()
      local st = conn:new_stream()
      vol:download(st, 0, 0, 0)
      local out = work .. "/aborted.down"
      local t = virt.spawn(function()
        return st:copy_to(out, { progress = function(done)
          if done >= 8 * MiB and st:get_state() == "open" then
            virt.spawn(function() st:abort() end)
          end
        end })
      end)
      local ok, err = pcall(t.wait, t)
      assert.is_false(ok)
      assert.equals("the stream is aborted", err.message)
      assert.equals("aborted", st:get_state())
      assert.is_true(size_of(out) < SIZE)
      virt.sleep(50)
      local now = virt.loop_stats()
      assert.equals(base.watches, now.watches)
      assert.equals(base.timers, now.timers)
      assert.equals(0, now.jobs)
      -- and the daemon took it well
      st = conn:new_stream()
      vol:download(st, 0, MiB, 0)
      assert.equals(MiB, st:copy_to(work .. "/after-abort"))
    end)

    it("aborts an upload while a send is in flight, and the stream still finishes the abort", function()
      local base = virt.loop_stats()
      local v2 = new_volume("upabort.raw", SIZE)
      local st = conn:new_stream()
      v2:upload(st, 0, 0, 0)
      local t = virt.spawn(function() return st:copy_from(src) end)
      virt.sleep(100)
      st:abort()   -- the copying task is in a send on a worker, or about to be
      local ok, err = pcall(t.wait, t)
      assert.is_false(ok)
      assert.equals("the stream is aborted", err.message)
      virt.sleep(100)
      local now = virt.loop_stats()
      assert.equals(base.watches, now.watches)
      assert.equals(base.timers, now.timers)
      assert.equals(0, now.jobs)
      v2:delete(0)
    end)

    it("drops an open stream that is collected: aborted on a worker, nothing left", function()
      local base = virt.loop_stats()
      do
        local st = conn:new_stream()
        vol:download(st, 0, 0, 0)
        st:read(1000)
      end
      collectgarbage()
      collectgarbage()
      virt.sleep(100)
      local now = virt.loop_stats()
      assert.equals(base.timers, now.timers)
      assert.equals(0, now.jobs)
      local st = conn:new_stream()
      vol:download(st, 0, 1000, 0)
      assert.equals(1000, #st:read(2000))
      st:abort()
    end)

    it("runs 20 transfers at once in tasks, 10 up and 10 down, all intact", function()
      local part = work .. "/part16.raw"
      random_file(part, 16 * MiB)
      local want = sha256(part)
      local pv = new_volume("part16.raw", 16 * MiB)
      local st = conn:new_stream()
      pv:upload(st, 0, 0, 0)
      st:copy_from(part)
      local vols, tasks = {}, {}
      for i = 1, 10 do
        vols[i] = new_volume("up" .. i .. ".raw", 16 * MiB)
        tasks[#tasks + 1] = virt.spawn(function()
          local s = conn:new_stream(i % 2 == 0 and S.NONBLOCK or 0)
          vols[i]:upload(s, 0, 0, 0)
          return s:copy_from(part)
        end)
        tasks[#tasks + 1] = virt.spawn(function()
          local s = conn:new_stream(i % 2 == 1 and S.NONBLOCK or 0)
          pv:download(s, 0, 0, 0)
          return s:copy_to(work .. "/down" .. i .. ".raw")
        end)
      end
      for _, n in ipairs{ virt.gather(table.unpack(tasks)) } do
        assert.equals(16 * MiB, n)
      end
      for i = 1, 10 do
        assert.equals(want, sha256(vols[i]:get_path()))
        assert.equals(want, sha256(work .. "/down" .. i .. ".raw"))
        vols[i]:delete(0)
        os.remove(work .. "/down" .. i .. ".raw")
      end
      pv:delete(0)
    end)
  end)

  describe("a daemon that dies in the middle of a transfer", function()
    local d2, c2, p2, v2, big

    setup(function()
      d2 = tb.daemon{ tcp = false }
      local dir2 = tb.session_dir() .. "/stream-pool2"
      sh("mkdir -p " .. q(dir2))
      big = dir2 .. "/big.raw"
      random_file(big, 128 * MiB)
      c2 = virt.new{ uri = d2.qemu_uri }
      p2 = c2:create_storage_pool(([[<pool type='dir'><name>dying</name>
        <target><path>%s</path></target></pool>]]):format(dir2))
      v2 = p2:get_volume_by_name("big.raw")
    end)

    teardown(function()
      if c2 then pcall(c2.close, c2) end
      if d2 then d2:stop() end
    end)

    it("fails the waiting download within seconds instead of hanging", function()
      local base = virt.loop_stats()
      local st = c2:new_stream()
      v2:download(st, 0, 0, 0)
      local t0 = os.time()
      local killed = false
      local ok, err = pcall(st.copy_to, st, work .. "/dying.down", { progress = function(done)
        if done >= 8 * MiB and not killed then
          killed = true
          d2:kill("KILL")
        end
      end })
      assert.is_true(killed)
      assert.is_false(ok)
      assert.is_true(virt.Error.is(err))
      assert.is_true(os.time() - t0 < 10)
      assert.equals("aborted", st:get_state())
      virt.sleep(50)
      assert.equals(base.timers, virt.loop_stats().timers)
      assert.equals(0, virt.loop_stats().jobs)
    end)
  end)

  describe("sparse volumes", function()
    local SIZE = 64 * MiB
    local src

    setup(function()
      src = work .. "/sparse.raw"
      -- data at 0, 20 and 40 MiB; holes between and after (the end is a hole)
      sparse_file(src, SIZE, { 0, 20, 40 })
      assert.is_true(allocated(src) < 8 * MiB, "the file system here cannot make sparse files")
    end)

    it("keeps the holes through copy_from/copy_to with the SPARSE_STREAM flags", function()
      local vol = new_volume("sparse1.raw", SIZE)
      local st = conn:new_stream()
      vol:upload(st, 0, 0, V.VOL_UPLOAD_SPARSE_STREAM)
      assert.equals(SIZE, st:copy_from(src, { sparse = true }))
      assert.equals(sha256(src), sha256(vol:get_path()))
      assert.is_true(allocated(vol:get_path()) < 8 * MiB)

      -- over an older, longer file full of data: its holes must read as zeros
      local out = work .. "/sparse1.down"
      random_file(out, SIZE + 3 * MiB)
      st = conn:new_stream()
      vol:download(st, 0, 0, V.VOL_DOWNLOAD_SPARSE_STREAM)
      assert.equals(SIZE, st:copy_to(out, { sparse = true }))
      assert.equals(SIZE, size_of(out))
      assert.equals(sha256(src), sha256(out))
      assert.is_true(allocated(out) < 8 * MiB)
      vol:delete(0)
    end)

    it("keeps them through Sys::Virt's sparse_send_all and sparse_recv_all", function()
      local vol = new_volume("sparse2.raw", SIZE)
      -- the source through the handler contract: a Lua file and its sections
      local f = assert(io.open(src, "rb"))
      local sections = {}   -- { in_data, length } found by scanning for zero MiB blocks
      do
        local pos = 0
        while pos < SIZE do
          local block = f:read(MiB)
          local zero = block == ("\0"):rep(#block)
          local last = sections[#sections]
          if last and last[1] == not zero then
            last[2] = last[2] + #block
          else
            sections[#sections + 1] = { not zero, #block }
          end
          pos = pos + #block
        end
        f:seek("set", 0)
      end
      local cur, left = 1, sections[1][2]
      local function advance(n)
        left = left - n
        while left == 0 and cur <= #sections do
          cur = cur + 1
          left = sections[cur] and sections[cur][2] or 0
        end
      end
      local st = conn:new_stream()
      vol:upload(st, 0, 0, V.VOL_UPLOAD_SPARSE_STREAM)
      local holes_sent = 0
      st:sparse_send_all(
        function(_, nbytes)
          local data = f:read(nbytes)
          advance(#data)
          return data
        end,
        function()
          if cur > #sections then return false, 0 end
          return sections[cur][1], left
        end,
        function(_, len)
          holes_sent = holes_sent + 1
          f:seek("cur", len)
          advance(len)
          return 0
        end)
      st:finish()
      f:close()
      assert.equals(3, holes_sent)
      assert.equals(sha256(src), sha256(vol:get_path()))

      local out = work .. "/sparse2.down"
      local o = assert(io.open(out, "wb"))
      st = conn:new_stream(S.NONBLOCK)
      vol:download(st, 0, 0, V.VOL_DOWNLOAD_SPARSE_STREAM)
      local holes = {}
      st:sparse_recv_all(
        function(_, data, n) assert(o:write(data)) return n end,
        function(_, len) holes[#holes + 1] = len; o:seek("cur", len) return 0 end)
      st:finish()
      o:close()
      -- the trailing hole leaves the file short: extend it as copy_to does
      sh(("truncate -s %d %s"):format(SIZE, q(out)))
      assert.same({ 19 * MiB, 19 * MiB, 23 * MiB }, holes)
      assert.equals(sha256(src), sha256(out))
      assert.is_true(allocated(out) < 8 * MiB)
      vol:delete(0)
    end)

    it("fills the holes with zeros for a plain download", function()
      local vol = new_volume("sparse3.raw", SIZE)
      local st = conn:new_stream()
      vol:upload(st, 0, 0, V.VOL_UPLOAD_SPARSE_STREAM)
      st:copy_from(src, { sparse = true })
      local out = work .. "/sparse3.down"
      st = conn:new_stream()
      vol:download(st, 0, 0, 0)
      assert.equals(SIZE, st:copy_to(out))
      assert.equals(sha256(src), sha256(out))
      assert.is_true(allocated(out) >= SIZE - MiB)
      vol:delete(0)
    end)
  end)
end)
