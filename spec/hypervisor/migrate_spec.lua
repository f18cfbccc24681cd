-- Hypervisor tier: live migration of a QEMU guest between two private
-- daemons through luvirt, with typed parameters: peer-to-peer
-- (migrate_to_uri = virDomainMigrateToURI3) and client-driven (migrate =
-- virDomainMigrate3), over loopback and between two network namespaces, and
-- a guest that dirties memory faster than the bandwidth allows until the
-- limit is raised.
--
-- Events, as libvirt 9.0 sends them: the source reports migration-iteration,
-- job-completed and SUSPENDED/STOPPED_MIGRATED; the destination reports
-- STARTED_MIGRATED and RESUMED_MIGRATED.
local virt = require "virt"
local S = require "spec.hypervisor.support"
local D = virt.Domain
local MIG = S.name("mig")
local CONV = S.name("conv")
local NSMIG = S.name("nsmig")

local LIVE_MOVE = D.MIGRATE_LIVE | D.MIGRATE_PERSIST_DEST | D.MIGRATE_UNDEFINE_SOURCE
  -- the disk is a local file both daemons see: no storage copy needed
  | D.MIGRATE_UNSAFE

-- libvirt refuses a loopback migration_host in qemu.conf, so on 127.0.0.1
-- the migration stream's address travels as parameters instead
local function loopback_params(extra)
  local p = {
    [D.MIGRATE_PARAM_URI] = "tcp://127.0.0.1",
    [D.MIGRATE_PARAM_LISTEN_ADDRESS] = "127.0.0.1",
  }
  for k, v in pairs(extra or {}) do p[k] = v end
  return p
end

