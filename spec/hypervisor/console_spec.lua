-- Hypervisor tier: the serial console of a real TCG guest through streams:
-- read/write in tasks on a NONBLOCK stream, add_callback, no worker thread
-- held by an idle reader, EOF when the guest stops, and scripts/console.lua
-- end to end (on a pipe and on a pseudo-terminal, whose mode it restores).
local virt = require "virt"
local uv = require "luv"
local S = require "spec.hypervisor.support"
local D, St = virt.Domain, virt.Stream

local LUVIRT = (os.getenv("BUILD") or "build") .. "/luvirt"
local TOOL = S.tb.root .. "/scripts/console.lua"

-- A child process with pipes on its three descriptors, read on the loop.
local function spawn(cmd, argv)
  local p = { out = "", err = "" }
  local pin, pout, perr = uv.new_pipe(false), uv.new_pipe(false), uv.new_pipe(false)
  local h, e = uv.spawn(cmd, { args = argv, stdio = { pin, pout, perr } }, function(code, sig)
    p.code, p.signal = code, sig
  end)
  assert(h, e)
  pout:read_start(function(_, data) if data then p.out = p.out .. data end end)
  perr:read_start(function(_, data) if data then p.err = p.err .. data end end)
  function p.write(s) pin:write(s) end
  function p.close_stdin() if not pin:is_closing() then pin:close() end end
  function p.wait_output(pattern, secs, where)
    return S.wait(function() return (where == "err" and p.err or p.out):find(pattern) end,
      secs or 30, ("%q from the tool (stdout: %q, stderr: %q)"):format(pattern, p.out:sub(-300), p.err))
  end
  function p.wait_exit(secs)
    S.wait(function() return p.code end, secs or 20, "the tool to exit (stderr: " .. p.err .. ")")
    for _, x in ipairs{ pout, perr } do if not x:is_closing() then x:close() end end
    p.close_stdin()
    if not h:is_closing() then h:close() end
    return p.code
  end
  return p
end

