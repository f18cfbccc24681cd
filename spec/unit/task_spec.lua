-- Tasks: spawn, wait, gather, semaphore, sleep; libvirt calls yield inside
-- tasks and block outside them.
local virt = require "virt"
local uv = require "luv"

describe("tasks", function()
  it("returns every result of a task through wait()", function()
    local t = virt.spawn(function(a, b) return a + b, "two", nil, 4 end, 1, 2)
    local r = table.pack(t:wait())
    assert.same({ n = 4, 3, "two", nil, 4 }, r)
    assert.equals("done", t:status())
    assert.is_true(t:done())
    -- waiting again gives the same results
    assert.equals(3, (t:wait()))
  end)

  it("re-raises a task's error from wait(), keeping virt.Error values intact", function()
    local t = virt.spawn(function()
      local c = virt.new{ uri = "test:///default" }
      return c:get_domain_by_name("no-such-domain")
    end)
    local ok, err = pcall(t.wait, t)
    assert.is_false(ok)
    assert.equals(virt.Error.ERR_NO_DOMAIN, err.code)
    assert.equals("failed", t:status())
    assert.matches("get_domain_by_name", t:traceback())
  end)

  it("runs calls on the in-process test driver inline, even in tasks (they never block)", function()
    local order = {}
    local conn = virt.new{ uri = "test:///default" }
    local a = virt.spawn(function()
      order[#order + 1] = "a-start"
      conn:get_domain_by_name("test"):get_info()
      order[#order + 1] = "a-end"
    end)
    local b = virt.spawn(function() order[#order + 1] = "b" end)
    virt.gather(a, b)
    assert.same({ "a-start", "a-end", "b" }, order)
    conn:close()
  end)

  it("runs calls inline in a plain coroutine inside a task", function()
    local t = virt.spawn(function()
      local co = coroutine.wrap(function()
        assert.is_false(virt.in_task())
        local c = virt.new{ uri = "test:///default" }
        coroutine.yield(c:get_type())
      end)
      return co()
    end)
    assert.equals("TEST", t:wait())
  end)

  it("gathers tasks and functions in order and raises the first failure", function()
    assert.same({ 1, 2, 3 }, { virt.gather(
      function() virt.sleep(20) return 1 end,
      virt.spawn(function() return 2 end),
      function() virt.sleep(5) return 3 end) })
    local ok, err = pcall(virt.gather, function() error("boom") end, function() return 1 end)
    assert.is_false(ok)
    assert.matches("boom", err)
    assert.has_error(function() virt.gather(42) end)
  end)

  it("bounds concurrency with a semaphore", function()
    local sem, inside, peak = virt.semaphore(2), 0, 0
    local tasks = {}
    for i = 1, 6 do
      tasks[i] = virt.spawn(function()
        sem:with(function()
          inside = inside + 1
          peak = math.max(peak, inside)
          virt.sleep(10)
          inside = inside - 1
        end)
        return i
      end)
    end
    assert.same({ 1, 2, 3, 4, 5, 6 }, { virt.gather(table.unpack(tasks)) })
    assert.equals(2, peak)
    assert.equals(2, sem.count)
    assert.has_error(function() virt.semaphore(-1) end)
  end)

  it("refuses to block outside a task on an exhausted semaphore", function()
    local sem = virt.semaphore(0)
    -- a coroutine of the script's own is not a task
    local co = coroutine.wrap(function() return pcall(sem.acquire, sem) end)
    local ok, err = co()
    assert.is_false(ok)
    assert.matches("would block: call it inside a task", err)
  end)

  it("sleeps without blocking the loop: a uv timer keeps firing", function()
    local ticks = 0
    local timer = uv.new_timer()
    timer:start(5, 5, function() ticks = ticks + 1 end)
    virt.spawn(function() virt.sleep(100) end):wait()
    timer:close()
    assert.is_true(ticks >= 5, "ticks=" .. ticks)
  end)

  it("lets a plain coroutine.yield() inside a task give way to other tasks", function()
    local log = {}
    local a = virt.spawn(function() log[#log + 1] = 1; coroutine.yield(); log[#log + 1] = 3 end)
    local b = virt.spawn(function() log[#log + 1] = 2 end)
    virt.gather(a, b)
    assert.same({ 1, 2, 3 }, log)
  end)

  it("one-shot events wake every waiter with the values", function()
    local ev = virt.event()
    local w1 = virt.spawn(function() return ev:wait() end)
    local w2 = virt.spawn(function() return select(2, ev:wait()) end)
    virt.spawn(function() virt.sleep(5); ev:set("x", "y") end)
    assert.same({ "x", "y" }, { virt.gather(w1, w2) })
    assert.equals("x", ev:wait())
  end)

  it("rejects bad arguments", function()
    assert.has_error(function() virt.spawn(42) end)
    assert.has_error(function() virt.sleep("soon") end)
    assert.has_error(function() virt.pool_size(-1) end)
    assert.has_error(function() virt.run("sideways") end)
    local t = virt.spawn(function() return 1 end)
    assert.has_error(function() t.wait({}) end)
    t:wait()
  end)

  it("reports the pool size and lets it be changed", function()
    local old = virt.pool_size()
    assert.is_true(old >= 1)
    assert.equals(old, virt.pool_size(old + 1))
    assert.equals(old + 1, virt.pool_size(old))
    assert.is_number(virt.pool_size(nil, "long"))
  end)

  it("routes callback errors to the error handler", function()
    local seen
    virt.set_error_handler(function(msg, where) seen = { msg, where } end)
    local id = virt.Event.add_timeout(0, function(timer)
      virt.Event.remove_timeout(timer)
      error("callback broke")
    end)
    virt.sleep(20)
    virt.set_error_handler(nil)
    assert.is_table(seen)
    assert.matches("callback broke", seen[1])
    assert.matches("timeout callback", seen[2])
    assert.equals(-1, virt.Event.remove_timeout(id))
  end)
end)
