-- Whatever a script passes, no call crashes: every method of every class
-- (generated or hand-written) called on test:///default objects with wrong
-- types, huge and negative numbers, freed objects and objects of the wrong
-- class either works or raises a Lua error or a virt.Error.
local virt = require "virt"
local fx = require "spec.helpers.fixtures"

-- A private test driver (a node file is per connection, unlike
-- test:///default): the hammering cannot disturb other specs.
local NODE = [[
<node>
  <cpu><mhz>2000</mhz><model>i686</model><active>8</active><nodes>2</nodes><sockets>2</sockets><cores>2</cores><threads>2</threads></cpu>
  <memory>8192000</memory>
  <domain type='test'>
    <name>rb</name>
    <memory>131072</memory>
    <vcpu>2</vcpu>
    <os><type>hvm</type></os>
    <devices>
      <disk type='file' device='disk'><source file='/rb.img'/><target dev='vda' bus='virtio'/></disk>
      <interface type='network'><mac address='aa:bb:cc:dd:ee:01'/><source network='rbnet'/><target dev='rbnet0'/></interface>
    </devices>
  </domain>
  <network>
    <name>rbnet</name>
    <bridge name='rbbr0'/>
    <ip address='192.168.233.1' netmask='255.255.255.0'/>
  </network>
  <interface type="ethernet" name="rbeth0">
    <start mode="onboot"/>
    <mac address="aa:bb:cc:dd:ee:02"/>
  </interface>
  <pool type='dir'>
    <name>rbpool</name>
    <target><path>/rbpool</path></target>
    <volume><name>rb.img</name><capacity>1024</capacity></volume>
  </pool>
  <device>
    <name>rbdev</name>
    <capability type='scsi_host'><host>7</host><unique_id>7</unique_id></capability>
  </device>
</node>
]]

-- Calls that would act on this process or host rather than on libvirt
-- objects (entering namespaces or cgroups), and those the test driver
-- answers by writing a file named by the argument (a number becomes
-- "0.5" in the current directory), are left out.
local SKIP = { lxc_enter_namespace = true, lxc_enter_security_label = true,
               lxc_enter_cgroup = true, save = true, core_dump = true,
               core_dump_format = true }
-- Called last: they end the object's life.
local LAST = { free = true, close = true, undefine = true, destroy = true,
               delete = true, reset = true }

local function garbage(conn)
  return {
    {}, { nil }, { -1 }, { math.mininteger }, { math.maxinteger }, { 2.0 ^ 63 }, { 0.5 },
    { "x" }, { ("x"):rep(5000) }, { {} }, { { "a", 1, {} } }, { conn }, { print },
    { "x", -1, {}, 1.5 }, { 1, "x", conn, 2 }, { nil, nil, nil, nil, -7 },
  }
end

local function methods_of(class)
  local names = {}
  for k, v in pairs(class) do
    if type(v) == "function" and not k:find("^_") and not SKIP[k] then names[#names + 1] = k end
  end
  table.sort(names, function(a, b)
    if (LAST[a] or false) ~= (LAST[b] or false) then return not LAST[a] end
    return a < b
  end)
  return names
end

local function hammer(obj, class, conn)
  local calls = 0
  for _, m in ipairs(methods_of(class)) do
    for _, args in ipairs(garbage(conn)) do
      local ok, err = pcall(class[m], obj, table.unpack(args, 1, 5))
      calls = calls + 1
      if not ok then
        -- a virt.Error or a Lua error message: never anything else
        assert(type(err) == "string" or virt.Error.is(err),
          ("%s:%s raised a %s"):format(tostring(obj), m, type(err)))
      end
    end
  end
  return calls
end

describe("robustness", function()
  local dir
  setup(function() dir = fx.tmpdir() end)
  teardown(function() os.execute("rm -rf " .. dir) end)

  it("survives garbage passed to every method of every class", function()
    local conn = virt.new("test://" .. fx.write(dir .. "/node.xml", NODE))
    local dom = conn:get_domain_by_name("rb")
    local pool = conn:get_storage_pool_by_name("rbpool")
    local vol = pool:get_volume_by_name("rb.img")
    -- the test driver keeps checkpoints and snapshots apart: the checkpoint
    -- is hammered (and deleted) before the snapshot is made
    local ck = dom:create_checkpoint("<domaincheckpoint><name>rc</name></domaincheckpoint>")
    local calls = hammer(ck, virt.DomainCheckpoint, conn)
    for _, c in ipairs(dom:list_all_checkpoints()) do c:delete() end
    local objs = {
      { ck, virt.DomainCheckpoint },
      { dom:create_snapshot("<domainsnapshot><name>rs</name></domainsnapshot>"), virt.DomainSnapshot },
      { vol, virt.StorageVol },
      { conn:get_network_by_name("rbnet"), virt.Network },
      { conn:get_interface_by_name("rbeth0"), virt.Interface },
      { conn:get_node_device_by_name("rbdev"), virt.NodeDevice },
      { pool, virt.StoragePool },
      { dom, virt.Domain },
    }
    for i = 2, #objs do calls = calls + hammer(objs[i][1], objs[i][2], conn) end
    -- every method on an object of the wrong class, and on a freed one
    for _, o in ipairs(objs) do
      for _, m in ipairs(methods_of(o[2])) do
        local ok, err = pcall(o[2][m], conn)
        assert.is_false(ok)
        assert.is_string(err)
        ok = pcall(o[2][m], o[1])   -- freed by the hammering: an error, not a crash
        calls = calls + 2
      end
    end
    calls = calls + hammer(conn, virt.Virt, conn)
    assert.is_true(calls > 5000)
    pcall(conn.close, conn)
  end)
end)
