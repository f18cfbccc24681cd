-- The REPL on a real terminal: luvirt runs in a tmux pane; keys go in with
-- send-keys and the screen comes back with capture-pane.  HOME is a
-- temporary directory, so history and the startup file are the spec's own.
local virt = require "virt"
local fx = require "spec.helpers.fixtures"

local BUILD = os.getenv("BUILD") or "build"
local LUVIRT = BUILD .. "/luvirt"

local function sh(cmd)
  local p = assert(io.popen(cmd .. " 2>&1"))
  local out = p:read("a")
  local ok, _, code = p:close()
  return out, ok, code
end

local function q(s)
  return "'" .. s:gsub("'", [['\'']]) .. "'"
end

local function now_ms()
  return require("luv").hrtime() / 1e6
end

assert(select(2, sh("command -v tmux")),
  "tmux is needed for the REPL specs (Debian: apt-get install tmux)")
assert(io.open(LUVIRT), "no " .. LUVIRT .. ": build first (BUILD=" .. BUILD .. ")")

-- A luvirt REPL in a private tmux server.
local Term = {}
Term.__index = Term

local function start(home, extra_env)
  local self = setmetatable({ home = home }, Term)
  self.sock = home .. "/tmux.sock"
  local cmd = ("env -u TMUX HOME=%s %s %s; echo $? > %s"):format(
    q(home), extra_env or "", q(LUVIRT), q(home .. "/exit-status"))
  os.remove(home .. "/exit-status")
  local _, ok = sh(("env -u TMUX tmux -S %s new-session -d -s repl -x 160 -y 50 %s"):format(
    q(self.sock), q(cmd)))
  assert(ok, "tmux could not start the REPL")
  self:wait_for("^>", 5000)
  return self
end

function Term:tmux(args)
  return sh(("tmux -S %s %s"):format(q(self.sock), args))
end

-- Literal text (-l: no key names), then optional keys (Enter, Tab, C-c...).
function Term:type(text, ...)
  if text and text ~= "" then
    self:tmux("send-keys -t repl -l " .. q(text))
  end
  local keys = table.concat({ ... }, " ")
  if keys ~= "" then self:tmux("send-keys -t repl " .. keys) end
end

function Term:screen()
  return (self:tmux("capture-pane -p -t repl"))
end

