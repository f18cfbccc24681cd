-- Test bed for the remote and hypervisor tiers: private libvirtd daemons,
-- the tiny TCG guest and network namespaces, driven through the shell
-- scripts in scripts/testbed/.
--
-- Plain Lua 5.4 (io.popen / os.execute only): it runs inside the luvirt host
-- and under a bare lua5.4 alike, and never uses the binding it helps to test.
--
--   local tb = require "spec.helpers.testbed"
--   local ok, why = tb.check()            -- false + reason when the tier cannot run here
--   local d = tb.daemon{}                 -- d.test_uri, d.qemu_uri, d.tcp_test_uri, d:stop() ...
--   local xml, g = tb.domain_xml{ name = "tiny" }
--   tb.cleanup_all()                      -- in teardown; a watchdog covers a killed process
--
-- Every daemon, guest disk and console log of a process lives under one
-- session directory, ${TMPDIR:-/tmp}/luvirt-test-<pid>-<random>; a watchdog
-- started with the first of them removes it all when the process exits
-- without calling cleanup_all (SIGKILL, a crash, an interrupted run).

local M = {}

-- Where the project lives: the scripts are found relative to this file, so
-- specs can run from any directory.
local function find_root()
  local env = os.getenv("LUVIRT_ROOT")
  if env and env ~= "" then return env end
  local src = debug and debug.getinfo and debug.getinfo(1, "S").source or ""
  src = src:gsub("^@", "")
  local root = src:match("^(.*)/spec/helpers/[^/]+$")
  if src:match("^spec/helpers/") then root = "." end
  root = root or "."
  if root:sub(1, 1) ~= "/" then
    local p = assert(io.popen("pwd"))
    local cwd = p:read("l")
    p:close()
    root = root == "." and cwd or (cwd .. "/" .. root)
  end
  return root
end

M.root = find_root()
M.scripts = M.root .. "/scripts/testbed"
-- shared across runs and build directories: the guest and QEMU's capabilities
M.cache = os.getenv("LUVIRT_TESTBED_CACHE") or (M.root .. "/build/testbed")

local function q(s)
  return "'" .. tostring(s):gsub("'", "'\\''") .. "'"
end

-- Run a shell command; return its output, or raise with the output in the
-- message so a failing start-up says why.
local function run(cmd)
  local p = assert(io.popen(cmd .. " 2>&1", "r"))
  local out = p:read("a")
  local ok, how, code = p:close()
  if not ok then
    error(("testbed: command failed (%s %s): %s\n%s"):format(how, tostring(code), cmd, out), 2)
  end
  return out
end

local function parse_kv(out)
  local t = {}
  for line in out:gmatch("[^\n]+") do
    local k, v = line:match("^([%w_]+)=(.*)$")
    if k then t[k] = v end
  end
  return t
end

local function read_file(path)
  local f = io.open(path, "rb")
  if not f then return nil end
  local s = f:read("a")
  f:close()
  return s
end
M.read_file = read_file

-- The pid of this very process: /proc/self is opened in-process, so it is
-- the Lua interpreter (or the luvirt host), not a child shell.
local function self_pid()
  local s = assert(read_file("/proc/self/stat"), "testbed: /proc is not mounted")
  return tonumber(s:match("^(%d+)"))
end
M.pid = self_pid()

local function command_exists(name)
  return os.execute("command -v " .. q(name) .. " >/dev/null 2>&1") == true
end

