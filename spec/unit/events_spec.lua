-- Event callbacks of every family the in-process test driver emits
-- (domains, networks, storage pools, node devices) and virt.Event's own:
-- the arguments arrive as Sys::Virt passes them, and a callback that raises
-- has its error reported (virt.set_error_handler, with where it came from)
-- while the other callbacks of the same event and every later event are
-- still delivered.  All of them go through one protected path
-- (lv_cb_deliver in host/object.c); spec/remote/events_spec.lua does the
-- same over RPC and for secrets.
local virt = require "virt"
local uv = require "luv"
local fx = require "spec.helpers.fixtures"
local ev = require "spec.helpers.events"
local wait_for = ev.wait_for

local function net_xml(name)
  return ([[
<network>
  <name>%s</name>
  <bridge name='br-%s'/>
  <forward mode='nat'/>
  <ip address='192.168.203.1' netmask='255.255.255.0'/>
</network>]]):format(name, name)
end

local function pool_xml(name)
  return ("<pool type='dir'><name>%s</name><target><path>/%s</path></target></pool>"):format(name, name)
end

local function vhba_xml(n)
  return ([[<device><parent>scsi_host1</parent><capability type='scsi_host'>
<capability type='fc_host'><wwnn>20000000123413%02d</wwnn><wwpn>10000000123413%02d</wwpn></capability>
</capability></device>]]):format(n, n)
end

local DEFAULT = "test:///default"   -- connections to it share one driver

