-- Shared pieces of the hypervisor specs: booting the test guest under a
-- private daemon, reading its serial console through a luvirt stream, and
-- collecting events.  Everything goes through luvirt; the test bed
-- (spec/helpers/testbed.lua) only provides daemons, disks and XML.
local virt = require "virt"
local tb = require "spec.helpers.testbed"
local D = virt.Domain

local S = { tb = tb }

-- The tier does not run without root (scripts/check.sh says so loudly); a
-- missing package is a failure that names the package.
function S.require_testbed()
  local ok, why = tb.check()
  if not ok then error("hypervisor tier cannot run: " .. why, 2) end
end

local ok_luv, luv = pcall(require, "luv")
function S.now()
  if ok_luv then return luv.hrtime() / 1e9 end
  return os.time()
end

-- Poll pred every 50 ms (the loop keeps running: events and streams flow)
-- until it returns a true value, which is returned; raise after secs.
function S.wait(pred, secs, what)
  local t0 = S.now()
  while true do
    local v = pred()
    if v then return v end
    if S.now() - t0 > secs then
      error(("timed out after %gs waiting for %s"):format(secs, what or "a condition"), 2)
    end
    virt.sleep(50)
  end
end

-- ---------------------------------------------------------------------------
-- the serial console as a luvirt stream

local Console = {}
Console.__index = Console

-- Open dom's console (forcing off any earlier one) and read it in a task
-- into self.text until EOF or close().
function S.console(conn, dom)
  local st = conn:new_stream(0)
  dom:open_console(st, nil, D.OPEN_CONSOLE_FORCE)
  local c = setmetatable({ st = st, text = "", eof = false }, Console)
  c.task = virt.spawn(function()
    while not c.closed do
      local ok, n, data = pcall(st.recv, st, 65536)
      if not ok then c.err = n; break end
      if n == 0 then break end
      if n > 0 then c.text = c.text .. data end
    end
    c.eof = true
  end)
  return c
end

-- A position in the console text: wait(pattern, secs, mark) looks only at
-- what arrived after it.
function Console:mark() return #self.text + 1 end

-- Wait until pattern (a Lua pattern) shows up after position `from`;
-- return the first capture (or the whole match) and the position after it.
function Console:wait(pattern, secs, from)
  from = from or 1
  local res
  S.wait(function()
    local r = table.pack(self.text:find(pattern, from))
    if r[1] then res = r; return true end
    if self.eof then
      error(("console closed (%s) before %q appeared; it said:\n%s"):format(
        tostring(self.err or "EOF"), pattern, self.text:sub(-2000)), 0)
    end
  end, secs or 60, ("%q on the console (so far: %q)"):format(pattern, self.text:sub(-300)))
  -- the first capture, or the whole match
  if res.n > 2 then return res[3], res[2] + 1 end
  return self.text:sub(res[1], res[2]), res[2] + 1
end

-- The number of the last "GUEST: tick N" line seen so far (0 if none).
function Console:last_tick()
  local last = 0
  for n in self.text:gmatch("GUEST: tick (%d+)") do last = tonumber(n) end
  return last
end

function Console:send(s) return self.st:send(s) end

function Console:close()
  if self.closed then return end
  self.closed = true
  pcall(self.st.abort, self.st)
end

-- ---------------------------------------------------------------------------
-- events

-- Register for event `id` on conn (dom or nil for all domains); every call
-- is appended as { name = <domain name>, ... the callback's further arguments }.
-- list:stop() deregisters.
function S.events(conn, dom, id)
  local list = {}
  list.id = conn:domain_event_register_any(dom, id, function(_, d, ...)
    list[#list + 1] = { name = d:get_name(), ... }
  end)
  function list.stop()
    if list.id then
      conn:domain_event_deregister_any(list.id)
      list.id = nil
    end
  end
  return list
end

-- The first entry of an event list, from index `from` on (default 1), for
-- which pred(entry) holds, waiting up to secs.
function S.wait_event(list, pred, secs, what, from)
  return S.wait(function()
    for i = from or 1, #list do
      if pred(list[i]) then return list[i] end
    end
  end, secs or 30, what)
end

-- A predicate for lifecycle entries: domain name, event and (optional) detail.
function S.lifecycle(name, event, detail)
  return function(e)
    return e.name == name and e[1] == event and (detail == nil or e[2] == detail)
  end
end

-- ---------------------------------------------------------------------------
-- guests

-- A guest name unique to this test process.  libvirt names a guest's
-- cgroups machine/qemu-<id>-<name>, ids start at 1 in every daemon, and the
-- hierarchy is shared by the whole machine: two test runs at once must not
-- put their guests in one group.
function S.name(base)
  return ("%s-%d"):format(base, tb.pid)
end

-- Define the test guest on conn from tb.domain_xml(opts), start it paused,
-- attach the console, let it run and wait for its ready line.  Returns dom,
-- console, and the guest's files ({ disk, console_log, dir, name }).
function S.boot(conn, opts)
  local xml, g = tb.domain_xml(opts)
  local dom = conn:define_domain(xml)
  -- paused first: lines printed before the console is attached are lost
  dom:create(D.START_PAUSED)
  local con = S.console(conn, dom)
  dom:resume()
  con:wait("GUEST%-READY", 90)
  return dom, con, g
end

-- For a spec's setup: a private daemon and a qemu:/// connection to it.
function S.connect()
  S.require_testbed()
  local d = tb.daemon{ tcp = false }
  return d, virt.new{ uri = d.qemu_uri }
end

-- For a spec's teardown: undo whatever of its setup exists, in order — the
-- console, event watchers (S.events), the guest, the connection, the daemons.
function S.teardown(t)
  if t.con then t.con:close() end
  for _, w in pairs(t.watchers or {}) do pcall(w.stop) end
  S.remove(t.dom)
  if t.conn then pcall(t.conn.close, t.conn) end
  tb.cleanup_all()
end

-- Destroy and undefine, ignoring "not running" / "no such domain": for teardown.
function S.remove(dom)
  if not dom then return end
  pcall(dom.destroy, dom)
  pcall(dom.managed_save_remove, dom)
  local flags = (D.UNDEFINE_SNAPSHOTS_METADATA or 0) | (D.UNDEFINE_CHECKPOINTS_METADATA or 0)
    | (D.UNDEFINE_MANAGED_SAVE or 0)
  pcall(dom.undefine, dom, flags)
end

-- Read a whole file (nil if missing).
S.read_file = tb.read_file

-- `qemu-img info` of a file as a table: format, virtual_size, and the raw text.
function S.qemu_img_info(path)
  local p = assert(io.popen("qemu-img info -U --output=json '" .. path .. "' 2>&1"))
  local out = p:read("a")
  local ok = p:close()
  return {
    ok = ok,
    format = out:match('"format"%s*:%s*"([^"]+)"'),
    virtual_size = tonumber(out:match('"virtual%-size"%s*:%s*(%d+)')),
    text = out,
  }
end

-- The disk source file of target dev in dom's live XML.
function S.disk_source(dom, dev)
  local xml = dom:get_xml_description(0)
  for disk in xml:gmatch("<disk.-</disk>") do
    if disk:find("dev='" .. dev .. "'", 1, true) then
      return disk:match("<source file='([^']+)'")
    end
  end
end

return S
