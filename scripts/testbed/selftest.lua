-- Self-test of the test bed itself (spec/helpers/testbed.lua and the
-- scripts beside this file), in plain Lua 5.4 with virsh as the independent
-- client: the binding's own specs never use virsh.  Run as root from the
-- project root:
--
--   lua5.4 scripts/testbed/selftest.lua [--no-guest] [--no-netns]
--
-- Prints one line per check with timings; exits non-zero on the first failure.
package.path = "./?.lua;" .. package.path
local tb = require "spec.helpers.testbed"

local want_guest, want_netns = true, true
for _, a in ipairs(arg) do
  if a == "--no-guest" then want_guest = false end
  if a == "--no-netns" then want_netns = false end
end

local function now()
  local p = io.popen("date +%s.%N")
  local t = tonumber(p:read("l"))
  p:close()
  return t
end

local function sh(cmd)
  local p = io.popen(cmd .. " 2>&1")
  local out = p:read("a")
  local ok = p:close()
  return ok, out
end

local failures = 0
local function check(cond, what, extra)
  print((cond and "ok   " or "FAIL ") .. what .. (extra and ("  " .. extra) or ""))
  if not cond then
    failures = failures + 1
    tb.cleanup_all()
    os.exit(1)
  end
end

local function virsh(uri, cmd)
  return sh(("virsh -q -c '%s' %s"):format(uri, cmd))
end

local function alive(pid)
  local s = tb.read_file(("/proc/%d/stat"):format(pid))
  return s ~= nil and not s:match("^%d+ %b() [ZX]")
end

local function mounted_under(dir)
  local s = tb.read_file("/proc/self/mountinfo") or ""
  return s:find(dir, 1, true) ~= nil
end

local function exists(path)
  return os.execute("test -e '" .. path .. "'") == true
end

local function wait_for(pred, secs)
  local t0 = now()
  while not pred() do
    if now() - t0 > secs then return false end
    os.execute("sleep 0.1")
  end
  return true
end

local ok, why = tb.check{ qemu = want_guest }
check(ok, "tb.check()", why)

-- two daemons at once --------------------------------------------------------
local t0 = now()
local a = tb.daemon{}
local ta = now() - t0
t0 = now()
local b = tb.daemon{}
local tbb = now() - t0
check(a.pid and b.pid and a.pid ~= b.pid, "two daemons started",
  ("start %.3fs / %.3fs (daemon.sh's own: %.3fs / %.3fs)"):format(ta, tbb, a.start_seconds, b.start_seconds))
check(a.host_uuid ~= b.host_uuid, "distinct host_uuid")
check(a.tcp_port ~= b.tcp_port, "distinct TCP ports", a.tcp_port .. " " .. b.tcp_port)
for _, d in ipairs { a, b } do
  local okv, out = virsh(d.test_uri, "uri")
  check(okv and out:find(d.test_uri, 1, true) == 1, "virsh -c test_uri uri", d.test_uri)
  okv, out = virsh(d.tcp_test_uri, "list --all")
  check(okv and out:match("test%s+running"), "virsh over TCP", d.tcp_test_uri)
  okv, out = sh(("virsh -q -r -c '%s' list"):format(d.ro_test_uri))
  check(okv and out:match("test"), "read-only socket")
end
t0 = now()
local okq, outq = virsh(a.qemu_uri, "version")
check(okq and outq:match("QEMU"), "qemu_uri answers", ("first qemu call %.3fs"):format(now() - t0))

-- SIGSTOP / SIGCONT reach libvirtd itself
a:kill("STOP")
local st = tb.read_file(("/proc/%d/stat"):format(a.pid))
check(st:match("^%d+ %b() T"), "kill('STOP') freezes libvirtd")
a:kill("SIGCONT")
check(virsh(a.test_uri, "uri"), "kill('SIGCONT') thaws it")