describe("event callbacks (test:///default)", function()
  local conn
  before_each(function() conn = virt.new(DEFAULT) end)
  after_each(function() conn:close() end)

  local function exercise(family, id, obj, count, act)
    return ev.exercise{ conn = conn, other_uri = DEFAULT, family = family, id = id, obj = obj,
                        count = count, act = act }
  end

  it("networks: fn(conn, net, event, detail), and a raising callback stops nothing", function()
    local N = virt.Network
    local net
    local got, errors = exercise("network", N.EVENT_ID_LIFECYCLE, nil, 4, function()
      net = conn:define_network(net_xml("evnet"))
      net:create()
      net:destroy()
      net:undefine()
    end)
    ev.check_args(got, conn, 4, "Network", "evnet",
                  { N.EVENT_DEFINED, N.EVENT_STARTED, N.EVENT_STOPPED, N.EVENT_UNDEFINED })
    for _, args in ipairs(got) do assert.equals(net, args[2]) end
    ev.check_where(errors, "a network event callback")
  end)

  it("networks: a callback for one network sees only its events", function()
    local N = virt.Network
    local mine = conn:define_network(net_xml("evmine"))
    local got = exercise("network", N.EVENT_ID_LIFECYCLE, mine, 2, function()
      local other = conn:define_network(net_xml("evother"))
      other:create()
      mine:create()
      other:destroy()
      mine:destroy()
      other:undefine()
    end)
    mine:undefine()
    ev.check_args(got, conn, 4, "Network", "evmine", { N.EVENT_STARTED, N.EVENT_STOPPED })
  end)

  it("storage pools: lifecycle fn(conn, pool, event, detail) and refresh fn(conn, pool)", function()
    local P = virt.StoragePool
    local got, errors = exercise("storage_pool", P.EVENT_ID_LIFECYCLE, nil, 4, function()
      local pool = conn:define_storage_pool(pool_xml("evpool"))
      pool:create()
      pool:destroy()
      pool:undefine()
    end)
    ev.check_args(got, conn, 4, "StoragePool", "evpool",
                  { P.EVENT_DEFINED, P.EVENT_STARTED, P.EVENT_STOPPED, P.EVENT_UNDEFINED })
    ev.check_where(errors, "a storage pool event callback")

    local pool = conn:define_storage_pool(pool_xml("evpool2"))
    pool:create()
    got, errors = exercise("storage_pool", P.EVENT_ID_REFRESH, pool, 2, function()
      pool:refresh()
      pool:refresh()
    end)
    pool:destroy()
    pool:undefine()
    ev.check_args(got, conn, 2, "StoragePool", "evpool2")
    for _, args in ipairs(got) do assert.equals(pool, args[2]) end
    ev.check_where(errors, "a storage pool event callback")
  end)

  it("node devices: fn(conn, dev, event, detail)", function()
    local ND = virt.NodeDevice
    local name
    local got, errors = exercise("node_device", ND.EVENT_ID_LIFECYCLE, nil, 2, function()
      local v = conn:create_node_device(vhba_xml(7))
      name = v:get_name()
      v:destroy()
    end)
    ev.check_args(got, conn, 4, "NodeDevice", name, { ND.EVENT_CREATED, ND.EVENT_DELETED })
    ev.check_where(errors, "a node device event callback")
  end)

  it("domains: fn(conn, dom, event, detail), through the same path", function()
    local D = virt.Domain
    local dom
    local got, errors = exercise("domain", D.EVENT_ID_LIFECYCLE, nil, 4, function()
      dom = conn:define_domain(fx.domain_xml("evdom"))
      dom:create()
      dom:destroy()
      dom:undefine()
    end)
    ev.check_args(got, conn, 4, "Domain", "evdom",
                  { D.EVENT_DEFINED, D.EVENT_STARTED, D.EVENT_STOPPED, D.EVENT_UNDEFINED },
                  { D.EVENT_DEFINED_ADDED, D.EVENT_STARTED_BOOTED, D.EVENT_STOPPED_DESTROYED,
                    D.EVENT_UNDEFINED_REMOVED })
    for _, args in ipairs(got) do assert.equals(dom, args[2]) end
    ev.check_where(errors, "a domain event callback")
  end)

  it("an object handed to a callback outlives the event and the callback's connection variable", function()
    local N = virt.Network
    local kept
    local id = conn:network_event_register_any(nil, N.EVENT_ID_LIFECYCLE, function(_, net) kept = net end)
    local net = conn:define_network(net_xml("evkeep"))
    wait_for(function() return kept ~= nil end, "the define event")
    conn:network_event_deregister_any(id)
    net:undefine()
    net = nil
    collectgarbage()
    collectgarbage()
    -- the callback's object holds its own reference: still usable
    assert.equals("evkeep", kept:get_name())
    kept:free()
    assert.matches("freed", tostring(kept))
  end)

  it("virt.Event handles and timeouts: fn(watch, fd, events) and fn(timer), errors reported", function()
    local E = virt.Event
    local errors, ticks, seen = {}, 0, nil
    virt.set_error_handler(function(msg, where) errors[#errors + 1] = { msg = msg, where = where } end)
    local ok, err = pcall(function()
      local timer = E.add_timeout(1, function(t)
        ticks = ticks + 1
        assert(t)
        error("deliberate failure #" .. ticks)
      end)
      wait_for(function() return ticks >= 3 end, "three timeouts")
      E.remove_timeout(timer)
      local p = uv.pipe()
      local r, w = p.read, p.write
      local watch
      watch = E.add_handle(r, E.HANDLE_READABLE, function(wt, fd, events)
        seen = { wt, fd, events }
        E.remove_handle(wt)
        error("handle failure")
      end)
      uv.fs_write(w, "x")
      wait_for(function() return seen ~= nil end, "a readable pipe")
      assert.same({ watch, r, E.HANDLE_READABLE }, seen)
      uv.fs_close(r)
      uv.fs_close(w)
    end)
    virt.set_error_handler(nil)
    assert(ok, err)
    assert.is_true(#errors >= 4)
    for i = 1, 3 do
      assert.equals("an event timeout callback", errors[i].where)
      assert.matches("deliberate failure #" .. i, errors[i].msg, 1, true)
    end
    assert.equals("an event handle callback", errors[#errors].where)
    assert.matches("handle failure", errors[#errors].msg, 1, true)
  end)
end)
