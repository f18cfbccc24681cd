-- Hypervisor tier: a real QEMU guest (TCG) under a private libvirtd, driven
-- only through luvirt: define, start, serial console on a stream, PNG
-- screenshot, ACPI shutdown with lifecycle events, destroy.
local virt = require "virt"
local S = require "spec.hypervisor.support"
local D = virt.Domain
local NAME = S.name("tiny")

describe("hypervisor: a QEMU guest", function()
  local d, conn, dom, con, life

  setup(function()
    d, conn = S.connect()
    life = S.events(conn, nil, D.EVENT_ID_LIFECYCLE)
  end)

  teardown(function() S.teardown{ con = con, watchers = { life }, dom = dom, conn = conn } end)

  it("is defined and started, and its ready line arrives through open_console", function()
    dom, con = S.boot(conn, { name = NAME })
    assert.equals(NAME, dom:get_name())
    assert.is_true(dom:get_id() > 0)
    assert.is_true(dom:is_persistent())
    local state, reason = dom:get_state()
    assert.equals(D.STATE_RUNNING, state)
    assert.equals(D.STATE_RUNNING_UNPAUSED, reason)
    local info = dom:get_info()
    assert.equals(96 * 1024, info.maxMem)
    assert.equals(1, info.nrVirtCpu)
    assert.truthy(con.text:find("GUEST: disk label LUVIRT-TESTDISK", 1, true))
    S.wait_event(life, S.lifecycle(NAME, D.EVENT_DEFINED), 10, "DEFINED")
    S.wait_event(life, S.lifecycle(NAME, D.EVENT_STARTED, D.EVENT_STARTED_BOOTED), 10, "STARTED_BOOTED")
    S.wait_event(life, S.lifecycle(NAME, D.EVENT_RESUMED), 10, "RESUMED")
  end)

  it("keeps talking on the console and echoes what the stream sends", function()
    local m = con:mark()
    local tick = tonumber((con:wait("GUEST: tick (%d+)", 10, m)))
    assert.is_true(tick >= 1)
    m = con:mark()
    con:send("hello luvirt\n")
    assert.equals("hello luvirt", (con:wait("GUEST%-ECHO: ([^\r\n]+)", 15, m)))
  end)

  it("takes a screenshot: a 720x400 PNG read from a stream", function()
    local st = conn:new_stream(0)
    local mime = dom:screenshot(st, 0, 0)
    assert.equals("image/png", mime)
    local parts = {}
    while true do
      local n, chunk = st:recv(65536)
      if n <= 0 then break end
      parts[#parts + 1] = chunk
    end
    st:finish()
    local png = table.concat(parts)
    assert.equals("\137PNG\r\n\26\n", png:sub(1, 8))
    assert.equals("IHDR", png:sub(13, 16))
    local w, h = string.unpack(">I4I4", png, 17)
    assert.equals(720, w)
    assert.equals(400, h)
  end)

  it("powers off on the ACPI button: shut off, with SHUTDOWN and STOPPED events", function()
    local from = #life + 1
    local m = con:mark()
    dom:shutdown()
    con:wait("power button pressed", 20, m)
    S.wait(function() return dom:get_state() == D.STATE_SHUTOFF end, 30, "shut off")
    local _, reason = dom:get_state()
    assert.equals(D.STATE_SHUTOFF_SHUTDOWN, reason)
    S.wait_event(life, S.lifecycle(NAME, D.EVENT_SHUTDOWN), 10, "SHUTDOWN", from)
    S.wait_event(life, S.lifecycle(NAME, D.EVENT_STOPPED, D.EVENT_STOPPED_SHUTDOWN), 10,
      "STOPPED_SHUTDOWN", from)
    assert.is_false(dom:is_active())
    -- the console stream ends with the guest
    S.wait(function() return con.eof end, 10, "console EOF")
  end)

  it("starts again and is destroyed", function()
    local from = #life + 1
    dom:create(D.START_PAUSED)
    con = S.console(conn, dom)
    dom:resume()
    con:wait("GUEST%-READY", 90)
    dom:destroy()
    local state, reason = dom:get_state()
    assert.equals(D.STATE_SHUTOFF, state)
    assert.equals(D.STATE_SHUTOFF_DESTROYED, reason)
    S.wait_event(life, S.lifecycle(NAME, D.EVENT_STOPPED, D.EVENT_STOPPED_DESTROYED), 10,
      "STOPPED_DESTROYED", from)
    S.wait(function() return con.eof end, 10, "console EOF")
  end)
end)
