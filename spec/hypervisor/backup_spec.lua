-- Hypervisor tier: push-mode backups of a running QEMU guest through
-- luvirt, full then incremental against a checkpoint, watched by the
-- job-completed event and get_job_stats.
local virt = require "virt"
local S = require "spec.hypervisor.support"
local D = virt.Domain
local NAME = S.name("bk")

describe("hypervisor: backup", function()
  local d, conn, dom, con, g, done

  setup(function()
    d, conn = S.connect()
    dom, con, g = S.boot(conn, { name = NAME })
    done = S.events(conn, dom, D.EVENT_ID_JOB_COMPLETED)
  end)

  teardown(function() S.teardown{ con = con, watchers = { done }, dom = dom, conn = conn } end)

  local function backup_xml(target, incremental)
    return ([[
<domainbackup mode='push'>%s
  <disks>
    <disk name='vda' type='file'>
      <target file='%s'/>
      <driver type='qcow2'/>
    </disk>
  </disks>
</domainbackup>]]):format(incremental and ("\n  <incremental>" .. incremental .. "</incremental>") or "", target)
  end

  local function checkpoint_xml(name)
    return ("<domaincheckpoint><name>%s</name></domaincheckpoint>"):format(name)
  end

  -- run one backup and wait for its job-completed event; return the
  -- event's parameters and get_job_stats' completed stats
  local function run_backup(target, incremental, checkpoint)
    local from = #done + 1
    dom:backup_begin(backup_xml(target, incremental), checkpoint_xml(checkpoint), 0)
    local ev = S.wait_event(done, function(e)
      return e.name == NAME and e[1].operation == D.JOB_OPERATION_BACKUP
    end, 60, "job-completed for the backup", from)
    local jtype, stats = dom:get_job_stats(D.JOB_STATS_COMPLETED)
    assert.equals(D.JOB_COMPLETED, jtype)
    assert.equals(D.JOB_OPERATION_BACKUP, stats.operation)
    return ev[1], stats
  end

  local function checkpoint_names()
    local names = {}
    for _, c in ipairs(dom:list_all_checkpoints(0)) do names[#names + 1] = c:get_name() end
    table.sort(names)
    return names
  end

  it("takes a full backup with a checkpoint: a valid 16 MiB qcow2", function()
    local target = g.dir .. "/bk-full.qcow2"
    local params = run_backup(target, nil, "c1")
    assert.is_true(params.success)
    assert.equals(16 * 1024 * 1024, params.disk_total)
    assert.equals(params.disk_total, params.disk_processed)
    local info = S.qemu_img_info(target)
    assert.is_true(info.ok, info.text)
    assert.equals("qcow2", info.format)
    assert.equals(16 * 1024 * 1024, info.virtual_size)
    assert.same({ "c1" }, checkpoint_names())
  end)

  it("takes an incremental backup against the checkpoint", function()
    -- the guest writes 64 KiB every second: there is something new to copy
    con:wait("GUEST: tick", 15, con:mark())
    con:wait("GUEST: tick", 15, con:mark())
    local target = g.dir .. "/bk-inc.qcow2"
    local params = run_backup(target, "c1", "c2")
    assert.is_true(params.success)
    -- only what changed since c1
    assert.is_true(params.disk_total > 0 and params.disk_total < 16 * 1024 * 1024)
    local info = S.qemu_img_info(target)
    assert.is_true(info.ok, info.text)
    assert.equals("qcow2", info.format)
    assert.equals(16 * 1024 * 1024, info.virtual_size)
    assert.same({ "c1", "c2" }, checkpoint_names())
    local c2 = dom:get_checkpoint_by_name("c2")
    assert.matches("<name>c2</name>", c2:get_xml_description(0))
    local p = assert(io.popen("qemu-img check -U '" .. target .. "' 2>&1"))
    local out = p:read("a")
    assert.is_true(p:close(), out)
  end)
end)
