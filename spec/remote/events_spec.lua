-- Event callbacks over RPC, from a private libvirtd: networks, storage
-- pools, node devices and domains of its test driver, changed by another
-- connection, and secrets of its secret driver (the in-process test driver
-- has none).  Each event reaches a callback that records its arguments and
-- then raises, and a callback on a second connection: every error is
-- reported (virt.set_error_handler, with where it came from) and no event
-- is lost after one.  Delivery goes through lv_cb_deliver (host/object.c),
-- which pushes the arguments under lua_pcall.
local virt = require "virt"
local tb = require "spec.helpers.testbed"
local fx = require "spec.helpers.fixtures"
local ev = require "spec.helpers.events"

-- Two watcher connections to uri (a callback recording and raising on the
-- first, a quiet one on the second): spec/helpers/events.lua.  Returns what
-- the first got, the reports, and the first watcher, to close afterwards.
local function exercise(uri, family, id, count, act)
  local w1 = virt.new{ uri = uri }
  local got, errors = ev.exercise{ conn = w1, other_uri = uri, family = family, id = id,
                                   count = count, act = act }
  return got, errors, w1
end

describe("remote: event callbacks of every family", function()
  local d, actor, qactor

  setup(function()
    local ok, why = tb.check{ qemu = false }
    if not ok then error("remote tier cannot run: " .. why) end
    d = tb.daemon{ tcp = false }
    actor = virt.new{ uri = d.test_uri }
    qactor = virt.new{ uri = d.qemu_uri }
  end)

  teardown(function()
    if actor then pcall(actor.close, actor) end
    if qactor then pcall(qactor.close, qactor) end
    if d then d:stop() end
  end)

  it("networks", function()
    local N = virt.Network
    local got, errors, w1 = exercise(d.test_uri, "network", N.EVENT_ID_LIFECYCLE, 4, function()
      local net = actor:define_network([[<network><name>rnet</name><bridge name='br-rnet'/>
        <forward mode='nat'/><ip address='192.168.207.1' netmask='255.255.255.0'/></network>]])
      net:create()
      net:destroy()
      net:undefine()
    end)
    ev.check_args(got, w1, 4, "Network", "rnet",
                  { N.EVENT_DEFINED, N.EVENT_STARTED, N.EVENT_STOPPED, N.EVENT_UNDEFINED })
    ev.check_where(errors, "a network event callback")
    w1:close()
  end)

  it("storage pools: lifecycle and refresh", function()
    local P = virt.StoragePool
    local xml = "<pool type='dir'><name>rpool</name><target><path>/rpool</path></target></pool>"
    local got, errors, w1 = exercise(d.test_uri, "storage_pool", P.EVENT_ID_LIFECYCLE, 4, function()
      local pool = actor:define_storage_pool(xml)
      pool:create()
      pool:destroy()
      pool:undefine()
    end)
    ev.check_args(got, w1, 4, "StoragePool", "rpool",
                  { P.EVENT_DEFINED, P.EVENT_STARTED, P.EVENT_STOPPED, P.EVENT_UNDEFINED })
    ev.check_where(errors, "a storage pool event callback")
    w1:close()

    local pool = actor:define_storage_pool(xml)
    pool:create()
    got, errors, w1 = exercise(d.test_uri, "storage_pool", P.EVENT_ID_REFRESH, 2, function()
      pool:refresh()
      pool:refresh()
    end)
    pool:destroy()
    pool:undefine()
    ev.check_args(got, w1, 2, "StoragePool", "rpool")
    ev.check_where(errors, "a storage pool event callback")
    w1:close()
  end)

  it("node devices", function()
    local ND = virt.NodeDevice
    local name
    local got, errors, w1 = exercise(d.test_uri, "node_device", ND.EVENT_ID_LIFECYCLE, 2, function()
      local v = actor:create_node_device([[<device><parent>scsi_host1</parent>
        <capability type='scsi_host'><capability type='fc_host'><wwnn>2000000012341401</wwnn>
        <wwpn>1000000012341401</wwpn></capability></capability></device>]])
      name = v:get_name()
      v:destroy()
    end)
    ev.check_args(got, w1, 4, "NodeDevice", name, { ND.EVENT_CREATED, ND.EVENT_DELETED })
    ev.check_where(errors, "a node device event callback")
    w1:close()
  end)

  it("domains", function()
    local D = virt.Domain
    local got, errors, w1 = exercise(d.test_uri, "domain", D.EVENT_ID_LIFECYCLE, 4, function()
      local dom = actor:define_domain(fx.domain_xml("revdom"))
      dom:create()
      dom:destroy()
      dom:undefine()
    end)
    ev.check_args(got, w1, 4, "Domain", "revdom",
                  { D.EVENT_DEFINED, D.EVENT_STARTED, D.EVENT_STOPPED, D.EVENT_UNDEFINED },
                  { D.EVENT_DEFINED_ADDED, D.EVENT_STARTED_BOOTED, D.EVENT_STOPPED_DESTROYED,
                    D.EVENT_UNDEFINED_REMOVED })
    ev.check_where(errors, "a domain event callback")
    w1:close()
  end)

  it("secrets: lifecycle fn(conn, secret, event, detail) and value changed fn(conn, secret)", function()
    local S = virt.Secret
    local xml = [[<secret ephemeral='no' private='no'>
      <usage type='volume'><volume>/var/lib/revents.img</volume></usage></secret>]]
    local got, errors, w1 = exercise(d.qemu_uri, "secret", S.EVENT_ID_LIFECYCLE, 2, function()
      local s = qactor:define_secret(xml)
      s:undefine()
    end)
    for i, args in ipairs(got) do
      assert.equals(4, args.n)
      assert.is_true(rawequal(w1, args[1]))
      assert.equals("/var/lib/revents.img", args[2]:get_usage_id())
      assert.equals(({ S.EVENT_DEFINED, S.EVENT_UNDEFINED })[i], args[3])
      assert.equals(0, args[4])
    end
    ev.check_where(errors, "a secret event callback")
    w1:close()

    local s = qactor:define_secret(xml)
    got, errors, w1 = exercise(d.qemu_uri, "secret", S.EVENT_ID_VALUE_CHANGED, 2, function()
      s:set_value("one")
      s:set_value("two")
    end)
    s:undefine()
    for _, args in ipairs(got) do
      assert.equals(2, args.n)
      assert.is_true(rawequal(w1, args[1]))
      assert.equals(s:get_uuid_string(), args[2]:get_uuid_string())
    end
    ev.check_where(errors, "a secret event callback")
    w1:close()
  end)
end)
