-- Hypervisor tier: the libvirt-qemu API through luvirt on a real guest:
-- monitor commands (QMP and HMP) and monitor events.
local virt = require "virt"
local S = require "spec.hypervisor.support"
local D = virt.Domain
local NAME = S.name("mon")

describe("hypervisor: qemu monitor", function()
  local d, conn, dom, con

  setup(function()
    d, conn = S.connect()
    dom, con = S.boot(conn, { name = NAME })
  end)

  teardown(function() S.teardown{ con = con, dom = dom, conn = conn } end)

  it("runs a QMP command", function()
    local out = dom:qemu_monitor_command('{"execute":"query-status"}', 0)
    assert.matches('"status"%s*:%s*"running"', out)
    assert.matches('"running"%s*:%s*true', out)
    local name = dom:qemu_monitor_command('{"execute":"query-name"}', 0)
    assert.truthy(name:find('"name":"' .. NAME .. '"', 1, true), name)
  end)

  it("runs an HMP command", function()
    local out = dom:qemu_monitor_command("info status", D.QEMU_MONITOR_COMMAND_HMP)
    assert.matches("VM status: running", out)
  end)

  it("delivers monitor events for one name and for all", function()
    local stops, all = {}, {}
    local id1 = conn:domain_qemu_monitor_event_register(dom, "STOP", function(_, d2, event, secs, micros, details)
      stops[#stops + 1] = { dom = d2:get_name(), event = event, secs = secs, micros = micros, details = details }
    end, 0)
    local id2 = conn:domain_qemu_monitor_event_register(nil, nil, function(_, d2, event)
      all[#all + 1] = d2:get_name() .. ":" .. event
    end, 0)
    dom:suspend()
    dom:resume()
    S.wait(function() return #stops >= 1 end, 10, "a STOP monitor event")
    S.wait(function()
      for _, e in ipairs(all) do if e == NAME .. ":RESUME" then return true end end
    end, 10, "a RESUME monitor event")
    assert.equals(NAME, stops[1].dom)
    assert.equals("STOP", stops[1].event)
    assert.is_true(stops[1].secs > 1600000000) -- a wall-clock timestamp
    assert.is_true(stops[1].micros >= 0 and stops[1].micros < 1000000)
    conn:domain_qemu_monitor_event_deregister(id1)
    conn:domain_qemu_monitor_event_deregister(id2)
    -- deregistered: nothing more arrives
    local n_stops, n_all = #stops, #all
    dom:suspend()
    dom:resume()
    virt.sleep(500)
    assert.equals(n_stops, #stops)
    assert.equals(n_all, #all)
    -- the guest noticed nothing
    con:wait("GUEST: tick", 15, con:mark())
  end)

  it("matches event names as a pattern with the REGEX flag", function()
    local seen = {}
    local id = conn:domain_qemu_monitor_event_register(dom, "^(STOP|RESUME)$", function(_, _, event)
      seen[#seen + 1] = event
    end, D.QEMU_MONITOR_EVENT_REGISTER_REGEX)
    dom:suspend()
    dom:resume()
    S.wait(function() return #seen >= 2 end, 10, "STOP and RESUME")
    assert.same({ "STOP", "RESUME" }, { seen[1], seen[2] })
    conn:domain_qemu_monitor_event_deregister(id)
  end)

  it("keeps delivering to a callback that raises, and reports each error", function()
    local got, errors = {}, {}
    virt.set_error_handler(function(msg, where) errors[#errors + 1] = { msg = msg, where = where } end)
    local ok, err = pcall(function()
      local id = conn:domain_qemu_monitor_event_register(dom, "^(STOP|RESUME)$", function(...)
        got[#got + 1] = table.pack(...)
        error("deliberate failure #" .. #got)
      end, D.QEMU_MONITOR_EVENT_REGISTER_REGEX)
      for _ = 1, 2 do
        dom:suspend()
        dom:resume()
      end
      S.wait(function() return #got >= 4 end, 10, "two STOPs and two RESUMEs")
      conn:domain_qemu_monitor_event_deregister(id)
    end)
    virt.set_error_handler(nil)
    assert(ok, err)
    for i, args in ipairs(got) do
      assert.equals(6, args.n)                 -- details may be nil: still counted
      assert.is_true(rawequal(conn, args[1]))
      assert.equals(NAME, args[2]:get_name())
      assert.equals(i % 2 == 1 and "STOP" or "RESUME", args[3])
      assert.is_true(args[4] > 1600000000)
    end
    assert.equals(#got, #errors)
    for i, e in ipairs(errors) do
      assert.equals("a qemu monitor event callback", e.where)
      assert.matches("deliberate failure #" .. i, e.msg, 1, true)
    end
  end)
end)