function Term:lines()
  local t = {}
  for l in (self:screen() .. "\n"):gmatch("(.-)\n") do t[#t + 1] = l end
  while #t > 0 and t[#t]:match("^%s*$") do t[#t] = nil end
  return t
end

-- Wait until some line of the screen matches pattern (or the whole
-- screen, for a pattern with a newline); the screen on success.
function Term:wait_for(pattern, timeout)
  local deadline = now_ms() + (timeout or 5000)
  repeat
    local s = self:screen()
    for l in (s .. "\n"):gmatch("(.-)\n") do
      if l:find(pattern) then return s end
    end
    virt.sleep(50)
  until now_ms() > deadline
  error(("timed out waiting for %q; the screen:\n%s"):format(pattern, self:screen()), 2)
end

-- Lines that begin with the prompt (capture-pane drops trailing blanks).
function Term:prompts()
  local n = 0
  for _, l in ipairs(self:lines()) do
    if l == ">" or l:find("^> ") then n = n + 1 end
  end
  return n
end

-- Type a line and wait for the next prompt.
function Term:run(line, timeout)
  local before = self:prompts()
  self:type(line, "Enter")
  local deadline = now_ms() + (timeout or 5000)
  while self:prompts() <= before do
    if now_ms() > deadline then
      error(("no prompt after %q; the screen:\n%s"):format(line, self:screen()), 2)
    end
    virt.sleep(50)
  end
end

function Term:alive()
  return select(2, self:tmux("has-session -t repl")) == true
end

-- Wait for luvirt to exit; its exit status.
function Term:exit_status(timeout)
  local deadline = now_ms() + (timeout or 3000)
  while self:alive() and now_ms() < deadline do virt.sleep(50) end
  assert(not self:alive(), "luvirt did not exit; the screen:\n" .. self:screen())
  local f = assert(io.open(self.home .. "/exit-status"))
  local status = tonumber(f:read("a"))
  f:close()
  return status
end

function Term:close()
  if self:alive() then self:tmux("kill-server") end
end

describe("the REPL", function()
  local home, term
  before_each(function()
    home = fx.tmpdir()
  end)
  after_each(function()
    if term then term:close() end
    term = nil
    os.execute("rm -rf " .. q(home))
  end)

  it("completes conn:list_ with the connection's list_ methods", function()
    local conn = virt.new{ uri = "test:///default" }
    local expected = {}
    for k, v in pairs(getmetatable(conn).__index) do
      if type(k) == "string" and k:match("^list_") and type(v) == "function" then
        expected[#expected + 1] = k
      end
    end
    conn:close()
    assert.is_true(#expected >= 1)
    term = start(home)
    term:run('conn = virt.new{uri="test:///default"}')
    term:type("conn:list_", "Tab", "Tab")
    local screen = term:wait_for(expected[1])
    for _, name in ipairs(expected) do
      assert.truthy(screen:find(name, 1, true), name .. " missing from:\n" .. screen)
    end
    -- several candidates are listed as bare method names, one per column
    term:type(nil, "C-u")
    term:type("conn:get_", "Tab", "Tab")
    screen = term:wait_for("get_hostname%s+")
    assert.truthy(screen:find("\nget_[%w_]+%s+get_[%w_]+"), screen)
    assert.truthy(screen:find("get_uri", 1, true))
    -- a unique method completes on the line, with its parenthesis
    term:type(nil, "C-u")
    term:type("conn:get_hostn", "Tab")
    term:wait_for("^> conn:get_hostname%($")
  end)

  it("completes without calling anything (no __index function runs)", function()
    term = start(home)
    term:run("calls = 0; p = setmetatable({ real = 1 }, { __index = function() calls = calls + 1 end })")
    term:type("p.re", "Tab")
    term:wait_for("^> p%.real$")
    term:type(nil, "C-u")
    term:run("calls")
    local lines = term:lines()
    assert.equals("0", lines[#lines - 1])
  end)

  it("keeps a half-typed line intact when a libvirt event is printed above it", function()
    term = start(home)
    term:run('conn = virt.new{uri="test:///default"}')
    term:run('conn:domain_event_register_any(nil, virt.Domain.EVENT_ID_LIFECYCLE, ' ..
             'function(c, d, ev, detail) print("EVENT " .. d:get_name() .. " " .. ev) end)')
    term:run('virt.spawn(function() virt.sleep(1500) conn:get_domain_by_name("test"):suspend() end)')
    term:type("x = 12")
    local screen = term:wait_for("^EVENT test " .. virt.Domain.EVENT_SUSPENDED, 5000)
    local lines = term:lines()
    assert.equals("> x = 12", lines[#lines], screen)
    assert.matches("^EVENT test", lines[#lines - 1])
    -- what readline holds is intact too, not only the picture of it
    term:run("34")
    term:run("x")
    lines = term:lines()
    assert.equals("1234", lines[#lines - 1])
  end)

  it("returns to the prompt within a second when Ctrl-C interrupts virt.sleep(10000)", function()
    term = start(home)
    term:type("virt.sleep(10000)", "Enter")
    virt.sleep(300)
    local t0 = now_ms()
    term:type(nil, "C-c")
    term:wait_for("^interrupted$", 1000)
    local lines
    repeat
      lines = term:lines()
      virt.sleep(20)
    until lines[#lines] == ">" or lines[#lines] == "> " or now_ms() - t0 > 1000
    local elapsed = now_ms() - t0
    assert.is_true(elapsed < 1000, ("the prompt came back after %.0f ms"):format(elapsed))
    term:run("1 + 1")
    lines = term:lines()
    assert.equals("2", lines[#lines - 1])
  end)

  it("interrupts a chunk spinning in Lua with Ctrl-C", function()
    term = start(home)
    term:type("n = 0 while true do n = n + 1 end", "Enter")
    virt.sleep(300)
    term:type(nil, "C-c")
    term:wait_for("interrupted", 2000)
    term:run("n > 0")
    local lines = term:lines()
    assert.equals("true", lines[#lines - 1])
  end)

  it("drops the typed line on Ctrl-C at the prompt, and exits on Ctrl-D", function()
    term = start(home)
    term:type("this is not run")
    term:type(nil, "C-c")
    term:wait_for("%^C$")
    term:run("'still here'")
    assert.truthy(term:screen():find('"still here"', 1, true))
    term:type(nil, "C-d")
    assert.equals(0, term:exit_status())
  end)

  it("exits cleanly on Ctrl-D with an interrupted chunk still asleep", function()
    term = start(home)
    term:run('conn = virt.new{uri="test:///default"}')
    term:type("virt.sleep(60000)", "Enter")
    virt.sleep(200)
    term:type(nil, "C-c")
    term:wait_for("^interrupted$", 1000)
    local t0 = now_ms()
    term:type(nil, "C-d")
    assert.equals(0, term:exit_status(3000))
    assert.is_true(now_ms() - t0 < 3000)
  end)

  it("keeps its history across a restart, in a private ~/.luvirt_history", function()
    term = start(home)
    term:run("histmark = 4242")
    term:type(nil, "C-d")
    assert.equals(0, term:exit_status())
    local f = assert(io.open(home .. "/.luvirt_history"))
    assert.truthy(f:read("a"):find("histmark = 4242", 1, true))
    f:close()
    assert.equals("600", (sh("stat -c %a " .. q(home .. "/.luvirt_history")):gsub("%s", "")))
    term = start(home)
    term:type(nil, "Up")
    term:wait_for("^> histmark = 4242$")
  end)

  it("prints values with the pretty printer, continues incomplete input on >>, and shows errors", function()
    fx.write(home .. "/.luvirtrc.lua", "rc_loaded = 'yes'\n")
    term = start(home)
    term:run("rc_loaded")
    assert.truthy(term:screen():find('"yes"', 1, true))
    term:type("t = {", "Enter")
    term:wait_for("^>>%s*$")
    term:run("1, 2, nested = { a = true } }")
    term:run("t.self = t")
    term:run("=t")
    assert.truthy(term:screen():find("<1>{ 1, 2, nested = { a = true }, self = <cycle 1> }", 1, true),
      term:screen())
    term:run('conn = virt.new{uri="test:///default"}')
    term:run('conn:get_domain_by_name("test")')
    assert.truthy(term:screen():find("<Domain test", 1, true), term:screen())
    term:run('error("boom")')
    assert.truthy(term:screen():find("stdin:1: boom", 1, true))
    term:run("x y")
    assert.truthy(term:screen():find("syntax error near 'y'", 1, true))
  end)
end)
