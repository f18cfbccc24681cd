-- Event callbacks over RPC, from a private libvirtd: networks, storage
-- pools, node devices and domains of its test driver, changed by another
-- connection, and secrets of its secret driver (the in-process test driver
-- has none).  Each event reaches a callback that records its arguments and
-- then raises, and a callback on a second connection: every error is
-- reported (virt.set_error_handler, with where it came from) and no event
-- is lost after one.  Delivery goes through lv_cb_deliver (host/object.c),
-- which pushes the arguments under lua_pcall.
local virt = require "virt"
local uv = require "luv"
local tb = require "spec.helpers.testbed"
local fx = require "spec.helpers.fixtures"

local function wait_for(cond, what)
  local deadline = uv.now() + 5000
  while not cond() do
    if uv.now() > deadline then error("timed out waiting for " .. what, 2) end
    virt.sleep(10)
  end
end

-- Two watcher connections to uri: on the first a callback that records its
-- arguments and raises, on the second one that counts.  act() is run, then
-- `count` deliveries awaited on both.
local function exercise(uri, family, id, count, act)
  local w1, w2 = virt.new{ uri = uri }, virt.new{ uri = uri }
  local got, errors, also = {}, {}, 0
  virt.set_error_handler(function(msg, where) errors[#errors + 1] = { msg = msg, where = where } end)
  local ok, err = pcall(function()
    local id1 = w1[family .. "_event_register_any"](w1, nil, id, function(...)
      got[#got + 1] = table.pack(...)
      error("deliberate failure #" .. #got)
    end)
    local id2 = w2[family .. "_event_register_any"](w2, nil, id, function() also = also + 1 end)
    act()
    wait_for(function() return #got >= count and also >= count end, count .. " " .. family .. " events")
    virt.sleep(50)   -- nothing more should come
    w1[family .. "_event_deregister_any"](w1, id1)
    w2[family .. "_event_deregister_any"](w2, id2)
  end)
  virt.set_error_handler(nil)
  assert(ok, err)
  assert.equals(count, #got)
  assert.equals(count, also)
  assert.equals(count, #errors)
  for i, e in ipairs(errors) do
    assert.matches("deliberate failure #" .. i, e.msg, 1, true)
    assert.matches("stack traceback", e.msg, 1, true)
  end
  return got, errors, w1, function() w1:close() w2:close() end
end

-- Every delivery: fn(w1, obj, ...) with n arguments in all, obj of class
-- label named name (on w1, when it can say), and the given event numbers
-- with their details (0 unless given).
local function check_args(got, w1, n, label, name, events, details)
  for i, args in ipairs(got) do
    assert.equals(n, args.n)
    assert.is_true(rawequal(w1, args[1]))
    assert.equals("virt." .. label, getmetatable(args[2]).__name)
    assert.equals(name, args[2]:get_name())
    if args[2].get_connection then assert.equals(w1, args[2]:get_connection()) end
    if events then
      assert.equals(events[i], args[3])
      assert.equals(details and details[i] or 0, args[4])
    end
  end
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
    local got, errors, w1, close = exercise(d.test_uri, "network", N.EVENT_ID_LIFECYCLE, 4, function()
      local net = actor:define_network([[<network><name>rnet</name><bridge name='br-rnet'/>
        <forward mode='nat'/><ip address='192.168.207.1' netmask='255.255.255.0'/></network>]])
      net:create()
      net:destroy()
      net:undefine()
    end)
    check_args(got, w1, 4, "Network", "rnet",
               { N.EVENT_DEFINED, N.EVENT_STARTED, N.EVENT_STOPPED, N.EVENT_UNDEFINED })
    for _, e in ipairs(errors) do assert.equals("a network event callback", e.where) end
    close()
  end)

  it("storage pools: lifecycle and refresh", function()
    local P = virt.StoragePool
    local xml = "<pool type='dir'><name>rpool</name><target><path>/rpool</path></target></pool>"
    local got, errors, w1, close = exercise(d.test_uri, "storage_pool", P.EVENT_ID_LIFECYCLE, 4, function()
      local pool = actor:define_storage_pool(xml)
      pool:create()
      pool:destroy()
      pool:undefine()
    end)
    check_args(got, w1, 4, "StoragePool", "rpool",
               { P.EVENT_DEFINED, P.EVENT_STARTED, P.EVENT_STOPPED, P.EVENT_UNDEFINED })
    for _, e in ipairs(errors) do assert.equals("a storage pool event callback", e.where) end
    close()

    local pool = actor:define_storage_pool(xml)
    pool:create()
    got, errors, w1, close = exercise(d.test_uri, "storage_pool", P.EVENT_ID_REFRESH, 2, function()
      pool:refresh()
      pool:refresh()
    end)
    pool:destroy()
    pool:undefine()
    check_args(got, w1, 2, "StoragePool", "rpool")
    for _, e in ipairs(errors) do assert.equals("a storage pool event callback", e.where) end
    close()
  end)

  it("node devices", function()
    local ND = virt.NodeDevice
    local name
    local got, errors, w1, close = exercise(d.test_uri, "node_device", ND.EVENT_ID_LIFECYCLE, 2, function()
      local v = actor:create_node_device([[<device><parent>scsi_host1</parent>
        <capability type='scsi_host'><capability type='fc_host'><wwnn>2000000012341401</wwnn>
        <wwpn>1000000012341401</wwpn></capability></capability></device>]])
      name = v:get_name()
      v:destroy()
    end)
    check_args(got, w1, 4, "NodeDevice", name, { ND.EVENT_CREATED, ND.EVENT_DELETED })
    for _, e in ipairs(errors) do assert.equals("a node device event callback", e.where) end
    close()
  end)

  it("domains", function()
    local D = virt.Domain
    local got, errors, w1, close = exercise(d.test_uri, "domain", D.EVENT_ID_LIFECYCLE, 4, function()
      local dom = actor:define_domain(fx.domain_xml("revdom"))
      dom:create()
      dom:destroy()
      dom:undefine()
    end)
    check_args(got, w1, 4, "Domain", "revdom",
               { D.EVENT_DEFINED, D.EVENT_STARTED, D.EVENT_STOPPED, D.EVENT_UNDEFINED },
               { D.EVENT_DEFINED_ADDED, D.EVENT_STARTED_BOOTED, D.EVENT_STOPPED_DESTROYED,
                 D.EVENT_UNDEFINED_REMOVED })
    for _, e in ipairs(errors) do assert.equals("a domain event callback", e.where) end
    close()
  end)

  it("secrets: lifecycle fn(conn, secret, event, detail) and value changed fn(conn, secret)", function()
    local S = virt.Secret
    local xml = [[<secret ephemeral='no' private='no'>
      <usage type='volume'><volume>/var/lib/revents.img</volume></usage></secret>]]
    local got, errors, w1, close = exercise(d.qemu_uri, "secret", S.EVENT_ID_LIFECYCLE, 2, function()
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
    for _, e in ipairs(errors) do assert.equals("a secret event callback", e.where) end
    close()

    local s = qactor:define_secret(xml)
    got, errors, w1, close = exercise(d.qemu_uri, "secret", S.EVENT_ID_VALUE_CHANGED, 2, function()
      s:set_value("one")
      s:set_value("two")
    end)
    s:undefine()
    for _, args in ipairs(got) do
      assert.equals(2, args.n)
      assert.is_true(rawequal(w1, args[1]))
      assert.equals(s:get_uuid_string(), args[2]:get_uuid_string())
    end
    for _, e in ipairs(errors) do assert.equals("a secret event callback", e.where) end
    close()
  end)
end)
