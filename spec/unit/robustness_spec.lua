-- Whatever a script passes, no call crashes: every method of every class
-- (generated or hand-written) called on test:///default objects with wrong
-- types, huge and negative numbers, freed objects and objects of the wrong
-- class either works or raises a Lua error or a virt.Error.
local virt = require "virt"

-- Calls that would act on this process or host rather than on libvirt
-- objects (entering namespaces or cgroups) are left out.
local SKIP = { lxc_enter_namespace = true, lxc_enter_security_label = true,
               lxc_enter_cgroup = true }
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
  it("survives garbage passed to every method of every class", function()
    local conn = virt.new("test:///default")
    local dom = conn:get_domain_by_name("test")
    local pool = conn:get_storage_pool_by_name("default-pool")
    local vol = pool:create_volume("<volume><name>r.img</name><capacity>512</capacity></volume>")
    local objs = {
      { dom:create_snapshot("<domainsnapshot><name>rs</name></domainsnapshot>"), virt.DomainSnapshot },
      { vol, virt.StorageVol },
      { conn:get_network_by_name("default"), virt.Network },
      { conn:get_interface_by_name("eth1"), virt.Interface },
      { conn:get_node_device_by_name("scsi_host1"), virt.NodeDevice },
      { pool, virt.StoragePool },
      { dom, virt.Domain },
    }
    local calls = 0
    for _, o in ipairs(objs) do calls = calls + hammer(o[1], o[2], conn) end
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
