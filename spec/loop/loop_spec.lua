-- The loop contract: libvirt's event implementation on libuv (host/loop.c),
-- exercised through virEventAddHandle & co (virt.Event), after the eight
-- rules of DESIGN.md and libvirt-glib's test-events.
local virt = require "virt"
local uv = require "luv"
local E = virt.Event
local R, W, HUP = E.HANDLE_READABLE, E.HANDLE_WRITABLE, E.HANDLE_HANGUP

-- Run the loop until cond() holds; a guard timer fails instead of hanging.
local function run_until(cond, what)
  local expired = false
  local guard = uv.new_timer()
  guard:start(5000, 0, function() expired = true end)
  while not cond() and not expired do virt.sleep(1) end
  guard:close()
  assert(not expired, "gave up waiting for " .. (what or "the condition"))
end

local function iterations(n) for _ = 1, n do virt.sleep(0) end end

local function frees() return select(3, E._stats()) end

local pipes = {}
local function pipe()
  local p = uv.pipe({ nonblock = true }, { nonblock = true })
  pipes[#pipes + 1] = p
  return p.read, p.write
end

describe("the event loop", function()
  after_each(function()
    for _, p in ipairs(pipes) do uv.fs_close(p.read); pcall(uv.fs_close, p.write) end
    pipes = {}
  end)

  it("reports a readable fd to its watch with the watch id, fd and events", function()
    local r, w = pipe()
    local got
    local id = E.add_handle(r, R, function(watch, fd, events) got = { watch, fd, events } end)
    uv.fs_write(w, "x")
    run_until(function() return got end, "readable")
    assert.same({ id, r, R }, got)
    assert.equals(0, E.remove_handle(id))
  end)

  it("multiplexes two watches on one fd, and removing one leaves the other", function()
    local r, w = pipe()
    local a, b = 0, 0
    local ida = E.add_handle(r, R, function() a = a + 1 end)
    local idb = E.add_handle(r, R, function() b = b + 1 end)
    uv.fs_write(w, "x")
    run_until(function() return a > 0 and b > 0 end, "both watches")
    E.remove_handle(ida)
    local a0, b0 = a, b
    iterations(3)
    assert.equals(a0, a)          -- a removed watch never fires again
    assert.is_true(b > b0)        -- level-triggered: still readable
    E.remove_handle(idb)
  end)

  it("disables a watch with events 0 and keeps it", function()
    local r, w = pipe()
    local n = 0
    local id = E.add_handle(r, R, function() n = n + 1 end)
    E.update_handle(id, 0)
    uv.fs_write(w, "x")
    iterations(5)
    assert.equals(0, n)
    E.update_handle(id, R)
    run_until(function() return n > 0 end, "re-enabled watch")
    assert.equals(0, E.remove_handle(id))
  end)

  it("never reuses ids and refuses unknown or removed ones with -1", function()
    local r = pipe()
    local last = 0
    for _ = 1, 50 do
      local id = E.add_handle(r, R, function() end)
      assert.is_true(id > last)
      last = id
      assert.equals(0, E.remove_handle(id))
      assert.equals(-1, E.remove_handle(id))
      E.update_handle(id, R)        -- an update after remove is ignored
    end
    assert.equals(-1, E.remove_handle(last + 1000))
    local t1 = E.add_timeout(-1, function() end)
    local t2 = E.add_timeout(-1, function() end)
    assert.is_true(t2 > t1)
    assert.equals(0, E.remove_timeout(t1))
    assert.equals(-1, E.remove_timeout(t1))
    assert.equals(0, E.remove_timeout(t2))
    E.update_timeout(t2, 10)        -- ignored
  end)

  it("does not dispatch a watch removed by an earlier callback of the same dispatch", function()
    local r, w = pipe()
    local fired = {}
    local ids = {}
    for i = 1, 3 do
      ids[i] = E.add_handle(r, R, function(watch)
        fired[#fired + 1] = watch
        -- whoever runs first removes all the others
        for _, other in ipairs(ids) do
          if other ~= watch then E.remove_handle(other) end
        end
      end)
    end
    uv.fs_write(w, "x")
    run_until(function() return #fired > 0 end, "first watch")
    iterations(3)
    local first = fired[1]
    for _, f in ipairs(fired) do assert.equals(first, f) end
    E.remove_handle(first)
  end)

  it("accepts watches added from inside a callback", function()
    local r, w = pipe()
    local inner_fired = false
    local inner
    local outer = E.add_handle(r, R, function(watch)
      E.remove_handle(watch)
      inner = E.add_handle(r, R, function() inner_fired = true end)
    end)
    uv.fs_write(w, "x")
    run_until(function() return inner_fired end, "the watch added in a callback")
    assert.equals(-1, E.remove_handle(outer))
    assert.equals(0, E.remove_handle(inner))
  end)

  it("runs each free callback once, later, never inside remove", function()
    local r = pipe()
    -- the free callback releases the Lua function: watch it go
    local weak = setmetatable({}, { __mode = "k" })
    local f1, f2 = function() end, function() end
    weak[f1], weak[f2] = true, true
    local id = E.add_handle(r, R, f1)
    local tid = E.add_timeout(1000, f2)
    f1, f2 = nil, nil
    local before = frees()
    E.remove_handle(id)
    E.remove_timeout(tid)
    collectgarbage(); collectgarbage()
    assert.equals(2, #(function() local t = {} for k in pairs(weak) do t[#t + 1] = k end return t end)())
    assert.equals(before, frees())   -- not inside remove
    run_until(function() return frees() >= before + 2 end, "free callbacks")
    iterations(3)
    collectgarbage(); collectgarbage()
    assert.is_nil(next(weak))         -- released, by the one free each
  end)

  it("wakes the loop when another thread removes a watch", function()
    local r = pipe()
    local id = E.add_handle(r, R, function() end)  -- never readable
    local th = E._remove_from_thread("handle", id, 50)
    local before = frees()
    run_until(function() return frees() > before end, "removal from another thread")
    E._join(th)
    assert.equals(-1, E.remove_handle(id))
  end)

  it("lets another thread disable and re-enable a watch", function()
    local r, w = pipe()
    local n = 0
    local id = E.add_handle(r, R, function() n = n + 1 end)
    E._join(E._update_from_thread(id, 0, 0))
    uv.fs_write(w, "x")
    iterations(5)
    assert.equals(0, n)           -- disabled there: readable, but not reported
    local th = E._update_from_thread(id, R, 20)
    run_until(function() return n > 0 end, "the watch re-enabled from another thread")
    E._join(th)
    assert.equals(0, E.remove_handle(id))
  end)

  it("reports hang-up even to a watch that did not ask for it", function()
    local s = uv.socketpair(nil, nil, { nonblock = true }, { nonblock = true })
    local got
    local id = E.add_handle(s[1], W, function(_, _, events)
      if events & HUP ~= 0 then got = events end
    end)
    uv.fs_close(s[2])
    run_until(function() return got end, "hang-up")
    assert.is_true(got & HUP ~= 0)
    E.remove_handle(id)
    uv.fs_close(s[1])
  end)

  it("survives a watch on an fd that cannot be polled, reporting an error", function()
    local path = os.tmpname()
    local f = assert(io.open(path, "w"))
    local fd = uv.fs_open(path, "r", 0)
    local got
    local id = E.add_handle(fd, R, function(_, _, events) got = events end)
    run_until(function() return got end, "the error event")
    assert.is_true(got & E.HANDLE_ERROR ~= 0)
    E.remove_handle(id)
    uv.fs_close(fd)
    f:close()
    os.remove(path)
  end)

  describe("timers", function()
    it("fire periodically every interval ms", function()
      local n, t0, times = 0, uv.now(), {}
      local id
      id = E.add_timeout(20, function(timer)
        assert.equals(id, timer)
        n = n + 1
        times[n] = uv.now() - t0
      end)
      run_until(function() return n >= 3 end, "three periods")
      E.remove_timeout(id)
      assert.is_true(times[3] >= 60, "third fire at " .. times[3] .. " ms")
    end)

    it("with -1 never fire, and 0 fire once per loop iteration", function()
      local off, zero = 0, 0
      local a = E.add_timeout(-1, function() off = off + 1 end)
      local b = E.add_timeout(0, function() zero = zero + 1 end)
      iterations(1)
      local z0 = zero
      iterations(10)                 -- sleep(0): once round the loop
      assert.equals(z0 + 10, zero)
      assert.equals(0, off)
      E.remove_timeout(a)
      E.remove_timeout(b)
    end)

    it("restart their period when updated", function()
      local fired_at
      local t0 = uv.now()
      local id = E.add_timeout(100, function() fired_at = fired_at or uv.now() - t0 end)
      virt.sleep(60)
      E.update_timeout(id, 100)        -- restart: due 100 ms from now
      run_until(function() return fired_at end, "the restarted timer")
      E.remove_timeout(id)
      assert.is_true(fired_at >= 155, "fired at " .. fired_at .. " ms")
    end)

    it("can be disabled and re-enabled by update", function()
      local n = 0
      local id = E.add_timeout(5, function() n = n + 1 end)
      E.update_timeout(id, -1)
      virt.sleep(30)
      assert.equals(0, n)
      E.update_timeout(id, 5)
      run_until(function() return n > 0 end, "re-enabled timer")
      E.remove_timeout(id)
    end)

    it("may remove itself from its own callback", function()
      local n = 0
      local id
      id = E.add_timeout(0, function(timer) n = n + 1; E.remove_timeout(timer) end)
      iterations(5)
      assert.equals(1, n)
      assert.equals(-1, E.remove_timeout(id))
    end)
  end)

  it("keeps running after a callback raises (errors go to the handler)", function()
    local errors, n = 0, 0
    virt.set_error_handler(function() errors = errors + 1 end)
    local id = E.add_timeout(1, function()
      n = n + 1
      error("deliberate")
    end)
    run_until(function() return n >= 3 end, "three failing callbacks")
    E.remove_timeout(id)
    virt.set_error_handler(nil)
    assert.is_true(errors >= 3)
  end)

  it("rejects bad arguments", function()
    assert.has_error(function() E.add_handle(-1, R, function() end) end)
    assert.has_error(function() E.add_handle(0, 99, function() end) end)
    assert.has_error(function() E.add_handle(0, R, "nope") end)
    assert.has_error(function() E.add_timeout(-2, function() end) end)
    assert.has_error(function() E.update_timeout("x", 1) end)
  end)

  it("register_default exists for Sys::Virt scripts; run_default refuses to nest", function()
    assert.equals(0, E.register_default())
    assert.has_error(function() E.run_default() end)
    assert.has_error(function() virt.run("nowait") end)
  end)
end)

describe("virt.run", function()
  it("returns once no task, watch or timer is left", function()
    -- run in a child luvirt so this process's own state does not matter
    local luvirt = (os.getenv("BUILD") or "build") .. "/luvirt"
    local script = [[
      local virt = require "virt"
      local n = 0
      virt.Event.add_timeout(10, function(t) n = n + 1; if n == 3 then virt.Event.remove_timeout(t) end end)
      virt.spawn(function() virt.sleep(30) end)
      print("started")
    ]]
    local p = io.popen(luvirt .. " -e '" .. script .. "' 2>&1; echo rc=$?")
    local out = p:read("a")
    p:close()
    assert.matches("started", out)
    assert.matches("rc=0", out)
  end)
end)
