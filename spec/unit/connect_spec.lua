-- virt.new and virt.Virt on the in-process test driver.
local virt = require "virt"
local fx = require "spec.helpers.fixtures"

describe("virt.new", function()
  it("opens test:///default from a table or a string", function()
    local c1 = virt.new{ uri = "test:///default" }
    local c2 = virt.new("test:///default")
    assert.equals("test:///default", c1:get_uri())
    assert.equals("test:///default", c2:get_uri())
    c1:close(); c2:close()
  end)

  it("raises a virt.Error for an unknown driver", function()
    local ok, err = pcall(virt.new, { uri = "nosuchdriver:///x" })
    assert.is_false(ok)
    assert.equals("table", type(err))
    assert.equals(virt.Error.ERR_SYSTEM_ERROR, err.code)
    assert.matches("libvirt error", tostring(err))
  end)

  it("opens read-only when asked", function()
    local c = virt.new{ uri = "test:///default", readonly = true }
    local ok, err = pcall(c.define_domain, c, fx.domain_xml("ro-refused"))
    assert.is_false(ok)
    assert.equals(virt.Error.ERR_OPERATION_DENIED, err.code)
    c:close()
  end)

  it("rejects bad argument types with a Lua error, not a crash", function()
    assert.has_error(function() virt.new(42) end)
    assert.has_error(function() virt.new{ uri = "test:///default", callback = 5 } end)
    assert.has_error(function() virt.new{ uri = "test:///default", credlist = "x", callback = print } end)
  end)

  describe("authentication callback", function()
    local dir, node
    setup(function() dir = fx.tmpdir(); node = fx.auth_node(dir) end)
    teardown(function() os.execute("rm -rf " .. dir) end)

    it("passes the requested credentials and uses the results", function()
      local seen = {}
      local c = virt.new{
        uri = "test://" .. node,
        credlist = { virt.CRED_AUTHNAME, virt.CRED_PASSPHRASE },
        callback = function(creds)
          for _, cred in ipairs(creds) do
            seen[cred.type] = cred.prompt
            if cred.type == virt.CRED_AUTHNAME then cred.result = "fred" end
            if cred.type == virt.CRED_PASSPHRASE then cred.result = "s3cret" end
          end
          return 0
        end,
      }
      assert.is_string(seen[virt.CRED_AUTHNAME])
      assert.is_string(seen[virt.CRED_PASSPHRASE])
      assert.equals("authdom", c:get_domain_by_name("authdom"):get_name())
      c:close()
    end)

    it("fails with ERR_AUTH_FAILED for a wrong password", function()
      local ok, err = pcall(virt.new, {
        uri = "test://" .. node,
        credlist = { virt.CRED_AUTHNAME, virt.CRED_PASSPHRASE },
        callback = function(creds)
          for _, cred in ipairs(creds) do cred.result = "wrong" end
          return 0
        end,
      })
      assert.is_false(ok)
      assert.equals(virt.Error.ERR_AUTH_FAILED, err.code)
    end)

    it("survives a callback that raises", function()
      local ok, err = pcall(virt.new, {
        uri = "test://" .. node,
        credlist = { virt.CRED_AUTHNAME, virt.CRED_PASSPHRASE },
        callback = function() error("no creds today") end,
      })
      assert.is_false(ok)
      assert.is_number(err.code)
    end)

    it("survives credentials turned into traps (metamethods, wrong types): errors are reported", function()
      local reported = {}
      virt.set_error_handler(function(msg, where) reported[#reported + 1] = where .. ": " .. msg end)
      local traps = {
        function(creds)
          for _, c in ipairs(creds) do
            c.result = nil
            setmetatable(c, { __index = function() error("trapped index") end })
          end
          return 0
        end,
        function(creds) for i = 1, #creds do creds[i] = 42 end return 0 end,
        function(creds)   -- a result that is no string is no answer
          for _, c in ipairs(creds) do c.result = {} end
          return 0
        end,
      }
      for i, trap in ipairs(traps) do
        local ok, err = pcall(virt.new, {
          uri = "test://" .. node,
          credlist = { virt.CRED_AUTHNAME, virt.CRED_PASSPHRASE },
          callback = trap,
        })
        assert.is_false(ok, "trap " .. i)
        assert.is_number(err.code, "trap " .. i)
      end
      virt.set_error_handler(nil)
      assert.equals(2, #reported)
      assert.matches("^the authentication callback: .*trapped index", reported[1])
      assert.matches("^the authentication callback: .*attempt to index a number value", reported[2])
      -- the connection still opens afterwards
      local c = virt.new{
        uri = "test://" .. node,
        credlist = { virt.CRED_AUTHNAME, virt.CRED_PASSPHRASE },
        callback = function(creds)
          for _, cred in ipairs(creds) do
            cred.result = cred.type == virt.CRED_AUTHNAME and "fred" or "s3cret"
          end
          return 0
        end,
      }
      assert.equals("authdom", c:get_domain_by_name("authdom"):get_name())
      c:close()
    end)
  end)
end)

describe("virt.Virt", function()
  local conn
  before_each(function() conn = virt.new{ uri = "test:///default" } end)
  after_each(function() conn:close() end)

  it("answers the host questions", function()
    assert.equals("TEST", conn:get_type())
    assert.is_string(conn:get_hostname())
    assert.is_true(conn:get_version() > 0)
    assert.is_true(conn:get_library_version() >= 9000000)
    assert.matches("<capabilities>", conn:get_capabilities())
    assert.is_true(conn:is_alive())
    assert.is_true(conn:is_secure())
    assert.is_false(conn:is_encrypted())
    assert.is_true(conn:get_max_vcpus("test") > 0)
  end)

  it("returns node info with Sys::Virt's keys", function()
    local n = conn:get_node_info()
    for _, k in ipairs{ "memory", "cpus", "mhz", "nodes", "sockets", "cores", "threads" } do
      assert.is_number(n[k], k)
    end
    assert.equals("i686", n.model)
    assert.equals(16, n.cpus)
  end)

  it("lists, looks up and filters domains", function()
    local all = conn:list_all_domains()
    assert.equals(1, #all)
    assert.equals("test", all[1]:get_name())
    local d = conn:get_domain_by_name("test")
    assert.equals(d, conn:get_domain_by_id(1))
    assert.equals(d, conn:get_domain_by_uuid(d:get_uuid()))
    assert.equals(d, conn:get_domain_by_uuid(d:get_uuid_string()))
    assert.equals(d, conn:get_domain_by_uuid_string(d:get_uuid_string()))
    conn:define_domain(fx.domain_xml("inactive1"))
    assert.equals(1, #conn:list_all_domains(virt.Domain.LIST_ACTIVE))
    assert.equals(1, #conn:list_all_domains(virt.Domain.LIST_INACTIVE))
    assert.equals(2, #conn:list_all_domains())
  end)

  it("reports ERR_NO_DOMAIN for unknown names, ids and uuids", function()
    for _, f in ipairs{
      function() return conn:get_domain_by_name("nope") end,
      function() return conn:get_domain_by_id(999) end,
      function() return conn:get_domain_by_uuid("00000000-0000-0000-0000-000000000000") end,
    } do
      local ok, err = pcall(f)
      assert.is_false(ok)
      assert.equals(virt.Error.ERR_NO_DOMAIN, err.code)
      assert.equals(virt.Error.FROM_TEST, err.domain)
      assert.matches("Domain not found", tostring(err))
    end
  end)

  it("rejects bad XML with ERR_XML_DETAIL and a duplicate name with ERR_OPERATION_FAILED", function()
    local ok, err = pcall(conn.define_domain, conn, "<domain")
    assert.is_false(ok)
    assert.equals(virt.Error.ERR_XML_DETAIL, err.code)
    ok, err = pcall(conn.create_domain, conn, fx.domain_xml("test"))
    assert.is_false(ok)
    assert.equals(virt.Error.ERR_OPERATION_FAILED, err.code)
  end)

  it("creates transient domains", function()
    local d = conn:create_domain(fx.domain_xml("transient1"))
    assert.is_true(d:is_active())
    assert.is_false(d:is_persistent())
    d:destroy()
    local ok, err = pcall(conn.get_domain_by_name, conn, "transient1")
    assert.is_false(ok)
    assert.equals(virt.Error.ERR_NO_DOMAIN, err.code)
  end)

  it("set_keep_alive is refused by a driver without keepalive", function()
    local ok, err = pcall(conn.set_keep_alive, conn, 5, 3)
    assert.is_false(ok)
    assert.equals(virt.Error.ERR_NO_SUPPORT, err.code)
    assert.has_error(function() conn:set_keep_alive(-5, 3) end)
  end)

  it("refuses every call after close with a clear message, and closes twice harmlessly", function()
    local d = conn:get_domain_by_name("test")
    conn:close()
    assert.equals(0, conn:close())
    assert.has_error(function() conn:get_hostname() end, "attempt to use a closed Virt connection")
    assert.has_error(function() conn:list_all_domains() end, "attempt to use a closed Virt connection")
    -- a Domain keeps its own reference: still usable
    assert.equals("test", d:get_name())
    conn = virt.new{ uri = "test:///default" }
  end)

  it("rejects wrong argument types without crashing", function()
    assert.has_error(function() conn:get_domain_by_name() end)
    assert.has_error(function() conn:get_domain_by_name({}) end)
    assert.has_error(function() conn:get_domain_by_id("x") end)
    assert.has_error(function() conn:get_domain_by_id(2^40) end)
    assert.has_error(function() conn:list_all_domains(-1) end)
    assert.has_error(function() conn:list_all_domains(2^33) end)
    assert.has_error(function() conn.get_hostname({}) end)
    assert.has_error(function() conn.get_hostname(nil) end)
    assert.has_error(function() virt.Virt.get_uri(conn:get_domain_by_name("test")) end)
  end)

  it("runs the close callback registration round trip", function()
    conn:register_close_callback(function() end)
    conn:unregister_close_callback()
    conn:unregister_close_callback()
    assert.has_error(function() conn:register_close_callback(1) end)
  end)
end)
