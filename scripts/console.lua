-- console.lua: attach to a domain's text console, like `virsh console`.
--   luvirt scripts/console.lua [-c URI] [--devname NAME] [--force] [--safe] DOMAIN
-- On a terminal the keyboard goes to the guest raw; Ctrl-] (or --escape)
-- leaves and the terminal is restored however the session ends.  Without
-- a terminal stdin is forwarded as it comes, and the session ends --linger
-- seconds after stdin does.
-- SPDX-License-Identifier: LGPL-2.1-or-later
local virt = require "virt"
local uv = require "luv"
local argparse = require "argparse"

local D, S = virt.Domain, virt.Stream

local parser = argparse("console.lua", "Attach to the text console of a domain, like virsh console.")
  :epilog("Run it with luvirt: luvirt scripts/console.lua [options] DOMAIN")
parser:argument("domain", "Domain name, id or UUID.")
parser:option("-c --connect", "Hypervisor URI (default: $LIBVIRT_DEFAULT_URI, else libvirt's default).")
  :argname("URI")
parser:option("--devname", "Console or serial device alias (default: the first console).")
  :argname("NAME")
parser:flag("--force", "Take the console over from another session.")
parser:flag("--safe", "Only open the console if the driver can guarantee exclusive access.")
parser:option("--escape", "Escape sequence that leaves the console: ^X for Ctrl-X, or one character.", "^]")
  :argname("SEQ")
parser:option("--linger", "When stdin is not a terminal: seconds to keep reading after it ends.", "1")
  :argname("SECS")
local args = parser:parse(arg)

local function die(msg)
  io.stderr:write("console.lua: ", tostring(msg), "\n")
  os.exit(1)
end

local escape
if args.escape:match("^%^.$") then
  escape = string.char(args.escape:byte(2) & 0x1f)
elseif #args.escape == 1 then
  escape = args.escape
else
  die("--escape must be ^X or a single character, not " .. args.escape)
end
local linger = tonumber(args.linger)
if not linger or linger < 0 then die("--linger must be a number of seconds") end

local ok, conn = pcall(virt.new, { uri = args.connect or os.getenv("LIBVIRT_DEFAULT_URI") })
if not ok then die(conn) end

local function lookup(name)
  local found, dom = pcall(conn.get_domain_by_name, conn, name)
  if found then return dom end
  if name:match("^%d+$") then
    found, dom = pcall(conn.get_domain_by_id, conn, tonumber(name))
    if found then return dom end
  end
  found, dom = pcall(conn.get_domain_by_uuid_string, conn, name)
  if found then return dom end
  die(("no domain with name, id or UUID '%s'"):format(name))
end

local dom = lookup(args.domain)
if not dom:is_active() then die(("domain '%s' is not running"):format(dom:get_name())) end

local flags = (args.force and D.OPEN_CONSOLE_FORCE or 0) | (args.safe and D.OPEN_CONSOLE_SAFE or 0)
local st = conn:new_stream(S.NONBLOCK)
local opened, err = pcall(dom.open_console, dom, st, args.devname, flags)
if not opened then
  local hint = tostring(err):find("[Aa]ctive console") and " (another session has it: --force takes it over)" or ""
  die(tostring(err) .. hint)
end

-- ------------------------------------------------------------- terminal

local stdin_kind, stdout_kind = uv.guess_handle(0), uv.guess_handle(1)
local raw = stdin_kind == "tty"
local tin, tout
local restored = false

local function restore()
  if restored then return end
  restored = true
  if raw then uv.tty_reset_mode() end
end

local function note(msg)
  io.stderr:write(msg, raw and "\r\n" or "\n")
  io.stderr:flush()
end

-- Output never blocks the loop on a slow terminal or reader: luv writes it.
local function open_out()
  if stdout_kind == "tty" then
    return uv.new_tty(1, false)
  elseif stdout_kind == "pipe" then
    local p = uv.new_pipe(false)
    p:open(1)
    return p
  end
end
tout = open_out()
local function out(data)
  if tout then
    tout:write(data)
  else
    io.stdout:write(data)
    io.stdout:flush()
  end
end

-- -------------------------------------------------------------- session

local finished = virt.event()
local function quit(reason, code)
  finished:set(reason, code or 0)
end

-- What the keyboard typed goes to the guest in order, from one task.
local queue, pending = {}, virt.semaphore(0)
local function send(data)
  queue[#queue + 1] = data
  pending:release()
end
local writer = virt.spawn(function()
  while true do
    pending:acquire()
    local data = table.remove(queue, 1)
    if data == false then return end
    local sent, e = pcall(st.write, st, data)
    if not sent then
      quit("cannot write to the console: " .. tostring(e), 1)
      return
    end
  end
end)

local reader = virt.spawn(function()
  while true do
    local got, data = pcall(st.read, st, 65536)
    if not got then
      quit("console error: " .. tostring(data), 1)
      return
    end
    if not data then
      quit("the console was closed by the guest or the daemon")
      return
    end
    out(data)
  end
end)

local function on_input(data)
  local at = data:find(escape, 1, true)
  if at then
    if at > 1 then send(data:sub(1, at - 1)) end
    quit(nil)
    return
  end
  send(data)
end

-- stdin ended (not a terminal): send what is queued, give the guest
-- --linger seconds to answer, then leave.
local function input_ended()
  virt.spawn(function()
    while #queue > 0 do virt.sleep(10) end
    virt.sleep(math.floor(linger * 1000))
    quit(nil)
  end)
end

-- Everything from here runs with the terminal raw: whatever fails, restore it.
local signals = {}
local function session()
  if stdin_kind == "tty" or stdin_kind == "pipe" then
    if raw then
      tin = uv.new_tty(0, true)
      tin:set_mode(1)
    else
      tin = uv.new_pipe(false)
      tin:open(0)
    end
    tin:read_start(function(e, data)
      if e then
        quit("cannot read stdin: " .. e, 1)
      elseif data then
        on_input(data)
      else
        tin:read_stop()
        input_ended()
      end
    end)
  else
    -- a regular file or /dev/null: all of it at once
    local data = io.stdin:read("a") or ""
    if #data > 0 then on_input(data) end
    if not finished:is_set() then input_ended() end
  end

  for _, name in ipairs{ "sigterm", "sighup", "sigint" } do
    local h = uv.new_signal()
    h:start(name, function() quit("interrupted by " .. name:upper(), 130) end)
    signals[#signals + 1] = h
  end

  note(("Connected to domain '%s'"):format(dom:get_name()))
  note(("Escape character is %s"):format(args.escape))

  local reason, code = finished:wait()
  return reason, code
end

local ran, reason, code = pcall(session)
if not ran then
  restore()
  die(reason)
end

-- Tear down in an order that cannot leave the terminal raw.
restore()
if tin then tin:read_stop() tin:close() end
for _, h in ipairs(signals) do h:stop() h:close() end
send(false)
pcall(st.abort, st)
pcall(writer.wait, writer)
pcall(reader.wait, reader)
if tout then
  local t0 = uv.now()
  while tout:get_write_queue_size() > 0 and uv.now() - t0 < 2000 do virt.sleep(10) end
  tout:close()
end
note("")
if reason then note(reason) end
conn:close()
os.exit(code)