describe("hypervisor: the console of a guest", function()
  local d, conn, dom, con

  setup(function()
    d, conn = S.connect()
    dom, con = S.boot(conn, { name = "console" })
    con:close()   -- the specs below open their own
  end)

  teardown(function() S.teardown{ dom = dom, conn = conn } end)

  it("reads the guest's lines and echoes what write sends, on a NONBLOCK stream in tasks", function()
    local st = conn:new_stream(St.NONBLOCK)
    dom:open_console(st, nil, D.OPEN_CONSOLE_FORCE)
    local text = ""
    local reader = virt.spawn(function()
      for data in function() return st:read() end do text = text .. data end
    end)
    S.wait(function() return text:find("GUEST: tick %d+") end, 15, "a tick line")
    st:write("nonblocking hello\n")
    S.wait(function() return text:find("GUEST%-ECHO: nonblocking hello") end, 15, "the echo")
    st:abort()
    local ok, err = pcall(reader.wait, reader)
    assert.is_false(ok)
    assert.equals("the stream is aborted", err.message)
  end)

  it("holds no worker thread while a task waits for console output", function()
    local st = conn:new_stream(0)   -- blocking: recv waits for libvirt's event
    dom:open_console(st, nil, D.OPEN_CONSOLE_FORCE)
    local text, busy, err = "", 0, nil
    local reader = virt.spawn(function()
      local ok, e = pcall(function()
        while true do
          local n, data = st:recv(65536)
          if n <= 0 then return end
          text = text .. data
        end
      end)
      if not ok then err = e end
    end)
    for _ = 1, 40 do
      virt.sleep(50)
      if virt.loop_stats().jobs > 0 then busy = busy + 1 end
    end
    assert.is_nil(err)
    assert.matches("GUEST: tick %d+", text)
    assert.equals(0, busy)
    st:abort()
    reader:wait()
    assert.equals("the stream is aborted", err.message)
  end)

  it("delivers console output to add_callback and sends from it", function()
    local st = conn:new_stream(St.NONBLOCK)
    dom:open_console(st, nil, D.OPEN_CONSOLE_FORCE)
    local text, sent = "", false
    st:add_callback(St.EVENT_READABLE, function(s)
      while true do
        local n, data = s:recv(4096)
        if n <= 0 then return end
        text = text .. data
        if not sent and text:find("GUEST: tick") then
          sent = true
          assert.equals(14, s:send("from callback\n"))
        end
      end
    end)
    S.wait(function() return text:find("GUEST%-ECHO: from callback") end, 20, "the echo")
    st:remove_callback()
    st:abort()
  end)

  it("ends with EOF when the guest is destroyed, and starts again", function()
    local st = conn:new_stream(St.NONBLOCK)
    dom:open_console(st, nil, D.OPEN_CONSOLE_FORCE)
    local ended = false
    local reader = virt.spawn(function()
      while st:read() do end
      ended = true
    end)
    virt.sleep(200)
    dom:destroy()
    S.wait(function() return ended end, 15, "console EOF after destroy")
    reader:wait()
    st:finish()
    dom:create(D.START_PAUSED)
    con = S.console(conn, dom)
    dom:resume()
    con:wait("GUEST%-READY", 90)
    con:close()
  end)

  describe("scripts/console.lua", function()
    it("prints its help", function()
      local p = spawn(LUVIRT, { TOOL, "--help" })
      assert.equals(0, p.wait_exit())
      assert.matches("Usage: console.lua", p.out)
      assert.matches("%-%-force", p.out)
      assert.matches("%-%-escape", p.out)
    end)

    it("fails cleanly for an unknown domain", function()
      local p = spawn(LUVIRT, { TOOL, "-c", d.qemu_uri, "no-such-guest" })
      assert.equals(1, p.wait_exit())
      assert.matches("no domain with name, id or UUID 'no%-such%-guest'", p.err)
    end)

    it("relays a pipe both ways and leaves on the escape character", function()
      local p = spawn(LUVIRT, { TOOL, "-c", d.qemu_uri, "--force", "console" })
      p.wait_output("Escape character is %^%]", 20, "err")
      p.wait_output("GUEST: tick", 15)
      p.write("through the pipe\n")
      p.wait_output("GUEST%-ECHO: through the pipe", 15)
      p.write("\29")
      assert.equals(0, p.wait_exit())
      assert.matches("Connected to domain 'console'", p.err)
    end)

    it("refuses a console in use without --force, and takes it over with it", function()
      local st = conn:new_stream(St.NONBLOCK)
      dom:open_console(st, nil, 0)
      local p = spawn(LUVIRT, { TOOL, "-c", d.qemu_uri, "console" })
      assert.equals(1, p.wait_exit())
      assert.matches("%-%-force takes it over", p.err)
      p = spawn(LUVIRT, { TOOL, "-c", d.qemu_uri, "--force", "--escape", "^a", "console" })
      p.wait_output("Escape character is %^a", 20, "err")
      -- our session lost the console
      local ended = false
      virt.spawn(function() pcall(function() while st:read() do end end) ended = true end)
      S.wait(function() return ended end, 10, "the first session to end")
      p.write("\1")
      assert.equals(0, p.wait_exit())
      st:abort()
    end)

    it("ends --linger seconds after stdin does", function()
      local p = spawn(LUVIRT, { TOOL, "-c", d.qemu_uri, "--force", "--linger", "2", "console" })
      p.wait_output("Escape character", 20, "err")
      p.write("last words\n")
      p.close_stdin()
      assert.equals(0, p.wait_exit(20))
      assert.matches("GUEST%-ECHO: last words", p.out)
    end)

    it("runs raw on a terminal and restores its mode on the way out", function()
      -- script(1) gives the tool a pseudo-terminal; the shell around it
      -- prints the terminal's settings before and after
      local inner = ("stty -g; %s %s -c '%s' --force console; echo \"RC=$?\"; stty -g")
        :format(LUVIRT, TOOL, d.qemu_uri)
      local p = spawn("script", { "-q", "-e", "-c", inner, "/dev/null" })
      p.wait_output("Escape character is", 20)
      p.wait_output("GUEST: tick", 15)
      p.write("typed on a tty\r")
      p.wait_output("GUEST%-ECHO: typed on a tty", 15)
      p.write("\29")
      p.wait_output("RC=0", 15)
      p.close_stdin()
      p.wait_exit(10)
      local modes = {}
      for line in p.out:gmatch("[^\r\n]+") do
        if line:match("^%x+:%x+:%x+:%x+:[%x:]+$") then modes[#modes + 1] = line end
      end
      assert.equals(2, #modes)
      assert.equals(modes[1], modes[2])
    end)
  end)
end)
