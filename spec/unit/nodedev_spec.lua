-- virt.NodeDevice on the in-process test driver.
local virt = require "virt"
local ND = virt.NodeDevice

local function vhba_xml(n)
  return ([[<device><parent>scsi_host1</parent><capability type='scsi_host'>
<capability type='fc_host'><wwnn>20000000123412%02d</wwnn><wwpn>10000000123412%02d</wwpn></capability>
</capability></device>]]):format(n, n)
end

describe("virt.NodeDevice", function()
  local conn
  before_each(function() conn = virt.new("test:///default") end)
  after_each(function() conn:close() end)

  it("lists devices by capability", function()
    assert.equals(4, conn:num_of_node_devices(nil))
    assert.same({ "computer", "scsi_host1", "scsi_host11", "scsi_host2" }, (function()
      local t = conn:list_node_device_names(nil, 10)
      table.sort(t)
      return t
    end)())
    assert.equals(3, conn:num_of_node_devices("scsi_host"))
    assert.equals(3, #conn:list_all_node_devices(ND.LIST_CAP_SCSI_HOST))
    assert.equals(0, #conn:list_all_node_devices(ND.LIST_CAP_NET))
  end)

  it("has Sys::Virt's list_node_devices, with or without a capability", function()
    assert.equals(4, #conn:list_node_devices())
    local scsi = conn:list_node_devices("scsi_host")
    assert.equals(3, #scsi)
    for _, dev in ipairs(scsi) do assert.same({ "scsi_host" }, dev:list_capabilities()) end
  end)

  it("describes a device: parent, capabilities, XML", function()
    local dev = conn:get_node_device_by_name("scsi_host1")
    assert.equals("scsi_host1", dev:get_name())
    assert.equals("computer", dev:get_parent())
    assert.equals(1, dev:num_of_caps())
    assert.same({ "scsi_host" }, dev:list_capabilities())
    assert.matches("<name>scsi_host1</name>", dev:get_xml_description())
  end)

  it("raises for the root device's parent and unknown names", function()
    local ok, err = pcall(conn:get_node_device_by_name("computer").get_parent,
                          conn:get_node_device_by_name("computer"))
    assert.is_false(ok)
    assert.equals(virt.Error.ERR_INTERNAL_ERROR, err.code)
    ok, err = pcall(conn.get_node_device_by_name, conn, "nope")
    assert.is_false(ok)
    assert.equals(virt.Error.ERR_NO_NODE_DEVICE, err.code)
  end)

  it("creates and destroys a vHBA, with lifecycle events", function()
    local seen = {}
    local id = conn:node_device_event_register_any(nil, ND.EVENT_ID_LIFECYCLE, function(c, d, ev, detail)
      seen[#seen + 1] = { d:get_name(), ev, detail, c == conn }
    end)
    local v = conn:create_node_device(vhba_xml(1))
    assert.equals("scsi_host1", v:get_parent())
    local name = v:get_name()
    assert.equals(v, conn:get_node_device_by_name(name))
    v:destroy()
    virt.sleep(100)
    conn:node_device_event_deregister_any(id)
    assert.same({ name, ND.EVENT_CREATED, 0, true }, seen[1])
    assert.same({ name, ND.EVENT_DELETED, 0, true }, seen[2])
    local ok, err = pcall(conn.get_node_device_by_name, conn, name)
    assert.is_false(ok)
    assert.equals(virt.Error.ERR_NO_NODE_DEVICE, err.code)
  end)

  it("raises ERR_XML_DETAIL for bad XML", function()
    local ok, err = pcall(conn.create_node_device, conn, "<device>")
    assert.is_false(ok)
    assert.equals(virt.Error.ERR_XML_DETAIL, err.code)
  end)

  it("reports what the test driver lacks as ERR_NO_SUPPORT", function()
    local dev = conn:get_node_device_by_name("scsi_host1")
    for _, call in ipairs {
      function() return dev:is_active() end,
      function() return dev:is_persistent() end,
      function() return dev:get_autostart() end,
      function() return dev:dettach() end,
      function() return dev:reattach() end,
      function() return dev:reset() end,
      function() return conn:define_node_device("<device/>") end,
      function() return conn:get_node_device_scsihost_by_wwn("2000000012341234", "1000000012341234") end,
    } do
      local ok, err = pcall(call)
      assert.is_false(ok)
      assert.equals(virt.Error.ERR_NO_SUPPORT, err.code)
    end
  end)
end)