describe("hypervisor: live migration", function()
  local a, b, ca, cb, guests = nil, nil, nil, nil, {}
  local ev = {}

  local function watch(conn, side)
    ev[side] = {
      life = S.events(conn, nil, D.EVENT_ID_LIFECYCLE),
      iter = S.events(conn, nil, D.EVENT_ID_MIGRATION_ITERATION),
      done = S.events(conn, nil, D.EVENT_ID_JOB_COMPLETED),
    }
  end

  local function marks()
    return { a_life = #ev.a.life + 1, a_iter = #ev.a.iter + 1, a_done = #ev.a.done + 1,
      b_life = #ev.b.life + 1, b_iter = #ev.b.iter + 1, b_done = #ev.b.done + 1 }
  end

  setup(function()
    S.require_testbed()
    a, b = S.tb.daemon{}, S.tb.daemon{}
    ca = virt.new{ uri = a.qemu_uri }
    cb = virt.new{ uri = b.qemu_uri }
    watch(ca, "a")
    watch(cb, "b")
    -- both guests boot at once: TCG boots are CPU-bound and there are 2 cores
    local t1 = virt.spawn(function() return S.boot(ca, { name = MIG }) end)
    local t2 = virt.spawn(function() return S.boot(ca, { name = CONV, dirty = 48, dirtyset = 16 }) end)
    local dom, con, files = t1:wait()
    guests.mig = { dom = dom, con = con, files = files }
    dom, con, files = t2:wait()
    guests.conv = { dom = dom, con = con, files = files }
  end)

  teardown(function()
    for _, x in pairs(guests) do
      if x.con then x.con:close() end
    end
    for _, side in pairs(ev) do
      for _, l in pairs(side) do pcall(l.stop) end
    end
    for _, c in ipairs { ca, cb } do
      if c then
        for _, name in ipairs { MIG, CONV } do
          local ok, dom = pcall(c.get_domain_by_name, c, name)
          if ok then S.remove(dom) end
        end
        pcall(c.close, c)
      end
    end
    S.tb.cleanup_all()
  end)

  it("moves a running guest peer-to-peer with migrate_to_uri and typed parameters", function()
    local g = guests.mig
    local before = tonumber((g.con:wait("GUEST: tick (%d+)", 15, g.con:mark())))
    local m = marks()
    g.dom:migrate_to_uri(b.tcp_qemu_uri,
      loopback_params{ [D.MIGRATE_PARAM_BANDWIDTH] = 10000 },
      LIVE_MOVE | D.MIGRATE_PEER2PEER)

    -- gone from the source, running and persistent on the destination
    assert.has_error(function() ca:get_domain_by_name(MIG) end)
    local dom = cb:get_domain_by_name(MIG)
    local state, reason = dom:get_state()
    assert.equals(D.STATE_RUNNING, state)
    assert.equals(D.STATE_RUNNING_MIGRATED, reason)
    assert.is_true(dom:is_persistent())

    S.wait_event(ev.a.iter, function(e) return e.name == MIG and e[1] >= 1 end, 10,
      "migration-iteration on the source", m.a_iter)
    S.wait_event(ev.a.life, S.lifecycle(MIG, D.EVENT_STOPPED, D.EVENT_STOPPED_MIGRATED), 10,
      "STOPPED_MIGRATED on the source", m.a_life)
    local done = S.wait_event(ev.a.done, function(e) return e.name == MIG end, 10,
      "job-completed on the source", m.a_done)
    assert.equals(D.JOB_OPERATION_MIGRATION_OUT, done[1].operation)
    assert.is_true(done[1].memory_processed > 0)
    S.wait_event(ev.b.life, S.lifecycle(MIG, D.EVENT_STARTED, D.EVENT_STARTED_MIGRATED), 10,
      "STARTED_MIGRATED on the destination", m.b_life)
    S.wait_event(ev.b.life, S.lifecycle(MIG, D.EVENT_RESUMED, D.EVENT_RESUMED_MIGRATED), 10,
      "RESUMED_MIGRATED on the destination", m.b_life)

    -- the same guest goes on counting on the destination's console
    g.con:close()
    g.con = S.console(cb, dom)
    local after = tonumber((g.con:wait("GUEST: tick (%d+)", 30)))
    assert.is_true(after > before, ("tick %d on the destination, %d on the source"):format(after, before))
    g.dom = dom
  end)

  it("moves it back client-driven with migrate and typed parameters", function()
    local g = guests.mig
    local before = g.con:last_tick()
    local m = marks()
    local back = g.dom:migrate(ca, loopback_params(), LIVE_MOVE)
    assert.equals(MIG, back:get_name())
    assert.equals(D.STATE_RUNNING, (back:get_state()))
    assert.has_error(function() cb:get_domain_by_name(MIG) end)
    S.wait_event(ev.b.iter, function(e) return e.name == MIG end, 10,
      "migration-iteration on the source (B)", m.b_iter)
    S.wait_event(ev.b.done, function(e) return e.name == MIG end, 10,
      "job-completed on the source (B)", m.b_done)
    S.wait_event(ev.a.life, S.lifecycle(MIG, D.EVENT_RESUMED, D.EVENT_RESUMED_MIGRATED), 10,
      "RESUMED_MIGRATED on the destination (A)", m.a_life)
    g.con:close()
    g.con = S.console(ca, back)
    assert.is_true(tonumber((g.con:wait("GUEST: tick (%d+)", 30))) > before)
    g.dom = back
  end)

  it("does not converge while the guest dirties memory faster than the bandwidth, then does", function()
    local g = guests.conv
    g.con:wait("dirtied=%d+MiB", 15, g.con:mark())
    local m = marks()
    -- 48 MiB/s of fresh dirty pages against 16 MiB/s of bandwidth
    local task = virt.spawn(function()
      g.dom:migrate_to_uri(b.tcp_qemu_uri,
        loopback_params{ [D.MIGRATE_PARAM_BANDWIDTH] = 16 },
        LIVE_MOVE | D.MIGRATE_PEER2PEER)
    end)
    S.wait_event(ev.a.iter, function(e) return e.name == CONV and e[1] >= 3 end, 60,
      "a third migration iteration", m.a_iter)
    -- still going, as the job statistics say
    local jtype, stats = g.dom:get_job_stats(0)
    assert.equals(D.JOB_UNBOUNDED, jtype)
    assert.equals(D.JOB_OPERATION_MIGRATION_OUT, stats.operation)
    assert.is_true(stats.memory_iteration >= 3)
    assert.equals(D.STATE_RUNNING, (g.dom:get_state()))
    -- lift the limit: the remaining dirty set now fits in the downtime
    g.dom:migrate_set_max_speed(10000, 0)
    task:wait()
    local done = S.wait_event(ev.a.done, function(e) return e.name == CONV end, 10,
      "job-completed for the converged migration", m.a_done)
    assert.is_true(done[1].memory_iteration >= 3)
    local dom = cb:get_domain_by_name(CONV)
    assert.equals(D.STATE_RUNNING, (dom:get_state()))
    g.con:close()
    g.con = S.console(cb, dom)
    local line = g.con:wait("GUEST: tick %d+[^\r\n]*", 30)
    if not line:find("dirtied=%d+MiB") then
      -- a rebooted guest starts counting again without having dirtied anything
      error(("not the same guest on the destination: %q\nconsole: %s\nlog: %s"):format(line, g.con.text,
        S.read_file(g.files.console_log) or "?"))
    end
    g.dom = dom
  end)

  it("moves a guest between daemons in two network namespaces", function()
    local n = S.tb.netns()
    local c = S.tb.daemon{ netns = n[1] }
    local e = S.tb.daemon{ netns = n[2] }
    local cc = virt.new{ uri = c.qemu_uri }
    local ce = virt.new{ uri = e.qemu_uri }
    local dom, con = S.boot(cc, { name = NSMIG })
    local ok, err = pcall(function()
      local before = tonumber((con:wait("GUEST: tick (%d+)", 15, con:mark())))
      -- migration_address is set in each daemon's qemu.conf: no URI parameter
      dom:migrate_to_uri(e.tcp_qemu_uri, {}, LIVE_MOVE | D.MIGRATE_PEER2PEER)
      local moved = ce:get_domain_by_name(NSMIG)
      assert.equals(D.STATE_RUNNING, (moved:get_state()))
      con:close()
      con = S.console(ce, moved)
      assert.is_true(tonumber((con:wait("GUEST: tick (%d+)", 30))) > before)
      -- and back, tunnelled through the daemons' own connection
      moved:migrate_to_uri(c.tcp_qemu_uri, {}, LIVE_MOVE | D.MIGRATE_PEER2PEER | D.MIGRATE_TUNNELLED)
      assert.equals(D.STATE_RUNNING, (cc:get_domain_by_name(NSMIG):get_state()))
    end)
    con:close()
    pcall(cc.close, cc)
    pcall(ce.close, ce)
    c:stop()
    e:stop()
    n.down()
    assert(ok, err)
  end)
end)
