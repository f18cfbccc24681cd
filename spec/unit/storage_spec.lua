-- virt.StoragePool and virt.StorageVol on the in-process test driver.
local virt = require "virt"
local P, V = virt.StoragePool, virt.StorageVol

local function pool_xml(name, path, uuid)
  return ([[
<pool type='dir'>
  <name>%s</name>%s
  <target><path>%s</path></target>
</pool>]]):format(name, uuid and ("<uuid>" .. uuid .. "</uuid>") or "", path)
end

local function vol_xml(name, capacity)
  return ([[
<volume>
  <name>%s</name>
  <capacity unit='bytes'>%d</capacity>
  <allocation unit='bytes'>0</allocation>
</volume>]]):format(name, capacity)
end

local names = require("spec.helpers.fixtures").names

describe("virt.StoragePool", function()
  local conn
  before_each(function() conn = virt.new("test:///default") end)
  after_each(function() conn:close() end)

  it("lists the default pool with its info", function()
    local pools = conn:list_all_storage_pools()
    assert.equals("default-pool", names(pools))
    local info = pools[1]:get_info()
    assert.equals(P.STATE_RUNNING, info.state)
    assert.is_true(info.capacity > 0 and math.type(info.capacity) == "integer")
    assert.is_true(info.allocation >= 0 and info.available >= 0)
    assert.equals(1, conn:num_of_storage_pools())
    assert.same({ "default-pool" }, conn:list_storage_pool_names(5))
  end)

  it("has Sys::Virt's list_storage_pools and list_defined_storage_pools", function()
    local pool = conn:define_storage_pool(pool_xml("p9", "/p9"))
    assert.equals("default-pool", names(conn:list_storage_pools()))
    assert.equals("p9", names(conn:list_defined_storage_pools()))
    pool:undefine()
  end)

  it("defines, builds, starts, refreshes, stops, deletes and undefines a pool", function()
    local pool = conn:define_storage_pool(pool_xml("p1", "/p1"))
    assert.is_false(pool:is_active())
    assert.is_true(pool:is_persistent())
    assert.same({ "p1" }, conn:list_defined_storage_pool_names(5))
    pool:build()
    pool:create()
    assert.is_true(pool:is_active())
    assert.equals(P.STATE_RUNNING, pool:get_info().state)
    pool:refresh()
    pool:destroy()
    assert.equals(P.STATE_INACTIVE, pool:get_info().state)
    pool:delete(P.DELETE_NORMAL)
    pool:undefine()
    local ok, err = pcall(conn.get_storage_pool_by_name, conn, "p1")
    assert.is_false(ok)
    assert.equals(virt.Error.ERR_NO_STORAGE_POOL, err.code)
  end)

  it("creates a transient pool", function()
    local pool = conn:create_storage_pool(pool_xml("t1", "/t1"))
    assert.is_true(pool:is_active())
    assert.is_false(pool:is_persistent())
    assert.equals("t1", names(conn:list_all_storage_pools(P.LIST_TRANSIENT)))
    pool:destroy()
  end)

  it("looks pools up by name, UUID and volume", function()
    local uuid = "0d3e5c4a-1b2c-4d5e-8f90-a1b2c3d4e5f6"
    local pool = conn:define_storage_pool(pool_xml("p2", "/p2", uuid))
    pool:create()
    assert.equals(uuid, pool:get_uuid_string())
    assert.equals(pool, conn:get_storage_pool_by_uuid(uuid))
    assert.equals(pool, conn:get_storage_pool_by_uuid(pool:get_uuid()))
    local vol = pool:create_volume(vol_xml("v.img", 1024))
    assert.equals(pool, conn:get_storage_pool_by_volume(vol))
    vol:delete()
    pool:destroy()
    pool:undefine()
  end)

  it("round-trips its XML and filters lists by flags", function()
    local pool = conn:define_storage_pool(pool_xml("p3", "/p3"))
    local xml = pool:get_xml_description()
    assert.matches("<path>/p3</path>", xml)
    assert.equals("p3", names(conn:list_all_storage_pools(P.LIST_INACTIVE)))
    assert.equals("default-pool", names(conn:list_all_storage_pools(P.LIST_ACTIVE)))
    assert.equals("default-pool p3", names(conn:list_all_storage_pools(P.LIST_DIR)))
    pool:set_autostart(1)
    assert.is_true(pool:get_autostart())
    assert.equals("p3", names(conn:list_all_storage_pools(P.LIST_AUTOSTART)))
    pool:undefine()
    local again = conn:define_storage_pool(xml)
    assert.equals("p3", again:get_name())
    again:undefine()
  end)

  it("raises libvirt's codes for bad XML and duplicate names", function()
    local ok, err = pcall(conn.define_storage_pool, conn, "<pool type='dir'><name>")
    assert.is_false(ok)
    assert.equals(virt.Error.ERR_XML_DETAIL, err.code)
    ok, err = pcall(conn.create_storage_pool, conn, pool_xml("default-pool", "/elsewhere"))
    assert.is_false(ok)
    assert.equals(virt.Error.ERR_OPERATION_FAILED, err.code)
  end)

  it("delivers lifecycle and refresh events", function()
    local seen = {}
    local id1 = conn:storage_pool_event_register_any(nil, P.EVENT_ID_LIFECYCLE, function(c, pool, ev, detail)
      seen[#seen + 1] = { "life", pool:get_name(), ev, detail, c == conn }
    end)
    local id2 = conn:storage_pool_event_register_any(nil, P.EVENT_ID_REFRESH, function(c, pool, ...)
      seen[#seen + 1] = { "refresh", pool:get_name(), select("#", ...), c == conn }
    end)
    local pool = conn:define_storage_pool(pool_xml("e1", "/e1"))
    pool:create()
    pool:refresh()
    virt.sleep(100)
    conn:storage_pool_event_deregister_any(id1)
    conn:storage_pool_event_deregister_any(id2)
    pool:destroy()
    pool:undefine()
    virt.sleep(50)
    assert.same({ "life", "e1", P.EVENT_DEFINED, 0, true }, seen[1])
    assert.same({ "life", "e1", P.EVENT_STARTED, 0, true }, seen[2])
    assert.same({ "refresh", "e1", 0, true }, seen[3])
    assert.equals(3, #seen)
  end)
end)

describe("virt.StorageVol", function()
  local conn, pool
  before_each(function()
    conn = virt.new("test:///default")
    pool = conn:define_storage_pool(pool_xml("vp", "/vp"))
    pool:create()
  end)
  after_each(function()
    pool:destroy()
    pool:undefine()
    conn:close()
  end)

  it("creates, looks up, describes and deletes volumes", function()
    local vol = pool:create_volume(vol_xml("a.img", 1048576))
    assert.equals("a.img", vol:get_name())
    assert.equals("/vp/a.img", vol:get_path())
    assert.is_string(vol:get_key())
    assert.equals(vol, pool:get_volume_by_name("a.img"))
    assert.equals(vol, conn:get_storage_volume_by_path("/vp/a.img"))
    assert.equals(vol, conn:get_storage_volume_by_key(vol:get_key()))
    local info = vol:get_info()
    assert.equals(V.TYPE_FILE, info.type)
    assert.equals(1048576, info.capacity)
    assert.equals("integer", math.type(info.allocation))
    assert.matches("<name>a.img</name>", vol:get_xml_description())
    assert.equals(1, pool:num_of_storage_volumes())
    assert.same({ "a.img" }, pool:list_storage_vol_names(10))
    assert.equals("a.img", names(pool:list_all_volumes()))
    vol:delete(V.DELETE_NORMAL)
    local ok, err = pcall(pool.get_volume_by_name, pool, "a.img")
    assert.is_false(ok)
    assert.equals(virt.Error.ERR_NO_STORAGE_VOL, err.code)
  end)

  it("has Sys::Virt's list_volumes", function()
    pool:create_volume(vol_xml("l1.img", 512))
    pool:create_volume(vol_xml("l2.img", 512))
    assert.equals("l1.img l2.img", names(pool:list_volumes()))
    for _, v in ipairs(pool:list_volumes()) do v:delete() end
    assert.same({}, pool:list_volumes())
  end)

  it("clones a volume", function()
    local src = pool:create_volume(vol_xml("src.img", 4096))
    local copy = pool:clone_volume(vol_xml("copy.img", 4096), src)
    assert.equals("copy.img", copy:get_name())
    assert.equals("copy.img src.img", names(pool:list_all_volumes()))
    copy:delete()
    src:delete()
  end)

  -- spec/remote/storage_spec.lua runs these on a real dir pool
  it("reports what the test driver lacks as ERR_NO_SUPPORT", function()
    local vol = pool:create_volume(vol_xml("n.img", 4096))
    for _, call in ipairs {
      function() return vol:wipe() end,
      function() return vol:wipe_pattern(V.WIPE_ALG_ZERO) end,
      function() return vol:resize(8192) end,
      function() return vol:get_info(V.GET_PHYSICAL) end,
      function() return conn:get_storage_pool_by_target_path("/vp") end,
    } do
      local ok, err = pcall(call)
      assert.is_false(ok)
      assert.equals(virt.Error.ERR_NO_SUPPORT, err.code)
    end
    vol:delete()
  end)

  it("gives its connection and its pool back", function()
    local vol = pool:create_volume(vol_xml("k.img", 512))
    assert.equals(conn, vol:get_connection())
    assert.equals(pool, conn:get_storage_pool_by_volume(vol))
    vol:delete()
  end)

  it("raises libvirt's codes for a duplicate volume and bad XML", function()
    pool:create_volume(vol_xml("d.img", 512))
    local ok, err = pcall(pool.create_volume, pool, vol_xml("d.img", 512))
    assert.is_false(ok)
    assert.equals(virt.Error.ERR_OPERATION_FAILED, err.code)   -- the test driver's code
    assert.matches("already exists", err.message)
    ok, err = pcall(pool.create_volume, pool, "<volume>")
    assert.is_false(ok)
    assert.equals(virt.Error.ERR_XML_DETAIL, err.code)
    pool:get_volume_by_name("d.img"):delete()
  end)
end)
