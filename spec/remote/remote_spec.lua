-- The remote tier: a private libvirtd (spec/helpers/testbed.lua) reached
-- over RPC: events across connections, keepalive, concurrency, a loop that
-- never blocks on a call, and a daemon that dies mid-call.
local virt = require "virt"
local uv = require "luv"
local tb = require "spec.helpers.testbed"
local fx = require "spec.helpers.fixtures"
local D = virt.Domain

local function wait_for(cond, ms, what)
  local deadline = uv.now() + ms
  while not cond() do
    if uv.now() > deadline then error("timed out waiting for " .. what, 2) end
    virt.sleep(10)
  end
end

-- One of virt.Event._stats()'s counters: 4 wake-ups asked of the loop by
-- other threads, 5 ready fds dispatched, 6 re-enables parked from the start.
local function loop_stat(i) return (select(i, virt.Event._stats())) end

-- 64 tasks making 20 get_info calls each on dom (1,280 calls), all done.
local function calls_of_64_tasks(dom)
  local tasks = {}
  for t = 1, 64 do
    tasks[t] = virt.spawn(function()
      for _ = 1, 20 do assert.equals(2, dom:get_info().nrVirtCpu) end
    end)
  end
  virt.gather(table.unpack(tasks))
end

-- `luvirt -e script` in a child process, env ("VAR=value ") before it and
-- suffix after its "2>&1": the popen handle of its output.
local function luvirt_e(script, env, suffix)
  return io.popen((env or "") .. (os.getenv("BUILD") or "build") .. "/luvirt -e '"
    .. script:gsub("'", "'\\''") .. "' 2>&1" .. (suffix or ""))
end

