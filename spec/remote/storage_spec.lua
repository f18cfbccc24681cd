-- Storage calls the in-process test driver lacks, on a real directory pool
-- of a private libvirtd's qemu:///system (no QEMU needed): target-path
-- lookup, wipes, resizes, info flags, XML_INACTIVE, upload and download.
local virt = require "virt"
local tb = require "spec.helpers.testbed"
local P, V = virt.StoragePool, virt.StorageVol

local function vol_xml(name, capacity)
  return ([[<volume><name>%s</name><capacity unit='bytes'>%d</capacity>
<target><format type='raw'/></target></volume>]]):format(name, capacity)
end

describe("remote: a directory pool", function()
  local d, conn, pool, dir

  setup(function()
    local ok, why = tb.check{ qemu = false }
    if not ok then error("remote tier cannot run: " .. why) end
    d = tb.daemon{ tcp = false }
    conn = virt.new(d.qemu_uri)
    dir = d.dir .. "/pool"
    pool = conn:define_storage_pool(([[<pool type='dir'><name>lvp</name>
<target><path>%s</path></target></pool>]]):format(dir))
    pool:build()
    pool:create()
  end)

  teardown(function()
    if pool then pcall(pool.destroy, pool); pcall(pool.delete, pool); pcall(pool.undefine, pool) end
    if conn then pcall(conn.close, conn) end
    if d then d:stop() end
  end)

  it("finds the pool by its target path and gives its inactive XML", function()
    assert.equals(pool, conn:get_storage_pool_by_target_path(dir))
    assert.truthy(pool:get_xml_description(P.XML_INACTIVE):find("<path>" .. dir .. "</path>", 1, true))
    assert.equals(P.STATE_RUNNING, pool:get_info().state)
  end)

  it("creates, resizes, wipes and deletes a file volume", function()
    local vol = pool:create_volume(vol_xml("a.raw", 65536))
    assert.equals(dir .. "/a.raw", vol:get_path())
    local info = vol:get_info(V.USE_ALLOCATION)
    assert.equals(V.TYPE_FILE, info.type)
    assert.equals(65536, info.capacity)
    assert.equals(65536, vol:get_info(V.GET_PHYSICAL).capacity)
    vol:resize(131072)
    assert.equals(131072, vol:get_info().capacity)
    local ok, err = pcall(vol.resize, vol, 4096)
    assert.is_false(ok)                                  -- shrinking needs RESIZE_SHRINK
    assert.equals(virt.Error.ERR_INVALID_ARG, err.code)
    vol:wipe()
    vol:wipe_pattern(V.WIPE_ALG_ZERO)
    vol:delete()
    ok, err = pcall(pool.get_volume_by_name, pool, "a.raw")
    assert.is_false(ok)
    assert.equals(virt.Error.ERR_NO_STORAGE_VOL, err.code)
  end)

  it("uploads into a volume and downloads it back through streams", function()
    local vol = pool:create_volume(vol_xml("b.raw", 8192))
    local data = ("luvirt"):rep(1000):sub(1, 5000)
    local up = conn:new_stream()
    vol:upload(up, 0, #data)
    up:write(data)
    up:finish()
    local down = conn:new_stream()
    vol:download(down, 0, #data)
    local got = {}
    down:recv_all(function(_, chunk) got[#got + 1] = chunk; return #chunk end)
    down:finish()
    assert.equals(data, table.concat(got))
    vol:delete()
  end)

  it("refuses a volume that exists with libvirt's code", function()
    local vol = pool:create_volume(vol_xml("c.raw", 4096))
    local ok, err = pcall(pool.create_volume, pool, vol_xml("c.raw", 4096))
    assert.is_false(ok)
    assert.equals(virt.Error.ERR_STORAGE_VOL_EXIST, err.code)
    vol:delete()
  end)
end)
