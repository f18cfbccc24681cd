-- Hypervisor tier: statistics of a working QEMU guest through luvirt.  The
-- guest writes 64 KiB to its disk and prints a line every second, so CPU
-- time and write counters must grow between two readings.
local virt = require "virt"
local S = require "spec.hypervisor.support"
local D = virt.Domain
local NAME = S.name("stats")

describe("hypervisor: statistics", function()
  local d, conn, dom, con

  setup(function()
    d, conn = S.connect()
    dom, con = S.boot(conn, { name = NAME })
    -- a couple of seconds of work, and balloon stats (period 1 s) to report
    con:wait("GUEST: tick 2", 30)
  end)

  teardown(function() S.teardown{ con = con, dom = dom, conn = conn } end)

  local function tick_later(n)
    local m = con:mark()
    for _ = 1, n do m = select(2, con:wait("GUEST: tick %d+", 15, m)) end
  end

  it("get_all_domain_stats reports state, cpu, balloon and block numbers that grow", function()
    local which = D.STATS_STATE | D.STATS_CPU_TOTAL | D.STATS_BALLOON | D.STATS_BLOCK
    local all = conn:get_all_domain_stats(which, nil, 0)
    assert.equals(1, #all)
    assert.equals(NAME, all[1].dom:get_name())
    local s1 = all[1].data
    assert.equals(D.STATE_RUNNING, s1["state.state"])
    assert.is_true(s1["cpu.time"] > 0)
    assert.equals(96 * 1024, s1["balloon.current"])
    assert.equals(1, s1["block.count"])
    assert.equals("vda", s1["block.0.name"])
    assert.is_true(s1["block.0.rd.bytes"] >= 1024 * 1024) -- the guest read 1 MiB at boot
    assert.is_true(s1["block.0.wr.bytes"] > 0)
    tick_later(2)
    -- the same through an explicit domain list
    local again = conn:get_all_domain_stats(which, { dom }, 0)
    assert.equals(1, #again)
    local s2 = again[1].data
    assert.is_true(s2["cpu.time"] > s1["cpu.time"])
    assert.is_true(s2["block.0.wr.bytes"] > s1["block.0.wr.bytes"])
    assert.is_true(s2["block.0.wr.reqs"] > s1["block.0.wr.reqs"])
  end)

  it("list_all_domains finds the running guest with the ACTIVE filter", function()
    local names = {}
    for _, x in ipairs(conn:list_all_domains(D.LIST_ACTIVE)) do names[#names + 1] = x:get_name() end
    assert.same({ NAME }, names)
    assert.same({}, conn:list_all_domains(D.LIST_INACTIVE))
  end)

  it("memory_stats come from the balloon driver", function()
    local m = S.wait(function()
      local t = dom:memory_stats(0)
      return t.unused and t.available and t
    end, 15, "balloon statistics")
    assert.is_true(m.available > 0 and m.available <= 96 * 1024)
    assert.is_true(m.unused > 0 and m.unused < m.available)
    assert.equals(96 * 1024, m.actual_balloon)
    assert.is_true(m.rss > 0)
  end)

  it("block_stats grow as the guest writes", function()
    local b1 = dom:block_stats("vda")
    assert.is_true(b1.rd_bytes >= 1024 * 1024)
    assert.is_true(b1.rd_req > 0)
    tick_later(2)
    local b2 = dom:block_stats("vda")
    assert.is_true(b2.wr_bytes >= b1.wr_bytes + 64 * 1024)
    assert.is_true(b2.wr_req > b1.wr_req)
  end)

  it("get_cpu_stats totals grow as the guest runs", function()
    local t1 = dom:get_cpu_stats(-1, 1, 0)
    assert.equals(1, #t1)
    assert.is_true(t1[1].cpu_time > 0)
    tick_later(1)
    local t2 = dom:get_cpu_stats(-1, 1, 0)
    assert.is_true(t2[1].cpu_time > t1[1].cpu_time)
    assert.is_true(t2[1].user_time > 0)
    -- per-host-CPU figures need cgroup v1 cpuacct, which libvirt does not
    -- use on this hybrid hierarchy ("not supported for backend 'cgroup V2'")
  end)
end)
