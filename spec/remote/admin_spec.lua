-- virt.admin against a private libvirtd's admin socket.  libvirt-admin runs
-- in luvirt-admin-helper (it cannot share luvirt's process in libvirt 9.0):
-- these specs go through it like every script does.
local virt = require "virt"
local tb = require "spec.helpers.testbed"
local A = virt.admin

describe("remote: virt.admin", function()
  local d, conn, adm

  setup(function()
    local ok, why = tb.check{ qemu = false }
    if not ok then error("remote tier cannot run: " .. why) end
    d = tb.daemon{ tcp = false }
    conn = virt.new(d.test_uri)          -- a client for the servers to show
    adm = A.open("libvirtd:///system?socket=" .. d.dir .. "/run/libvirt-admin-sock")
  end)

  teardown(function()
    if adm then pcall(adm.close, adm) end
    if conn then pcall(conn.close, conn) end
    if d then d:stop() end
  end)

  it("opens, reports the URI, liveness and versions", function()
    assert.matches("^libvirtd:///system%?socket=", adm:get_uri())
    assert.is_true(adm:is_alive())
    local v = adm:get_lib_version()
    assert.equals("integer", math.type(v))
    assert.equals(v, A.get_version())
    assert.equals(virt.get_version(), v)
  end)

  it("lists the daemon's servers and finds one by name", function()
    local names = {}
    for _, s in ipairs(adm:list_servers()) do names[#names + 1] = s:get_name() end
    table.sort(names)
    assert.same({ "admin", "libvirtd" }, names)
    assert.equals("libvirtd", adm:lookup_server("libvirtd"):get_name())
    local ok, err = pcall(adm.lookup_server, adm, "nope")
    assert.is_false(ok)
    assert.equals(virt.Error.ERR_NO_SERVER, err.code)
    assert.equals(virt.Error.FROM_RPC, err.domain)      -- the daemon's answer, over RPC
  end)

  it("round-trips thread-pool parameters, types learned from the getter", function()
    local srv = adm:lookup_server("libvirtd")
    local p = srv:get_threadpool_parameters()
    assert.equals("integer", math.type(p[A.Server.THREADPOOL_WORKERS_MAX]))
    srv:set_threadpool_parameters{ [A.Server.THREADPOOL_WORKERS_MAX] = p[A.Server.THREADPOOL_WORKERS_MAX] + 3 }
    assert.equals(p[A.Server.THREADPOOL_WORKERS_MAX] + 3, srv:get_threadpool_parameters()[A.Server.THREADPOOL_WORKERS_MAX])
    local ok, err = pcall(srv.set_threadpool_parameters, srv, { maxWorker = 3 })
    assert.is_false(ok)
    assert.matches("unknown parameter 'maxWorker'.*maxWorkers", err.message)
  end)

  it("round-trips client limits and refuses a negative one", function()
    local srv = adm:lookup_server("libvirtd")
    local lim = srv:get_client_limits()
    assert.is_true(lim[A.Server.CLIENTS_CURRENT] >= 1)
    srv:set_client_limits{ [A.Server.CLIENTS_MAX] = 4000 }
    assert.equals(4000, srv:get_client_limits()[A.Server.CLIENTS_MAX])
    local ok, err = pcall(srv.set_client_limits, srv, { [A.Server.CLIENTS_MAX] = -1 })
    assert.is_false(ok)
    assert.equals(virt.Error.ERR_INVALID_ARG, err.code)
  end)

  it("describes the clients of a server and disconnects one", function()
    local srv = adm:lookup_server("libvirtd")
    local other = virt.new(d.test_uri)
    local clients = srv:list_clients()
    assert.is_true(#clients >= 2)
    local mine
    for _, cl in ipairs(clients) do
      local info = cl:get_info()
      assert.equals(A.Client.TRANS_UNIX, cl:get_transport())
      assert.equals("integer", math.type(cl:get_timestamp()))
      assert.equals("boolean", type(info[A.Client.INFO_READONLY]))
      if cl:get_id() == clients[#clients]:get_id() then mine = cl end
    end
    assert.equals(mine:get_id(), srv:lookup_client(mine:get_id()):get_id())
    mine:close()
    for _ = 1, 40 do
      if #srv:list_clients() < #clients then break end
      virt.sleep(50)
    end
    assert.equals(#clients - 1, #srv:list_clients())
    pcall(other.close, other)
  end)

  it("reads and sets the daemon's logging", function()
    local outputs, n = adm:get_logging_outputs()
    assert.matches("file:", outputs)
    assert.equals(1, n)
    adm:set_logging_filters("1:util")
    assert.matches("util", adm:get_logging_filters())
    adm:set_logging_filters(nil)
  end)

  it("works from tasks, and reports the daemon going away", function()
    local t = virt.spawn(function() return adm:lookup_server("admin"):get_name() end)
    assert.equals("admin", t:wait())
    local d2 = tb.daemon{ tcp = false }
    local a2 = A.open("libvirtd:///system?socket=" .. d2.dir .. "/run/libvirt-admin-sock")
    local reason
    a2:register_close_callback(function(c, r) reason = { c, r } end)
    d2:stop()
    for _ = 1, 60 do
      if reason then break end
      virt.sleep(50)
    end
    assert.equals(a2, reason[1])
    assert.equals(virt.CLOSE_REASON_EOF, reason[2])
    a2:unregister_close_callback()
    a2:close()
  end)

  it("refuses a closed connection and a bad URI", function()
    local a3 = A.open("libvirtd:///system?socket=" .. d.dir .. "/run/libvirt-admin-sock")
    local srv = a3:lookup_server("admin")
    a3:close()
    assert.has_error(function() a3:get_uri() end, "attempt to use a closed admin connection")
    assert.equals("admin", srv:get_name())       -- the server keeps the helper alive
    srv:free()
    assert.has_error(function() srv:get_name() end)
    local ok, err = pcall(A.open, "libvirtd:///system?socket=/nonexistent/sock")
    assert.is_false(ok)
    assert.equals(virt.Error.ERR_SYSTEM_ERROR, err.code)
  end)
end)