describe("over RPC to a private libvirtd", function()
  local daemon
  setup(function()
    local ok, why = tb.check()
    assert(ok, why)
    daemon = tb.daemon{}
  end)
  teardown(function() tb.cleanup_all() end)

  it("delivers lifecycle events caused by another connection, in order", function()
    local watcher = virt.new{ uri = daemon.test_uri }
    local actor = virt.new{ uri = daemon.test_uri }
    local seen = {}
    local id = watcher:domain_event_register_any(nil, D.EVENT_ID_LIFECYCLE,
      function(conn, dom, event, detail)
        assert.equals(watcher, conn)
        if dom:get_name() == "remote-ev" then seen[#seen + 1] = event end
      end)
    local dom = actor:define_domain(fx.domain_xml("remote-ev"))
    dom:create()
    dom:suspend()
    dom:resume()
    dom:destroy()
    dom:undefine()
    wait_for(function() return #seen >= 6 end, 5000, "six lifecycle events")
    assert.same({ D.EVENT_DEFINED, D.EVENT_STARTED, D.EVENT_SUSPENDED, D.EVENT_RESUMED,
                  D.EVENT_STOPPED, D.EVENT_UNDEFINED }, seen)
    watcher:domain_event_deregister_any(id)
    watcher:close()
    actor:close()
  end)

  it("runs an RPC call on a worker and yields, so other tasks run meanwhile", function()
    local conn = virt.new{ uri = daemon.test_uri }
    local order = {}
    local a = virt.spawn(function()
      order[#order + 1] = "a-start"
      conn:get_domain_by_name("test"):get_info()   -- yields to the pool
      order[#order + 1] = "a-end"
    end)
    local b = virt.spawn(function() order[#order + 1] = "b" end)
    virt.gather(a, b)
    assert.same({ "a-start", "b", "a-end" }, order)
    conn:close()
  end)

  it("runs its workers SCHED_BATCH, the loop thread as it was, or all as they were if asked", function()
    -- a child process makes one call on a worker, then reports field 41 of
    -- /proc/<pid>/task/<tid>/stat (0 SCHED_OTHER, 3 SCHED_BATCH) of each thread
    local chunk = ([[
      local conn = require("virt").new{ uri = %q }
      conn:get_domain_by_name("test"):get_info()
      local pid = io.open("/proc/self/stat"):read("l"):match("^(%%d+)")
      local ls = io.popen("ls /proc/" .. pid .. "/task")
      for tid in ls:lines() do
        local f = io.open("/proc/" .. pid .. "/task/" .. tid .. "/stat")
        if f then
          local fields = {}
          for w in f:read("l"):match("%%) (.*)$"):gmatch("%%S+") do fields[#fields + 1] = w end
          f:close()
          print((tid == pid and "loop " or "thread ") .. fields[41 - 2])
        end
      end
      ls:close()
      conn:close()
    ]]):format(daemon.test_uri)
    local function run(env)
      local p = luvirt_e(chunk, env)
      local count = { loop = {}, thread = {} }
      for line in p:lines() do
        local who, pol = line:match("^(%a+) (%d+)$")
        assert(who, "unexpected output: " .. line)
        count[who][pol] = (count[who][pol] or 0) + 1
      end
      p:close()
      return count
    end
    local c = run("")
    assert.same({ ["0"] = 1 }, c.loop)
    assert.is_true((c.thread["3"] or 0) >= 1, "no SCHED_BATCH worker among the process's threads")
    c = run("LUVIRT_WORKER_SCHED_OTHER=1 ")
    assert.same({ ["0"] = 1 }, c.loop)
    assert.is_nil(c.thread["3"])
    assert.is_true((c.thread["0"] or 0) >= 1)
  end)

  it("runs a blocking=true connection's calls on the loop thread, objects too", function()
    local conn = virt.new{ uri = daemon.test_uri, blocking = true }
    local dom = conn:get_domain_by_name("test")
    local order = {}
    local a = virt.spawn(function()
      order[#order + 1] = "a-start"
      local host = conn:get_hostname()      -- no yield: b waits for it
      local info = dom:get_info()            -- the domain inherits it
      order[#order + 1] = "a-end"
      return host, info.nrVirtCpu
    end)
    local b = virt.spawn(function() order[#order + 1] = "b" end)
    local host, ncpu = a:wait()
    b:wait()
    assert.same({ "a-start", "a-end", "b" }, order)
    assert.is_string(host)
    assert.equals(2, ncpu)
    conn:close()
  end)

  it("lets a script free a domain while calls on it are in flight", function()
    -- An async call pins the Domain instead of taking a libvirt reference;
    -- dom:free() meanwhile must leave the pointer to the last call.
    local conn = virt.new{ uri = daemon.test_uri }
    local dom = conn:get_domain_by_name("test")
    daemon:kill("STOP")
    local calls = {}
    for i = 1, 3 do calls[i] = virt.spawn(function() return dom:get_info().nrVirtCpu end) end
    virt.sleep(50)
    dom:free()                                   -- while all three wait
    assert.has_error(function() dom:get_name() end, "attempt to use a freed Domain")
    daemon:kill("CONT")
    for i = 1, 3 do assert.equals(2, calls[i]:wait()) end
    assert.has_error(function() dom:get_info() end, "attempt to use a freed Domain")
    collectgarbage(); collectgarbage()
    -- and the connection still answers: nothing was freed twice
    assert.equals(2, conn:get_domain_by_name("test"):get_info().nrVirtCpu)
    conn:close()
  end)

  it("runs 200 concurrent tasks of RPC calls to correct results", function()
    local conn = virt.new{ uri = daemon.test_uri }
    local tasks = {}
    for i = 1, 200 do
      tasks[i] = virt.spawn(function()
        local d = conn:get_domain_by_name("test")
        local info = d:get_info()
        return i .. ":" .. d:get_name() .. ":" .. info.state .. ":" .. info.nrVirtCpu
      end)
    end
    local results = { virt.gather(table.unpack(tasks)) }
    for i = 1, 200 do assert.equals(i .. ":test:1:2", results[i]) end
    conn:close()
  end)

  it("does not wake the loop for the socket watch a call on a worker toggles", function()
    -- libvirt's client disables its socket's watch while a thread does the
    -- I/O itself, and re-enables it after: the change goes straight to the
    -- loop's epoll set instead of costing the loop a wake-up each way.
    local conn = virt.new{ uri = daemon.test_uri }
    local dom = conn:get_domain_by_name("test")
    dom:get_info()
    local before, parked_before = loop_stat(4), loop_stat(6)
    for _ = 1, 200 do assert.equals(2, dom:get_info().nrVirtCpu) end
    local wakes = loop_stat(4) - before
    assert.is_true(wakes < 20, ("%d wake-ups for 200 calls"):format(wakes))
    -- a lone call's re-enable goes straight back to the set: nobody else
    -- would take the socket over
    assert.equals(parked_before, loop_stat(6))
    conn:close()
  end)

  it("does not spin on the socket while calls of many tasks pass its I/O around", function()
    -- A call ending re-enables the socket's watch although it hands the
    -- I/O to another waiting thread, which disables it once it runs; the
    -- loop must not keep dispatching the unread data meanwhile (it did:
    -- ~100 dispatches per call with 64 tasks).
    local conn = virt.new{ uri = daemon.test_uri }
    local dom = conn:get_domain_by_name("test")
    local before = loop_stat(5)
    calls_of_64_tasks(dom)
    local per_call = (loop_stat(5) - before) / (64 * 20)
    -- the loop also reads replies itself when no thread holds the I/O (up
    -- to a few dispatches a call, depending on scheduling); spinning was ~190
    assert.is_true(per_call < 20, ("%.1f dispatches of ready fds per call"):format(per_call))
    conn:close()
  end)

  it("parks the socket a call gives back while other calls run, and watches it again after", function()
    -- With other calls running, a call's re-enable of the socket's watch
    -- stays out of the loop's epoll set (one of them takes the socket over);
    -- once they are all done the loop watches it again, so events come.
    local conn = virt.new{ uri = daemon.test_uri }
    local actor = virt.new{ uri = daemon.test_uri }
    local dom = conn:get_domain_by_name("test")
    local before = loop_stat(6)
    calls_of_64_tasks(dom)
    assert.is_true(loop_stat(6) > before, "no re-enable was parked in 1,280 calls of 64 tasks")
    assert.equals(0, virt.loop_stats().jobs)
    local seen = {}
    local id = conn:domain_event_register_any(nil, D.EVENT_ID_LIFECYCLE, function(_, d, event)
      if d:get_name() == "remote-park" then seen[#seen + 1] = event end
    end)
    local other = actor:define_domain(fx.domain_xml("remote-park"))
    other:undefine()
    wait_for(function() return #seen >= 2 end, 5000, "the events of an idle connection")
    assert.same({ D.EVENT_DEFINED, D.EVENT_UNDEFINED }, seen)
    conn:domain_event_deregister_any(id)
    actor:close()
    conn:close()
  end)

  it("delivers events while a call on another connection hangs", function()
    -- A re-enable parked because another call runs must not wait for that
    -- call: here it never ends until the events have come.
    local d2 = tb.daemon{ tcp = false }
    local frozen = virt.new{ uri = d2.test_uri }
    local watcher = virt.new{ uri = daemon.test_uri }
    local actor = virt.new{ uri = daemon.test_uri }
    local seen = {}
    local id = watcher:domain_event_register_any(nil, D.EVENT_ID_LIFECYCLE, function(_, d, event)
      if d:get_name() == "remote-hang" then seen[#seen + 1] = event end
    end)
    d2:kill("STOP")
    local stuck = virt.spawn(function() return frozen:get_hostname() end)
    virt.sleep(100)
    assert.equals(1, virt.loop_stats().jobs)
    local before = loop_stat(6)
    -- the watcher's own call ends while the frozen one runs: its
    -- re-enable is parked
    local n = 0
    while loop_stat(6) == before and n < 50 do
      virt.spawn(function() return watcher:get_hostname() end):wait()
      n = n + 1
    end
    assert.is_true(loop_stat(6) > before, "no re-enable was parked in " .. n .. " calls")
    local dom = actor:define_domain(fx.domain_xml("remote-hang"))
    dom:undefine()
    wait_for(function() return #seen >= 2 end, 5000, "events during the frozen call")
    assert.is_false(stuck:done())
    assert.same({ D.EVENT_DEFINED, D.EVENT_UNDEFINED }, seen)
    d2:kill("CONT")
    assert.is_string(stuck:wait())
    watcher:domain_event_deregister_any(id)
    watcher:close()
    actor:close()
    frozen:close()
    d2:stop()
  end)

  it("keeps the loop running while a call waits on a frozen daemon", function()
    local conn = virt.new{ uri = daemon.test_uri }
    local ticks = 0
    local timer = uv.new_timer()
    timer:start(100, 100, function() ticks = ticks + 1 end)
    daemon:kill("STOP")
    local call = virt.spawn(function() return conn:get_hostname() end)
    virt.sleep(1000)
    local during = ticks
    assert.is_false(call:done())           -- still waiting on the daemon
    daemon:kill("CONT")
    local host = call:wait()
    timer:close()
    assert.is_string(host)
    assert.is_true(during >= 8, "the 100 ms timer fired " .. during .. " times in 1 s")
    conn:close()
  end)

  it("closes with reason KEEPALIVE when the daemon stops answering, failing pending calls", function()
    local conn = virt.new{ uri = daemon.test_uri }
    local reason
    conn:register_close_callback(function(c, r)
      assert.equals(conn, c)
      reason = r
    end)
    assert.equals(0, conn:set_keep_alive(1, 2))
    daemon:kill("STOP")
    local t0 = uv.now()
    local pending = virt.spawn(function() return conn:get_hostname() end)
    local ok, err = pcall(pending.wait, pending)
    wait_for(function() return reason end, 6000, "the close callback")
    local elapsed = uv.now() - t0
    daemon:kill("CONT")
    assert.equals(virt.CLOSE_REASON_KEEPALIVE, reason)
    assert.is_true(elapsed < 4000, "closed after " .. elapsed .. " ms")
    assert.is_false(ok)
    assert.is_number(err.code)
    assert.is_false(conn:is_alive())
    conn:close()
  end)

  it("gives every pending task a virt.Error when the daemon is killed mid-call", function()
    local d2 = tb.daemon{ tcp = false }
    local conn = virt.new{ uri = d2.test_uri }
    d2:kill("STOP")
    local tasks = {}
    for i = 1, 10 do
      tasks[i] = virt.spawn(function() return conn:get_domain_by_name("test"):get_info() end)
    end
    virt.sleep(200)
    d2:kill("KILL")
    for i = 1, 10 do
      local ok, err = pcall(tasks[i].wait, tasks[i])
      assert.is_false(ok)
      assert.equals("table", type(err))
      assert.is_number(err.code)
    end
    local ok, err = pcall(conn.get_hostname, conn)
    assert.is_false(ok)
    assert.is_number(err.code)
    conn:close()
    d2:stop()
  end)

  it("reads the read-only socket and refuses writes there", function()
    local ro = virt.new{ uri = daemon.ro_test_uri, readonly = true }
    assert.equals("test", ro:get_domain_by_name("test"):get_name())
    local ok, err = pcall(ro.define_domain, ro, fx.domain_xml("ro-nope"))
    assert.is_false(ok)
    assert.equals(virt.Error.ERR_OPERATION_DENIED, err.code)
    ro:close()
  end)

  it("lets a script end while a remote connection is open and idle", function()
    local script = ("local v = require 'virt'; c = v.new{uri=%q}; print(c:get_hostname() ~= nil)")
      :format(daemon.test_uri)
    local p = luvirt_e(script, nil, "; echo rc=$?")
    local out = p:read("a")
    p:close()
    assert.matches("true", out)
    assert.matches("rc=0", out)
  end)
end)
