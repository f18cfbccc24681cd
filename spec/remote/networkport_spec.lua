-- virt.NetworkPort: ports need a running virtual network, which the test
-- driver lacks and a plain private daemon cannot start (no dnsmasq or
-- firewall here).  A bridge-mode network needs neither: the daemon runs in
-- its own network namespace with a bridge made there.
local virt = require "virt"
local tb = require "spec.helpers.testbed"

local PORT_UUID = "aaaaaaaa-2222-3333-4444-555555555555"
local PORT_XML = ([[
<networkport>
  <uuid>%s</uuid>
  <owner><name>guest</name><uuid>11111111-2222-3333-4444-555555555555</uuid></owner>
  <mac address='52:54:00:11:22:33'/>
  <bandwidth><inbound average='1000'/></bandwidth>
</networkport>]]):format(PORT_UUID)

describe("remote: virt.NetworkPort", function()
  local nets, d, conn, net

  setup(function()
    local ok, why = tb.check{ qemu = false }
    if not ok then error("remote tier cannot run: " .. why) end
    nets = tb.netns()
    local ns = nets[1].name
    assert(os.execute(("ip netns exec %s ip link add lvbr0 type bridge"):format(ns)))
    assert(os.execute(("ip netns exec %s ip link set lvbr0 up"):format(ns)))
    d = tb.daemon{ netns = nets[1], tcp = false }
    conn = virt.new(d.qemu_uri)
    net = conn:define_network("<network><name>br</name><forward mode='bridge'/><bridge name='lvbr0'/></network>")
    net:create()
  end)

  teardown(function()
    if net then pcall(net.destroy, net); pcall(net.undefine, net) end
    if conn then pcall(conn.close, conn) end
    if d then d:stop() end
    if nets then nets.down() end
  end)

  it("creates a port, finds it by UUID in both forms, lists and deletes it", function()
    local port = net:create_port(PORT_XML)
    assert.equals(PORT_UUID, port:get_uuid_string())
    assert.equals("<NetworkPort " .. PORT_UUID .. ">", tostring(port))
    assert.equals(port, net:get_port_by_uuid(PORT_UUID))
    assert.equals(port, net:get_port_by_uuid(port:get_uuid()))
    assert.equals(1, #net:list_all_ports())
    assert.equals(port, net:list_all_ports()[1])
    assert.matches("<mac address='52:54:00:11:22:33'/>", port:get_xml_description())
    assert.equals(net, port:get_network())
    port:delete()
    local ok, err = pcall(net.get_port_by_uuid, net, PORT_UUID)
    assert.is_false(ok)
    assert.equals(virt.Error.ERR_NO_NETWORK_PORT, err.code)
  end)

  it("round-trips bandwidth parameters, types from the getter", function()
    local port = net:create_port(PORT_XML)
    local p = port:get_parameters()
    assert.equals(1000, p[virt.NetworkPort.BANDWIDTH_IN_AVERAGE])
    port:set_parameters{ [virt.NetworkPort.BANDWIDTH_IN_AVERAGE] = 2000 }
    assert.equals(2000, port:get_parameters()[virt.NetworkPort.BANDWIDTH_IN_AVERAGE])
    assert.matches("average='2000'", port:get_xml_description())
    local ok, err = pcall(port.set_parameters, port, { ["inbound.avg"] = 1 })
    assert.is_false(ok)
    assert.matches("unknown parameter 'inbound.avg'", err.message)
    port:delete()
  end)

  it("refuses a port without a UUID and a duplicate one", function()
    local ok, err = pcall(net.create_port, net, "<networkport><owner><name>g</name></owner></networkport>")
    assert.is_false(ok)
    local port = net:create_port(PORT_XML)
    ok, err = pcall(net.create_port, net, PORT_XML)
    assert.is_false(ok)
    assert.is_number(err.code)
    port:delete()
  end)
end)
