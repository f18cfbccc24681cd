-- virt.Secret, virt.NWFilter and virt.NWFilterBinding: the in-process test
-- driver has none of them, so they run against a private libvirtd through
-- its qemu:///system connection (the daemon's own secret and nwfilter
-- drivers; no guest is started).
local virt = require "virt"
local tb = require "spec.helpers.testbed"
local S = virt.Secret

local function secret_xml(path, uuid)
  return ([[
<secret ephemeral='no' private='no'>%s
  <description>disk key</description>
  <usage type='volume'><volume>%s</volume></usage>
</secret>]]):format(uuid and ("<uuid>" .. uuid .. "</uuid>") or "", path)
end

local filter_xml = [[
<filter name='lv-allow-tcp' chain='ipv4'>
  <rule action='accept' direction='out' priority='500'><tcp/></rule>
</filter>]]

local function binding_xml(dev, filter)
  return ([[
<filterbinding>
  <owner><name>guest</name><uuid>11111111-2222-3333-4444-555555555555</uuid></owner>
  <portdev name='%s'/>
  <mac address='52:54:00:11:22:33'/>
  <filterref filter='%s'/>
</filterbinding>]]):format(dev, filter)
end

describe("remote: secrets and network filters", function()
  local d, conn

  setup(function()
    local ok, why = tb.check{ qemu = false }
    if not ok then error("remote tier cannot run: " .. why) end
    d = tb.daemon{ tcp = false }
    conn = virt.new(d.qemu_uri)
  end)

  teardown(function()
    if conn then pcall(conn.close, conn) end
    if d then d:stop() end
  end)

  describe("virt.Secret", function()
    it("defines, looks up by UUID and usage, sets and gets the value, undefines", function()
      local uuid = "4a200cfa-4b18-4def-82e1-5ef0b63ca0fd"
      local s = conn:define_secret(secret_xml("/var/lib/disk1.img", uuid))
      assert.equals(uuid, s:get_uuid_string())
      assert.equals(16, #s:get_uuid())
      assert.equals(S.USAGE_TYPE_VOLUME, s:get_usage_type())
      assert.equals("/var/lib/disk1.img", s:get_usage_id())
      assert.equals(s, conn:get_secret_by_uuid(uuid))
      assert.equals(s, conn:get_secret_by_uuid(s:get_uuid()))
      assert.equals(s, conn:get_secret_by_usage(S.USAGE_TYPE_VOLUME, "/var/lib/disk1.img"))
      assert.matches("<description>disk key</description>", s:get_xml_description())
      s:set_value("hunter2\0binary\255")
      assert.equals("hunter2\0binary\255", s:get_value())
      assert.equals(1, conn:num_of_secrets())
      assert.same({ uuid }, conn:list_secret_uuids(4))
      assert.equals(1, #conn:list_all_secrets(S.LIST_NO_EPHEMERAL))
      assert.equals(0, #conn:list_all_secrets(S.LIST_EPHEMERAL))
      s:undefine()
      local ok, err = pcall(conn.get_secret_by_uuid, conn, uuid)
      assert.is_false(ok)
      assert.equals(virt.Error.ERR_NO_SECRET, err.code)
    end)

    it("has Sys::Virt's list_secrets", function()
      local s = conn:define_secret(secret_xml("/var/lib/disk4.img"))
      local list = conn:list_secrets()
      assert.equals(1, #list)
      assert.equals(s, list[1])
      s:undefine()
      assert.same({}, conn:list_secrets())
    end)

    it("reports a secret without a value and bad XML with libvirt's codes", function()
      local s = conn:define_secret(secret_xml("/var/lib/disk2.img"))
      local ok, err = pcall(s.get_value, s)
      assert.is_false(ok)
      assert.equals(virt.Error.ERR_NO_SECRET, err.code)
      s:undefine()
      ok, err = pcall(conn.define_secret, conn, "<secret>")
      assert.is_false(ok)
      assert.equals(virt.Error.ERR_XML_DETAIL, err.code)
      ok, err = pcall(conn.get_secret_by_uuid, conn, "not-a-uuid")
      assert.is_false(ok)
      assert.equals(virt.Error.ERR_INVALID_ARG, err.code)
    end)

    it("delivers lifecycle and value-changed events", function()
      local seen = {}
      local id1 = conn:secret_event_register_any(nil, S.EVENT_ID_LIFECYCLE, function(c, sec, ev, detail)
        seen[#seen + 1] = { "life", sec:get_usage_id(), ev, detail, c == conn }
      end)
      local id2 = conn:secret_event_register_any(nil, S.EVENT_ID_VALUE_CHANGED, function(c, sec)
        seen[#seen + 1] = { "value", sec:get_usage_id(), c == conn }
      end)
      local s = conn:define_secret(secret_xml("/var/lib/disk3.img"))
      s:set_value("x")
      s:undefine()
      for _ = 1, 40 do
        if #seen >= 3 then break end
        virt.sleep(50)
      end
      conn:secret_event_deregister_any(id1)
      conn:secret_event_deregister_any(id2)
      assert.same({ "life", "/var/lib/disk3.img", S.EVENT_DEFINED, 0, true }, seen[1])
      assert.same({ "value", "/var/lib/disk3.img", true }, seen[2])
      assert.same({ "life", "/var/lib/disk3.img", S.EVENT_UNDEFINED, 0, true }, seen[3])
    end)
  end)

  describe("virt.NWFilter and virt.NWFilterBinding", function()
    it("defines a filter, looks it up, round-trips its XML and undefines it", function()
      local f = conn:define_nwfilter(filter_xml)
      assert.equals("lv-allow-tcp", f:get_name())
      assert.equals(f, conn:get_nwfilter_by_name("lv-allow-tcp"))
      assert.equals(f, conn:get_nwfilter_by_uuid(f:get_uuid_string()))
      assert.equals(f, conn:get_nwfilter_by_uuid(f:get_uuid()))
      local xml = f:get_xml_description()
      assert.matches("chain='ipv4'", xml)
      assert.is_true(conn:num_of_nwfilters() >= 1)
      local found = false
      for _, n in ipairs(conn:list_nwfilter_names(conn:num_of_nwfilters())) do
        if n == "lv-allow-tcp" then found = true end
      end
      assert.is_true(found)
      assert.equals(conn:num_of_nwfilters(), #conn:list_all_nwfilters())
      assert.equals(f:get_uuid_string(), conn:define_nwfilter(xml):get_uuid_string())
      f:undefine()
      local ok, err = pcall(conn.get_nwfilter_by_name, conn, "lv-allow-tcp")
      assert.is_false(ok)
      assert.equals(virt.Error.ERR_NO_NWFILTER, err.code)
    end)

    it("has Sys::Virt's list_nwfilters", function()
      local f = conn:define_nwfilter(filter_xml)
      local found
      for _, x in ipairs(conn:list_nwfilters()) do if x == f then found = true end end
      assert.is_true(found)
      f:undefine()
    end)

    it("binds a filter to a port and deletes the binding", function()
      local f = conn:define_nwfilter(filter_xml)
      local b = conn:create_nwfilter_binding(binding_xml("vnet91", "lv-allow-tcp"))
      assert.equals("vnet91", b:get_port_dev())
      assert.equals("lv-allow-tcp", b:get_filter_name())
      assert.matches("<portdev name='vnet91'/>", b:get_xml_description())
      assert.equals(b, conn:get_nwfilter_binding_by_port_dev("vnet91"))
      assert.equals(1, #conn:list_all_nwfilter_bindings())
      b:delete()
      local ok, err = pcall(conn.get_nwfilter_binding_by_port_dev, conn, "vnet91")
      assert.is_false(ok)
      assert.equals(virt.Error.ERR_NO_NWFILTER_BINDING, err.code)
      f:undefine()
    end)

    it("raises libvirt's codes for bad filter XML", function()
      local ok, err = pcall(conn.define_nwfilter, conn, "<filter name='x'")
      assert.is_false(ok)
      assert.equals(virt.Error.ERR_XML_DETAIL, err.code)
    end)
  end)
end)
