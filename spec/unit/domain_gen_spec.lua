-- Domain and Virt calls from the generator work (generated wrappers and the
-- overrides in domain.c/connect.c) on the in-process test driver, checked
-- against what the test driver reports elsewhere (XML, get_info).
local virt = require "virt"
local D = virt.Domain

describe("Domain and Virt beyond the core", function()
  local conn, dom
  before_each(function()
    conn = virt.new("test:///default")
    dom = conn:get_domain_by_name("test")
  end)
  after_each(function() conn:close() end)

  it("gives per-vCPU info with Sys::Virt's keys and a bitmap per vCPU", function()
    local info = dom:get_vcpu_info()
    assert.equals(dom:get_info().nrVirtCpu, #info)
    local _, maplen = conn:get_node_cpu_map()
    for i, v in ipairs(info) do
      assert.equals(i - 1, v.number)
      assert.equals(D.VCPU_RUNNING, v.state)
      assert.equals("integer", math.type(v.cpuTime))
      assert.equals("string", type(v.affinity))
      assert.is_true(#v.affinity >= #maplen)
    end
    -- with flags: the configured pinning only (state, cpu and time are 0)
    local cfg = dom:get_vcpu_info(D.AFFECT_CONFIG)
    assert.equals(#info, #cfg)
    assert.equals(0, cfg[1].cpuTime)
  end)

  it("pins vCPUs and the emulator with Sys::Virt's bitmap strings", function()
    dom:pin_vcpu(0, "\1")
    dom:pin_vcpu(1, "\3", D.AFFECT_CURRENT)   -- the flags variant
    assert.equals(1, dom:get_vcpu_info()[1].affinity:byte(1) & 0xff)
    dom:pin_emulator("\1")
    assert.equals("string", type(dom:get_emulator_pin_info()))
    assert.has_error(function() dom:pin_vcpu(0, "") end)
    assert.has_error(function() dom:pin_vcpu(-1, "\1") end)
    local ok, err = pcall(dom.pin_iothread, dom, 99, "\1")
    assert.is_false(ok)
    assert.equals(virt.Error.ERR_INVALID_ARG, err.code)
  end)

  it("reads memory statistics by Sys::Virt's names", function()
    local m = dom:memory_stats()
    for _, k in ipairs { "swap_in", "swap_out", "major_fault", "minor_fault", "unused",
                         "available", "actual_balloon", "rss" } do
      assert.equals("integer", math.type(m[k]), k)
    end
    assert.is_true(m.available >= m.unused)
  end)

  it("lists disk errors, file systems, interfaces and IOThreads as tables", function()
    local errs = dom:get_disk_errors()
    assert.equals("vda", errs[1].path)
    assert.equals(D.DISK_ERROR_UNSPEC, errs[1].error)
    local fs = dom:get_fs_info()
    assert.is_true(#fs >= 1)
    assert.is_string(fs[1].mountpoint)
    assert.is_table(fs[1].devalias)
    local nics = dom:get_interface_addresses(D.INTERFACE_ADDRESSES_SRC_LEASE)
    for _, n in ipairs(nics) do
      assert.is_string(n.name)
      for _, a in ipairs(n.addrs) do
        assert.is_string(a.addr)
        assert.equals("integer", math.type(a.prefix))
      end
    end
    assert.is_table(dom:get_iothread_info())
  end)

  it("reads the host's CPU map, free memory per cell and free pages per cell", function()
    local total, map, online = conn:get_node_cpu_map()
    assert.equals("integer", math.type(total))
    assert.equals((total + 7) // 8, #map)
    assert.is_true(online >= 1 and online <= total)
    local cells = conn:get_node_cells_free_memory(0, 1)
    assert.equals(2, #cells)
    assert.equals(1, #conn:get_node_cells_free_memory(1, 1))
    local pages = conn:get_node_free_pages({ 4, 2048 }, 0, 1)
    assert.equals(2, #pages)
    assert.equals(1, pages[2].cell)
    assert.equals("integer", math.type(pages[1].pages[2048]))
    assert.has_error(function() conn:get_node_free_pages({}, 0, 1) end)
    assert.has_error(function() conn:get_node_cells_free_memory(1, 0) end)
    assert.has_error(function() conn:node_alloc_pages({ { 2048 } }, 0, 0) end)
  end)

  it("runs generated calls: metadata, time, keys, device XML, peeks", function()
    dom:set_metadata(D.METADATA_DESCRIPTION, "a test guest", nil, nil, D.AFFECT_LIVE)
    assert.equals("a test guest", dom:get_metadata(D.METADATA_DESCRIPTION, nil, D.AFFECT_LIVE))
    local ok, err = pcall(dom.get_metadata, dom, D.METADATA_TITLE, nil, 0)
    assert.is_false(ok)
    assert.equals(virt.Error.ERR_NO_DOMAIN_METADATA, err.code)
    dom:send_key(D.KEYCODE_SET_LINUX, 100, { 29, 56, 111 })
    assert.has_error(function() dom:send_key(D.KEYCODE_SET_LINUX, 100, { "x" }) end)
    local secs, nsecs = dom:get_time()
    assert.equals("integer", math.type(secs))
    assert.equals("integer", math.type(nsecs))
    local state, reason = dom:get_state()
    assert.equals(D.STATE_RUNNING, state)
    assert.equals("integer", math.type(reason))
    assert.equals(D.CONTROL_OK, dom:get_control_info().state)
    local bi = dom:get_block_info("vda")
    assert.equals("integer", math.type(bi.capacity))
    assert.equals("integer", math.type(bi.physical))
    local st = dom:interface_stats("testnet0")
    assert.equals("integer", math.type(st.rx_bytes))
    local ok2, e2 = pcall(dom.block_peek, dom, "vda", 0, 4096)   -- QEMU tier reads it
    assert.is_false(ok2)
    assert.equals(virt.Error.ERR_NO_SUPPORT, e2.code)
    assert.equals("libvirt-test", dom:get_security_label().label)
    assert.equals("testSecurity", conn:get_node_security_model().model)
  end)

  it("raises libvirt's codes and Lua errors for what is wrong", function()
    local ok, err = pcall(dom.get_block_job_info, dom, "vda")
    assert.is_false(ok)
    assert.equals(virt.Error.ERR_NO_SUPPORT, err.code)
    assert.has_error(function() dom:get_interface_addresses("lease") end)
    assert.has_error(function() dom:memory_stats(-1) end)
    assert.has_error(function() dom:block_peek("vda", 0, -1) end)
  end)

  it("has module-level calls: the library version", function()
    local v = virt.get_version()
    assert.equals(conn:get_library_version(), v)
    assert.is_true(v >= 9000000)
  end)
end)
