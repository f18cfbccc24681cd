-- The luvirt command line, run as a child process.
local luvirt = (os.getenv("BUILD") or "build") .. "/luvirt"

local function sh(cmd)
  local p = io.popen(cmd .. " 2>&1; echo \"rc=$?\"")
  local out = p:read("a")
  p:close()
  local rc = tonumber(out:match("rc=(%d+)\n$"))
  return out:gsub("rc=%d+\n$", ""), rc
end

local function q(s) return "'" .. s:gsub("'", "'\\''") .. "'" end

describe("the luvirt command", function()
  it("prints its version and help", function()
    local out, rc = sh(luvirt .. " -v")
    assert.equals(0, rc)
    assert.matches("^luvirt %d+%.%d+%.%d+ %(Lua 5%.4", out)
    assert.matches("libvirt 9", out)
    out, rc = sh(luvirt .. " --help")
    assert.equals(0, rc)
    assert.matches("usage: luvirt", out)
    assert.matches("%-e chunk", out)
  end)

  it("keeps Lua warnings off until a script turns them on, as lua does", function()
    local out, rc = sh(luvirt .. " -e " .. q('warn("hidden"); warn("@on"); warn("shown ", "in parts"); '
      .. 'warn("@off"); warn("hidden again")'))
    assert.equals(0, rc)
    assert.equals("Lua warning: shown in parts\n", out)
  end)

  it("refuses an unknown option with the usage", function()
    local out, rc = sh(luvirt .. " --bogus")
    assert.equals(1, rc)
    assert.matches("unrecognized option '%-%-bogus'", out)
    out, rc = sh(luvirt .. " -e")
    assert.equals(1, rc)
    assert.matches("needs an argument", out)
  end)

  it("runs -e chunks in order, each as a task", function()
    local out, rc = sh(luvirt .. " -e " .. q("x = 1 print(require'virt'.in_task())") ..
      " -e " .. q("print(x + 1)"))
    assert.equals(0, rc)
    assert.equals("true\n2\n", out)
  end)

  it("loads -l libraries into globals", function()
    local out, rc = sh(luvirt .. " -l string -e " .. q("print(string.upper('ok'))"))
    assert.equals(0, rc)
    assert.equals("OK\n", out)
  end)

  it("runs a script with arg and ... as lua does", function()
    local path = os.tmpname()
    local f = assert(io.open(path, "w"))
    f:write("print(arg[0] == ..., select('#', ...), arg[1], arg[2], ...)")
    f:close()
    local out, rc = sh(luvirt .. " " .. path .. " a b")
    os.remove(path)
    assert.equals(0, rc)
    assert.equals("false\t2\ta\tb\ta\tb\n", out)
  end)

  it("runs stdin with -", function()
    local out, rc = sh("echo 'print(6 * 7)' | " .. luvirt .. " -")
    assert.equals(0, rc)
    assert.equals("42\n", out)
  end)

  it("exits 1 with a traceback on an uncaught error, also inside a libvirt call", function()
    local out, rc = sh(luvirt .. " -e " .. q("local function f() error('kaput') end f()"))
    assert.equals(1, rc)
    assert.matches("kaput", out)
    assert.matches("stack traceback", out)
    out, rc = sh(luvirt .. " -e " .. q("require'virt'.new'test:///default':get_domain_by_name'nope'"))
    assert.equals(1, rc)
    assert.matches("libvirt error 42", out)
    assert.matches("Domain not found", out)
  end)

  it("exits 1 on a syntax error", function()
    local out, rc = sh(luvirt .. " -e " .. q("this is not lua"))
    assert.equals(1, rc)
    assert.matches("syntax error", out)
    out, rc = sh(luvirt .. " /nonexistent/script.lua")
    assert.equals(1, rc)
    assert.matches("cannot open", out)
  end)

  it("reports a task left suspended with nothing to wake it", function()
    local out, rc = sh(luvirt .. " -e " .. q("require'virt'.event():wait()"))
    assert.equals(1, rc)
    assert.matches("nothing is left on the loop to wake it", out)
  end)

  it("waits for spawned tasks and registered callbacks before exiting", function()
    local out, rc = sh(luvirt .. " -e " .. q([[
      local virt = require "virt"
      virt.spawn(function() virt.sleep(50) print("late task") end)
      local n = 0
      virt.Event.add_timeout(10, function(t) n = n + 1 if n == 3 then virt.Event.remove_timeout(t) print("timer done") end end)
      print("main done")]]))
    assert.equals(0, rc)
    assert.matches("main done\n", out)
    assert.matches("timer done\n", out)
    assert.matches("late task\n", out)
  end)

  it("lets luv share the loop with libvirt", function()
    local out, rc = sh(luvirt .. " -e " .. q([[
      local uv, virt = require "luv", require "virt"
      local t = uv.new_timer()
      t:start(20, 0, function() print("uv timer") t:close() end)
      virt.sleep(40)
      print("after")]]))
    assert.equals(0, rc)
    assert.equals("uv timer\nafter\n", out)
  end)

  it("reports an error in a luv callback without exiting the process", function()
    local out, rc = sh(luvirt .. " -e " .. q([[
      local uv = require "luv"
      local t = uv.new_timer()
      t:start(5, 0, function() t:close() error("in luv") end)
      require("virt").sleep(30)
      print("still here")]]))
    assert.equals(0, rc)
    assert.matches("in luv", out)
    assert.matches("still here", out)
  end)
end)
