-- Hypervisor tier: what the test driver cannot show about typed parameters
-- and the hand-written Domain calls -- on a real QEMU guest under a private
-- daemon: scheduler parameters with flags (a 64-bit share), memory and blkio
-- tuning kept by cgroups, live vCPU placement and pinning, peeks, job stats.
local virt = require "virt"
local S = require "spec.hypervisor.support"
local D = virt.Domain
local NAME = S.name("tune")

describe("hypervisor: tunables and placement", function()
  local d, conn, dom, con

  setup(function()
    d, conn = S.connect()
    dom, con = S.boot(conn, { name = NAME })
    con:wait("GUEST: tick 1", 30)
  end)

  teardown(function() S.teardown{ con = con, dom = dom, conn = conn } end)

  it("round-trips scheduler parameters with and without flags", function()
    local p = dom:get_scheduler_parameters(D.AFFECT_LIVE)
    assert.equals("integer", math.type(p[D.SCHEDULER_CPU_SHARES]))
    dom:set_scheduler_parameters({ [D.SCHEDULER_CPU_SHARES] = 2048 }, D.AFFECT_LIVE)
    assert.equals(2048, dom:get_scheduler_parameters(D.AFFECT_LIVE)[D.SCHEDULER_CPU_SHARES])
    dom:set_scheduler_parameters{ [D.SCHEDULER_CPU_SHARES] = 1024 }
    assert.equals(1024, dom:get_scheduler_parameters()[D.SCHEDULER_CPU_SHARES])
    local ok, err = pcall(dom.set_scheduler_parameters, dom, { [D.SCHEDULER_CPU_SHARES] = -5 }, D.AFFECT_LIVE)
    assert.is_false(ok)
    assert.matches("unsigned long long", err.message)
  end)

  it("round-trips memory and blkio tuning on the running guest", function()
    dom:set_memory_parameters({ [D.MEMORY_SOFT_LIMIT] = 262144 }, D.AFFECT_LIVE)
    assert.equals(262144, dom:get_memory_parameters(D.AFFECT_LIVE)[D.MEMORY_SOFT_LIMIT])
    local w = dom:get_blkio_parameters(D.AFFECT_LIVE)[D.BLKIO_WEIGHT]
    assert.equals("integer", math.type(w))
  end)

  it("reports live vCPU placement and pins a vCPU", function()
    local info = dom:get_vcpu_info()
    assert.equals(1, #info)
    assert.equals(D.VCPU_RUNNING, info[1].state)
    assert.is_true(info[1].cpuTime > 0)
    local _, online = conn:get_node_cpu_map()
    dom:pin_vcpu(0, "\1")
    assert.equals(1, dom:get_vcpu_info()[1].affinity:byte(1) & 0xff)
    dom:pin_vcpu(0, online, D.AFFECT_LIVE)
    assert.equals("string", type(dom:get_emulator_pin_info()))
  end)

  it("peeks at guest memory (and the disk, which QEMU allows for raw images only)", function()
    local ok, err = pcall(dom.block_peek, dom, "vda", 0, 512)   -- the test bed's disk is qcow2
    assert.is_false(ok)
    assert.equals(virt.Error.ERR_OPERATION_UNSUPPORTED, err.code)
    assert.matches("raw", err.message)
    local m = dom:memory_peek(0, 4096, D.MEMORY_PHYSICAL)
    assert.equals(4096, #m)
  end)

  it("gives job stats with no job running", function()
    local typ, stats = dom:get_job_stats()
    assert.equals(D.JOB_NONE, typ)
    assert.is_table(stats)
  end)
end)
