-- Hypervisor tier: saving and snapshotting a running QEMU guest through
-- luvirt.  The guest counts seconds on its console ("GUEST: tick N"), which
-- tells a guest that carried on (save/restore) from one that rebooted, and a
-- reverted one (the count goes back) from one that did not.
local virt = require "virt"
local S = require "spec.hypervisor.support"
local D = virt.Domain
local NAME = S.name("saver")
local DS = virt.DomainSnapshot

describe("hypervisor: save, managed save and snapshots", function()
  local d, conn, dom, con, g, life

  setup(function()
    d, conn = S.connect()
    life = S.events(conn, nil, D.EVENT_ID_LIFECYCLE)
    dom, con, g = S.boot(conn, { name = NAME })
  end)

  teardown(function() S.teardown{ con = con, watchers = { life }, dom = dom, conn = conn } end)

  -- after the QEMU process changed: a fresh console, then the next tick
  local function reattach_and_tick()
    if con then con:close() end
    con = S.console(conn, dom)
    return tonumber((con:wait("GUEST: tick (%d+)", 30)))
  end

  it("saves to a file and restores from it; the guest carries on", function()
    local before = tonumber((con:wait("GUEST: tick (%d+)", 15, con:mark())))
    local file = g.dir .. "/saver.save"
    local from = #life + 1
    dom:save(file)
    local state, reason = dom:get_state()
    assert.equals(D.STATE_SHUTOFF, state)
    assert.equals(D.STATE_SHUTOFF_SAVED, reason)
    S.wait_event(life, S.lifecycle(NAME, D.EVENT_STOPPED, D.EVENT_STOPPED_SAVED), 10, "STOPPED_SAVED", from)
    assert.truthy(S.read_file(file))
    assert.truthy(conn:get_save_image_xml_description(file, 0):find("<name>" .. NAME .. "</name>", 1, true))

    conn:restore_domain(file)
    dom = conn:get_domain_by_name(NAME)
    state, reason = dom:get_state()
    assert.equals(D.STATE_RUNNING, state)
    assert.equals(D.STATE_RUNNING_RESTORED, reason)
    S.wait_event(life, S.lifecycle(NAME, D.EVENT_STARTED, D.EVENT_STARTED_RESTORED), 10,
      "STARTED_RESTORED", from)
    -- a rebooted guest would count from 1 again
    assert.is_true(reattach_and_tick() > before)
  end)

  it("managed-saves and restores on the next create", function()
    local before = con:last_tick()
    assert.is_false(dom:has_managed_save_image())
    dom:managed_save()
    assert.is_true(dom:has_managed_save_image())
    assert.equals(D.STATE_SHUTOFF, (dom:get_state()))
    dom:create()
    local state, reason = dom:get_state()
    assert.equals(D.STATE_RUNNING, state)
    assert.equals(D.STATE_RUNNING_RESTORED, reason)
    assert.is_false(dom:has_managed_save_image())
    assert.is_true(reattach_and_tick() > before)
  end)

  it("takes an internal snapshot with memory and reverts to it", function()
    local at = tonumber((con:wait("GUEST: tick (%d+)", 15, con:mark())))
    local snap = dom:create_snapshot("<domainsnapshot><name>s1</name></domainsnapshot>", 0)
    assert.equals("s1", snap:get_name())
    assert.matches("<state>running</state>", snap:get_xml_description(0))
    local names = {}
    for _, s in ipairs(dom:list_all_snapshots(0)) do names[#names + 1] = s:get_name() end
    assert.same({ "s1" }, names)
    -- let the guest count on, then go back in time
    con:wait("GUEST: tick " .. (at + 4), 30)
    local from = #life + 1
    snap:revert_to(0)
    assert.equals(D.STATE_RUNNING, (dom:get_state()))
    -- libvirt 9.0 restarts QEMU for the revert: STOPPED, STARTED, RESUMED "from snapshot"
    S.wait_event(life, S.lifecycle(NAME, D.EVENT_STARTED, D.EVENT_STARTED_FROM_SNAPSHOT), 10,
      "STARTED_FROM_SNAPSHOT", from)
    S.wait_event(life, S.lifecycle(NAME, D.EVENT_RESUMED, D.EVENT_RESUMED_FROM_SNAPSHOT), 10,
      "RESUMED_FROM_SNAPSHOT", from)
    local next_tick = reattach_and_tick()
    assert.is_true(next_tick <= at + 3, ("tick %d after reverting to tick %d"):format(next_tick, at))
    snap:delete(0)
    assert.same({}, dom:list_all_snapshots(0))
  end)

  -- vda's block job of type jobtype, watched by jobs (S.events): wait until
  -- it is READY and mirrors all, pivot, wait until it is COMPLETED
  local function pivot_when_ready(jobs, jobtype)
    S.wait_event(jobs, function(e)
      return e[1] == "vda" and e[2] == jobtype and e[3] == D.BLOCK_JOB_READY
    end, 60, "block job READY")
    local info = dom:get_block_job_info("vda", 0)
    assert.equals(jobtype, info.type)
    assert.equals(info["end"], info.cur)
    dom:abort_block_job("vda", D.BLOCK_JOB_ABORT_PIVOT)
    S.wait_event(jobs, function(e)
      return e[1] == "vda" and e[3] == D.BLOCK_JOB_COMPLETED
    end, 30, "block job COMPLETED")
    jobs.stop()
  end

  it("takes an external disk-only snapshot and commits it back with a pivot", function()
    local top = g.dir .. "/" .. NAME .. "-ext1.qcow2"
    assert.equals(g.disk, S.disk_source(dom, "vda"))
    dom:create_snapshot(([[
<domainsnapshot>
  <name>ext1</name>
  <disks><disk name='vda' snapshot='external'><source file='%s'/></disk></disks>
</domainsnapshot>]]):format(top), DS.CREATE_DISK_ONLY | DS.CREATE_ATOMIC | DS.CREATE_NO_METADATA)
    assert.equals(top, S.disk_source(dom, "vda"))
    -- the guest writes a block every second: the overlay gets data to commit
    con:wait("GUEST: tick", 15, con:mark())

    local jobs = S.events(conn, dom, D.EVENT_ID_BLOCK_JOB_2)
    dom:block_commit("vda", nil, nil, 0, D.BLOCK_COMMIT_ACTIVE)
    pivot_when_ready(jobs, D.BLOCK_JOB_TYPE_ACTIVE_COMMIT)
    assert.equals(g.disk, S.disk_source(dom, "vda"))
    -- and the guest still runs on the committed disk
    con:wait("GUEST: tick", 15, con:mark())
  end)

  it("copies the running guest's disk with block_copy and pivots to the copy", function()
    local dest = g.dir .. "/" .. NAME .. "-copy.qcow2"
    local jobs = S.events(conn, dom, D.EVENT_ID_BLOCK_JOB_2)
    -- bad input is an error, not a crash: no such disk, parameters of the wrong type
    local ok, err = pcall(dom.block_copy, dom, "vdz",
      ("<disk type='file'><source file='%s'/></disk>"):format(dest), nil, D.BLOCK_COPY_TRANSIENT_JOB)
    assert.is_false(ok)
    assert.is_number(err.code)
    assert.has_error(function() dom:block_copy("vda", "<disk/>", { [D.BLOCK_COPY_BANDWIDTH] = "fast" }) end)
    -- a persistent guest takes a copy only as a transient job
    dom:block_copy("vda", ([[
<disk type='file'><driver type='qcow2'/><source file='%s'/></disk>]]):format(dest),
      { [D.BLOCK_COPY_GRANULARITY] = 65536, [D.BLOCK_COPY_BUF_SIZE] = 1048576 },
      D.BLOCK_COPY_TRANSIENT_JOB)
    pivot_when_ready(jobs, D.BLOCK_JOB_TYPE_COPY)
    assert.equals(dest, S.disk_source(dom, "vda"))
    local f = assert(io.open(dest, "rb"))
    assert.equals("QFI\xfb", f:read(4))          -- a qcow2 image
    f:close()
    -- the guest runs on, on the copy
    con:wait("GUEST: tick", 15, con:mark())
  end)
end)