-- the guest -------------------------------------------------------------------
if want_guest then
  t0 = now()
  local g = tb.guest()
  check(exists(g.kernel) and exists(g.initrd) and exists(g.disk), "tb.guest()", ("%.3fs"):format(now() - t0))
  local xml, gi = tb.domain_xml{ name = "tiny" }
  local f = io.open(gi.dir .. "/tiny.xml", "w")
  f:write(xml)
  f:close()
  check(virsh(a.qemu_uri, "define " .. gi.dir .. "/tiny.xml"), "define")
  t0 = now()
  check(virsh(a.qemu_uri, "start tiny"), "start", ("%.3fs"):format(now() - t0))
  local ready = wait_for(function()
    return (tb.read_file(gi.console_log) or ""):match("GUEST%-READY")
  end, 60)
  check(ready, "ready line on the console", ("%.1fs after start"):format(now() - t0))
  local qpid = tonumber(tb.read_file(a.dir .. "/runlv/qemu/tiny.pid"))
  check(qpid and alive(qpid), "QEMU runs", "pid " .. tostring(qpid))
  -- stop the daemon with the guest still running: everything must go
  local dir = a.dir
  t0 = now()
  a:stop()
  local tstop = now() - t0
  check(not alive(qpid), "stop destroyed the guest")
  check(not alive(a.pid) and not alive(a.tini_pid), "stop ended libvirtd and tini", ("stop with a guest %.3fs"):format(tstop))
  local _, cg = sh("find /sys/fs/cgroup -maxdepth 3 -name 'qemu-*-tiny.libvirt-qemu'")
  check(cg == "", "no cgroup left", cg)
  check(not exists(dir) and not mounted_under(dir), "no dir or mount left", dir)
else
  t0 = now()
  a:stop()
  print(("     stop %.3fs"):format(now() - t0))
end
t0 = now()
b:stop()
local tstopb = now() - t0
check(not alive(b.pid) and not exists(b.dir), "second daemon stopped", ("stop %.3fs"):format(tstopb))
b:stop()
check(true, "stop is idempotent")

-- network namespaces ---------------------------------------------------------------
if want_netns then
  t0 = now()
  local n = tb.netns()
  check(exists("/run/netns/" .. n[1].name) and exists("/run/netns/" .. n[2].name), "tb.netns()",
    ("%.3fs"):format(now() - t0))
  local c = tb.daemon{ netns = n[1] }
  local d = tb.daemon{ netns = n[2] }
  local okn, out = sh(("ip netns exec %s virsh -q -c qemu+tcp://%s/system uri"):format(n[1].name, n[2].addr))
  check(okn and out:find("qemu+tcp://" .. n[2].addr, 1, true), "daemon in ns2 reached over the veth from ns1", c.tcp_qemu_uri)
  tb.cleanup_all()
  check(not exists("/run/netns/" .. n[1].name) and not alive(c.pid) and not alive(d.pid), "cleanup_all removes daemons and namespaces")
end

-- the watchdog: SIGKILL the owning process ------------------------------------------
local child = [[
package.path = "./?.lua;" .. package.path
local tb = require "spec.helpers.testbed"
local d = tb.daemon{}
local n = ]] .. (want_netns and "tb.netns()" or "nil") .. [[

io.write("SESSION=", tb.session_dir(), "\nPID=", d.pid, "\nTINI=", d.tini_pid,
  "\nNS=", n and n[1].name or "", "\nME=", tb.pid, "\n")
io.stdout:flush()
os.execute("sleep 60")
]]
local cf = io.open(tb.session_dir() .. "/child.lua", "w")
cf:write(child)
cf:close()
local p = io.popen("setsid lua5.4 " .. tb.session_dir() .. "/child.lua")
local info = {}
for line in p:lines() do
  local k, v = line:match("^(%u+)=(.*)$")
  if k then info[k] = v end
  if k == "ME" then break end
end
check(info.ME and alive(tonumber(info.PID)), "child process started a daemon", info.SESSION)
os.execute("kill -KILL -" .. info.ME) -- the child and its sleep
p:close()
t0 = now()
local gone = wait_for(function()
  return not exists(info.SESSION) and not alive(tonumber(info.PID)) and not alive(tonumber(info.TINI))
    and (info.NS == "" or not exists("/run/netns/" .. info.NS))
end, 15)
check(gone, "watchdog cleaned up after SIGKILL", ("%.2fs"):format(now() - t0))

tb.cleanup_all()
check(failures == 0, "all done")
