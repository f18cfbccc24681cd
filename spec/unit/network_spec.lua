-- virt.Network on the in-process test driver.
local virt = require "virt"
local N = virt.Network

local function net_xml(name, uuid, bridge)
  return ([[
<network>
  <name>%s</name>%s
  <bridge name='%s'/>
  <forward mode='nat'/>
  <ip address='192.168.%d.1' netmask='255.255.255.0'>
    <dhcp><range start='192.168.%d.2' end='192.168.%d.254'/></dhcp>
  </ip>
</network>]]):format(name, uuid and ("\n  <uuid>" .. uuid .. "</uuid>") or "", bridge or ("br-" .. name),
    200, 200, 200)
end

local names = require("spec.helpers.fixtures").names

describe("virt.Network", function()
  local conn
  before_each(function() conn = virt.new("test:///default") end)
  after_each(function() conn:close() end)

  it("lists the test driver's default network", function()
    local nets = conn:list_all_networks()
    assert.equals("default", names(nets))
    assert.is_true(nets[1]:is_active())
    assert.equals(1, conn:num_of_networks())
    assert.same({ "default" }, conn:list_network_names(10))
    assert.equals(0, conn:num_of_defined_networks())
  end)

  it("has Sys::Virt's list_networks and list_defined_networks", function()
    local net = conn:define_network(net_xml("lan9"))
    assert.equals("default", names(conn:list_networks()))
    assert.equals("lan9", names(conn:list_defined_networks()))
    net:undefine()
    assert.same({}, conn:list_defined_networks())
  end)

  it("defines, starts, stops and undefines a persistent network", function()
    local net = conn:define_network(net_xml("lan1"))
    assert.equals("lan1", net:get_name())
    assert.is_false(net:is_active())
    assert.is_true(net:is_persistent())
    assert.same({ "lan1" }, conn:list_defined_network_names(10))
    net:create()
    assert.is_true(net:is_active())
    assert.equals("br-lan1", net:get_bridge_name())
    net:destroy()
    assert.is_false(net:is_active())
    net:undefine()
    local ok, err = pcall(conn.get_network_by_name, conn, "lan1")
    assert.is_false(ok)
    assert.equals(virt.Error.ERR_NO_NETWORK, err.code)
  end)

  it("creates a transient network that disappears when destroyed", function()
    local net = conn:create_network(net_xml("tmp1"))
    assert.is_true(net:is_active())
    assert.is_false(net:is_persistent())
    net:destroy()
    assert.has_error(function() conn:get_network_by_name("tmp1") end)
  end)

  it("looks networks up by name and by UUID in both forms", function()
    local uuid = "9a4f6e50-3b2c-4d8e-8f1a-2b3c4d5e6f70"
    local net = conn:define_network(net_xml("lan2", uuid))
    assert.equals(uuid, net:get_uuid_string())
    local raw = net:get_uuid()
    assert.equals(16, #raw)
    assert.equals("lan2", conn:get_network_by_uuid(uuid):get_name())
    assert.equals("lan2", conn:get_network_by_uuid(raw):get_name())
    assert.equals(net, conn:get_network_by_name("lan2"))   -- __eq on identity
    net:undefine()
  end)

  it("round-trips its XML", function()
    local net = conn:define_network(net_xml("lan3"))
    local xml = net:get_xml_description()
    assert.matches("<name>lan3</name>", xml)
    assert.matches("192.168.200.1", xml)
    net:undefine()
    local again = conn:define_network(xml)
    assert.equals(xml, again:get_xml_description())
    again:undefine()
  end)

  it("filters lists with LIST_* flags", function()
    local net = conn:define_network(net_xml("lan4"))
    assert.equals("default", names(conn:list_all_networks(N.LIST_ACTIVE)))
    assert.equals("lan4", names(conn:list_all_networks(N.LIST_INACTIVE)))
    assert.equals("default lan4", names(conn:list_all_networks(N.LIST_PERSISTENT)))
    assert.equals("", names(conn:list_all_networks(N.LIST_TRANSIENT)))
    net:set_autostart(true)
    assert.is_true(net:get_autostart())
    assert.equals("lan4", names(conn:list_all_networks(N.LIST_AUTOSTART)))
    net:set_autostart(false)
    assert.is_false(net:get_autostart())
    net:undefine()
  end)

  it("updates a section of a running network", function()
    local net = conn:get_network_by_name("default")
    net:update(N.UPDATE_COMMAND_ADD_LAST, N.SECTION_IP_DHCP_HOST, -1,
      "<host mac='00:16:3e:77:e2:ed' name='foo' ip='192.168.122.10'/>", N.UPDATE_AFFECT_LIVE)
    assert.matches("00:16:3e:77:e2:ed", net:get_xml_description())
  end)

  it("raises libvirt's codes for bad XML and for a second network of the same name", function()
    local ok, err = pcall(conn.define_network, conn, "<network><name>x")
    assert.is_false(ok)
    assert.equals(virt.Error.ERR_XML_DETAIL, err.code)          -- not well-formed
    ok, err = pcall(conn.define_network, conn, "<network/>")
    assert.equals(virt.Error.ERR_NO_NAME, err.code)             -- well-formed, no name
    ok, err = pcall(conn.define_network, conn, "<network><name>a</name><forward mode='bogus'/></network>")
    assert.equals(virt.Error.ERR_CONFIG_UNSUPPORTED, err.code)
    ok, err = pcall(conn.create_network, conn, net_xml("default"))
    assert.is_false(ok)
    assert.equals(virt.Error.ERR_OPERATION_FAILED, err.code)
    assert.matches("default", err.message)
  end)

  it("reports what the test driver lacks as ERR_NO_SUPPORT", function()
    local net = conn:get_network_by_name("default")
    for _, call in ipairs {
      function() return net:get_dhcp_leases() end,
      function() return net:list_all_ports() end,
    } do
      local ok, err = pcall(call)
      assert.is_false(ok)
      assert.equals(virt.Error.ERR_NO_SUPPORT, err.code)
    end
  end)

  it("gives its connection back and reads as freed after free()", function()
    local net = conn:get_network_by_name("default")
    assert.equals(conn, net:get_connection())
    net:free()
    assert.matches("freed", tostring(net))
    assert.has_error(function() net:get_name() end, "attempt to use a freed Network")
  end)

  it("delivers lifecycle events with Sys::Virt's arguments until deregistered", function()
    local seen = {}
    local id = conn:network_event_register_any(nil, N.EVENT_ID_LIFECYCLE, function(c, net, event, detail)
      seen[#seen + 1] = { c = c, name = net:get_name(), event = event, detail = detail }
    end)
    assert.is_number(id)
    local net = conn:define_network(net_xml("ev1"))
    net:create()
    virt.sleep(100)
    assert.is_true(#seen >= 2)
    assert.equals(conn, seen[1].c)
    assert.equals("ev1", seen[1].name)
    assert.equals(N.EVENT_DEFINED, seen[1].event)
    assert.equals(N.EVENT_STARTED, seen[2].event)
    conn:network_event_deregister_any(id)
    local before = #seen
    net:destroy()
    net:undefine()
    virt.sleep(100)
    assert.equals(before, #seen)
  end)

  it("rejects an unknown event id and a bad callback id", function()
    assert.has_error(function() conn:network_event_register_any(nil, 999, print) end)
    local ok, err = pcall(conn.network_event_deregister_any, conn, 12345)
    assert.is_false(ok)
    assert.equals(virt.Error.ERR_INVALID_ARG, err.code)
  end)

  it("survives wrong argument types with Lua errors", function()
    local net = conn:get_network_by_name("default")
    assert.has_error(function() conn:get_network_by_name(nil) end)
    assert.has_error(function() conn:get_network_by_uuid({}) end)
    assert.has_error(function() net:set_autostart() end)
    assert.has_error(function() net:get_xml_description(-1) end)
    assert.has_error(function() net.get_name(conn) end)
    assert.has_error(function() conn:list_network_names(-5) end)
  end)
end)