-- Whether the test bed can run here: root, and the programs of its Debian
-- packages (what `make deps` installs).  Returns true, or false and a reason.
function M.check(opts)
  opts = opts or {}
  local id = io.popen("id -u")
  local uid = id and id:read("l")
  if id then id:close() end
  if uid ~= "0" then
    return false, "not root (private libvirtd daemons, mount and network namespaces need root)"
  end
  local need = {
    { "/usr/sbin/libvirtd", "libvirt-daemon" }, { "virsh", "libvirt-clients" },
    { "tini", "tini" }, { "unshare", "util-linux" }, { "ip", "iproute2" },
  }
  if opts.qemu ~= false then
    for _, x in ipairs {
      { "qemu-system-x86_64", "qemu-system-x86" }, { "qemu-img", "qemu-utils" },
      { "/bin/busybox", "busybox-static" }, { "cpio", "cpio" },
    } do need[#need + 1] = x end
  end
  local missing = {}
  for _, x in ipairs(need) do
    local ok
    if x[1]:sub(1, 1) == "/" then
      ok = os.execute("test -x " .. q(x[1])) == true
    else
      ok = command_exists(x[1])
    end
    if not ok then missing[#missing + 1] = x[2] end
  end
  if #missing > 0 then
    return false, "missing packages: " .. table.concat(missing, " ") .. " (run: make deps)"
  end
  return true
end

-- ---------------------------------------------------------------------------
-- session: one directory and one watchdog per process

local session -- { dir =, watchdog = }
local daemons = {} -- dir -> daemon table, still running
local nets = {} -- prefix -> netns table, still up
local counter = 0

local function session_dir()
  if session then return session.dir end
  local tmp = os.getenv("TMPDIR")
  if not tmp or tmp == "" then tmp = "/tmp" end
  local rnd = (read_file("/proc/sys/kernel/random/uuid") or tostring(os.time())):sub(1, 8)
  local dir = ("%s/luvirt-test-%d-%s"):format(tmp, M.pid, rnd)
  run("mkdir -p " .. q(dir) .. " && : > " .. q(dir .. "/.luvirt-session"))
  local w = run(("%s/watchdog.sh %d %s/cleanup.sh %s"):format(
    q(M.scripts), M.pid, q(M.scripts), q(dir)))
  session = { dir = dir, watchdog = tonumber(w:match("(%d+)%s*$")) }
  return dir
end
M.session_dir = session_dir

-- ---------------------------------------------------------------------------
-- TCP ports

local taken = {}

local function ports_in_use()
  local used = {}
  for _, f in ipairs { "/proc/net/tcp", "/proc/net/tcp6" } do
    local s = read_file(f) or ""
    for port in s:gmatch("\n%s*%d+:%s+%x+:(%x+)") do
      used[tonumber(port, 16)] = true
    end
  end
  return used
end

-- A TCP port nobody listens on, starting from a point that depends on the
-- pid so that parallel runs start far apart; ports handed out before in
-- this process are skipped too.  Range 20000-29999: below the kernel's
-- ephemeral ports and libvirt's migration ports (49152+).
function M.free_port()
  local used = ports_in_use()
  local start = (M.pid * 37) % 5000 * 2
  for i = 0, 9999 do
    local port = 20000 + (start + i) % 10000
    if not used[port] and not taken[port] then
      taken[port] = true
      return port
    end
  end
  error("testbed: no free TCP port in 20000-29999")
end

-- ---------------------------------------------------------------------------
-- daemons

local Daemon = {}
Daemon.__index = Daemon

local function signal_arg(sig)
  if math.type(sig) == "integer" then return tostring(sig) end
  sig = tostring(sig or "TERM"):upper():gsub("^SIG", "")
  assert(sig:match("^%u[%u%d]*$"), "testbed: bad signal name")
  return sig
end

-- Send a signal to libvirtd itself (not tini): STOP freezes it for keepalive
-- specs, CONT thaws it, KILL crashes it.
function Daemon:kill(sig)
  local ok = os.execute(("kill -%s %d"):format(signal_arg(sig), self.pid))
  if not ok then error(("testbed: kill -%s %d failed"):format(signal_arg(sig), self.pid), 2) end
end

-- Stop the daemon and its guests and remove its directory.  Idempotent.
function Daemon:stop()
  if self.stopped then return end
  run(("%s/daemon.sh stop %s --rm"):format(q(M.scripts), q(self.dir)))
  self.stopped = true
  daemons[self.dir] = nil
end

function Daemon:__tostring()
  return ("testbed daemon %s (pid %d)"):format(self.dir, self.pid)
end

-- Start a private libvirtd.  opts (all optional):
--   tcp = false       no TCP listener (default: one on 127.0.0.1, free port)
--   tcp_port = N      that port instead of a free one
--   netns = n[1]      inside a namespace of tb.netns() (listens on its address,
--                     port 16509, and that address is the migration address);
--                     or a namespace name, with listen = ADDR
--   listen, migration_addr, name (hostname), log_filters
-- Returns a daemon table: dir socket ro_socket pid tini_pid test_uri qemu_uri
-- ro_test_uri host_uuid name, when listening on TCP also listen tcp_port
-- tcp_test_uri tcp_qemu_uri, start_seconds, and the methods stop and kill.
function M.daemon(opts)
  opts = opts or {}
  local sdir = session_dir()
  counter = counter + 1
  local dir = ("%s/d%d"):format(sdir, counter)
  local netns, listen, maddr = opts.netns, opts.listen, opts.migration_addr
  if type(netns) == "table" then
    listen = listen or netns.addr
    maddr = maddr or netns.addr
    netns = netns.name
  end
  local port, auto_port = opts.tcp_port, false
  if opts.tcp ~= false and not port then
    if netns then port = 16509 else port, auto_port = M.free_port(), true end
  end
  local args = { q(M.scripts) .. "/daemon.sh", "start", q(dir),
    "--caps-cache", q(M.cache .. "/qemu-caps") }
  local function add(flag, v) if v then args[#args + 1] = flag; args[#args + 1] = q(v) end end
  add("--listen", listen)
  add("--netns", netns)
  add("--migration-addr", maddr)
  add("--name", opts.name)
  add("--log-filters", opts.log_filters)
  -- another run may grab an automatically chosen port between the check and
  -- libvirtd's bind: then try the next one
  local out, err
  for _ = 1, auto_port and 3 or 1 do
    local cmd = table.concat(args, " ") .. (port and (" --tcp " .. port) or "")
    local ok, res = pcall(run, cmd)
    if ok then out = res; break end
    err = res
    if auto_port then port = M.free_port() end
  end
  if not out then error(err, 2) end
  local d = parse_kv(out)
  d.pid = tonumber(d.pid)
  d.tini_pid = tonumber(d.tini_pid)
  d.tcp_port = tonumber(d.tcp_port)
  d.start_seconds = tonumber(d.start_seconds)
  setmetatable(d, Daemon)
  daemons[d.dir] = d
  return d
end

-- ---------------------------------------------------------------------------
-- network namespaces

-- Two network namespaces joined by a veth pair: n[1] = { name=, addr="10.99.0.1" },
-- n[2] = { name=, addr="10.99.0.2" }; n:down() removes them (cleanup_all does too).
function M.netns(opts)
  opts = opts or {}
  local sdir = session_dir()
  counter = counter + 1
  local prefix = opts.prefix or ("lvt%d_%d_"):format(M.pid, counter)
  -- recorded first: the watchdog must know it even if "up" dies half-way
  local f = assert(io.open(sdir .. "/netns", "a"))
  f:write(prefix, "\n")
  f:close()
  local kv = parse_kv(run(("%s/netns.sh up %s"):format(q(M.scripts), q(prefix))))
  local n = {
    prefix = prefix,
    { name = kv.ns1, addr = kv.addr1 },
    { name = kv.ns2, addr = kv.addr2 },
  }
  function n.down()
    if n.is_down then return end
    run(("%s/netns.sh down %s"):format(q(M.scripts), q(prefix)))
    n.is_down = true
    nets[prefix] = nil
  end
  nets[prefix] = n
  return n
end

-- ---------------------------------------------------------------------------
-- the guest

local guest

-- Build (first time only, then cached in build/testbed/guest) and describe
-- the tiny guest: { dir, kernel, initrd, disk (template), template (domain
-- XML with @PLACEHOLDERS@), cmdline }.
function M.guest()
  if guest then return guest end
  local dir = M.cache .. "/guest"
  run(("%s/make-guest.sh %s"):format(q(M.scripts), q(dir)))
  guest = {
    dir = dir,
    kernel = dir .. "/vmlinuz",
    initrd = dir .. "/initrd.gz",
    disk = dir .. "/disk.qcow2",
    template = assert(read_file(dir .. "/domain.xml.in"), "testbed: guest template missing"),
    cmdline = (assert(read_file(dir .. "/cmdline")):gsub("%s+$", "")),
  }
  return guest
end

local function xml_escape(s)
  return (tostring(s):gsub("[&<>'\"]", { ["&"] = "&amp;", ["<"] = "&lt;", [">"] = "&gt;",
    ["'"] = "&apos;", ['"'] = "&quot;" }))
end

-- Domain XML for a fresh instance of the guest.  opts:
--   name (default "tiny"), dir (default <session>/guests),
--   mem in MiB (default 96, plus the dirty set when dirty is given),
--   dirty = MiB/s of RAM the guest rewrites, dirtyset = MiB it cycles over (16),
--   cmdline = extra kernel arguments.
-- Copies the disk template to DIR/NAME.qcow2 (replacing an old one) and
-- empties DIR/NAME.console.log; returns the XML and { name, disk, console_log, dir }.
function M.domain_xml(opts)
  opts = opts or {}
  local g = M.guest()
  local name = opts.name or "tiny"
  assert(name:match("^[%w_.-]+$"), "testbed: guest name must be [A-Za-z0-9_.-]+")
  local dir = opts.dir or (session_dir() .. "/guests")
  local disk = dir .. "/" .. name .. ".qcow2"
  local log = dir .. "/" .. name .. ".console.log"
  run(("mkdir -p %s && cp --sparse=always %s %s && : > %s"):format(q(dir), q(g.disk), q(disk), q(log)))
  local cmdline = g.cmdline
  local dirtyset = opts.dirtyset or 16
  local mem = opts.mem
  if opts.dirty then
    cmdline = ("%s dirty=%d dirtyset=%d"):format(cmdline, opts.dirty, dirtyset)
    mem = mem or (96 + dirtyset + 8)
  end
  if opts.cmdline then cmdline = cmdline .. " " .. opts.cmdline end
  local vals = {
    NAME = name, MEMORY_MIB = tostring(mem or 96), KERNEL = g.kernel, INITRD = g.initrd,
    CMDLINE = cmdline, DISK = disk, CONSOLE_LOG = log,
  }
  local xml = g.template:gsub("@([%u_]+)@", function(k)
    return vals[k] and xml_escape(vals[k]) or nil
  end)
  return xml, { name = name, disk = disk, console_log = log, dir = dir }
end

-- ---------------------------------------------------------------------------
-- teardown

-- Stop every daemon (with its guests) and network namespace this process
-- started, remove the session directory and stand the watchdog down.
-- Raises if something could not be cleaned up.
function M.cleanup_all()
  if not session then return end
  local s = session
  run(("%s/cleanup.sh %s"):format(q(M.scripts), q(s.dir)))
  for _, d in pairs(daemons) do d.stopped = true end
  for _, n in pairs(nets) do n.is_down = true end
  daemons, nets = {}, {}
  session = nil
  if s.watchdog then
    -- its own process group: the loop and its sleep go together
    os.execute(("kill -TERM -%d 2>/dev/null"):format(s.watchdog))
  end
end

return M
