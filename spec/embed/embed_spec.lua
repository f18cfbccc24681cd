-- The C embedding API: host/examples/embed.c and spec/embed/lifecycle.c are
-- compiled against the build's libluvirt.a and run, also under valgrind
-- (no definite leak, no memory error); then `make install` into a DESTDIR
-- and the example compiled with pkg-config against that copy
-- (scripts/check-install.sh).
local fx = require "spec.helpers.fixtures"

local BUILD = os.getenv("BUILD") or "build"

local function sh(cmd)
  local p = assert(io.popen(cmd .. " 2>&1"))
  local out = p:read("a")
  local ok, _, code = p:close()
  return out, ok == true, code
end

local function q(s)
  return "'" .. s:gsub("'", [['\'']]) .. "'"
end

local function need(tool, package)
  assert(sh("command -v " .. tool), ("%s is needed for the embed specs (Debian: %s)"):format(tool, package))
end

local tmp

-- A sanitizer build (make asan) links its programs with the sanitizers,
-- and they, not valgrind (which cannot run them), check memory.
local SANITIZED = select(2, sh("nm " .. q(BUILD .. "/libluvirt.a") .. " | grep -q __asan_"))
local SANFLAGS = SANITIZED and "-fsanitize=address,undefined" or ""

-- cc SRC against the build's static library; the path of the program.
local function build(src, name)
  local flags = sh("pkg-config --cflags --libs libvirt libvirt-qemu libvirt-lxc libvirt-admin lua5.4 libuv")
  local out = tmp .. "/" .. name
  local cmd = ("${CC:-cc} -std=c11 -Wall -Wextra -Werror -g %s -Ihost -o %s %s %s %s -llua5.4-luv -lpthread")
    :format(SANFLAGS, q(out), q(src), q(BUILD .. "/libluvirt.a"), flags:gsub("\n", " "))
  local log, ok = sh(cmd)
  assert(ok, "cannot build " .. src .. ":\n" .. log)
  return out
end

-- Run under valgrind: only definite leaks and memory errors count.  glibc
-- keeps a resolver context per thread for the thread's life, and the pool's
-- threads live until exit: spec/embed/valgrind.supp names that one.
local CHECKER = SANITIZED and "ASan/UBSan (a sanitizer build)" or "valgrind"
local function valgrind(cmd)
  if SANITIZED then return sh(cmd) end
  return sh(("valgrind --quiet --error-exitcode=99 --leak-check=full " ..
    "--errors-for-leak-kinds=definite --show-leak-kinds=definite " ..
    "--suppressions=spec/embed/valgrind.supp %s"):format(cmd))
end

-- The programs of spec/embed print one check a line (spec/embed/check.h)
-- and "N failed" last: run one, plainly or under the checker; all passed.
local function run_checks(cmd)
  local out, ok = sh(cmd)
  assert(ok, out)
  assert.not_matches("not ok", out)
  assert.matches("\n0 failed\n", out)
  return out
end

local function run_checks_checked(cmd)
  if not SANITIZED then need("valgrind", "valgrind") end
  local out, ok, code = valgrind(cmd)
  assert(ok, ("%s: exit %s:\n%s"):format(CHECKER, tostring(code), out))
  assert.matches("\n0 failed\n", out)
end

describe("the embedding API", function()
  setup(function()
    need("cc", "gcc")
    need("pkg-config", "pkg-config")
    assert(io.open(BUILD .. "/libluvirt.a"), "no " .. BUILD .. "/libluvirt.a: build first")
    tmp = fx.tmpdir()
  end)
  teardown(function()
    if tmp then os.execute("rm -rf " .. q(tmp)) end
  end)

  describe("host/examples/embed.c", function()
    local prog
    setup(function() prog = build("host/examples/embed.c", "embed") end)

    it("runs a script on the program's own uv loop, next to the program's timer", function()
      local out, ok = sh(prog)
      assert(ok, out)
      assert.matches("domain\ttest\t1\n", out)
      assert.matches("event\ttest\t" .. 3 .. "\t", out)        -- EVENT_SUSPENDED
      assert.matches("script done\n", out)
      local ticks = tonumber(out:match("own timer ticked (%d+) times"))
      assert.is_true(ticks and ticks >= 1, out)
      assert.matches("\nok\n$", out)
    end)

    it("runs on luvirt's own loop driven from poll(2) with the backend fd and timeout", function()
      local out, ok = sh(prog .. " --foreign")
      assert(ok, out)
      assert.matches("script done\n", out)
      assert.matches("poll%(2%) woke %d+ times", out)
      assert.matches("\nok\n$", out)
    end)

    it("reports a failing script with an exit status, never exit() from the library", function()
      local out, ok = sh(prog .. " test:///no/such/file.xml")
      assert.is_false(ok)
      assert.matches("embed: the script failed: ", out)
      assert.matches("FAILED\n$", out)
    end)

    it("leaks nothing definitely and makes no memory error, under " .. CHECKER, function()
      if not SANITIZED then need("valgrind", "valgrind") end
      for _, mode in ipairs({ "", " --foreign" }) do
        local out, ok, code = valgrind(prog .. mode)
        assert(ok, ("%s: exit %s for embed%s:\n%s"):format(CHECKER, tostring(code), mode, out))
        assert.matches("\nok\n", out)
      end
    end)
  end)

  describe("spec/embed/lifecycle.c", function()
    local prog
    setup(function() prog = build("spec/embed/lifecycle.c", "lifecycle") end)

    it("gets error codes and messages, refuses nested runs and a second instance, " ..
       "closes with work in flight, and starts again", function()
      run_checks(prog)
    end)

    it("does all that with no definite leak and no memory error, under " .. CHECKER, function()
      run_checks_checked(prog)
    end)
  end)

  describe("spec/embed/nomemory.c", function()
    local prog
    setup(function() prog = build("spec/embed/nomemory.c", "nomemory") end)

    it("drops and reports event callbacks Lua has no memory for, later events still arrive; " ..
       "a call whose results cannot be pushed raises", function()
      local out = run_checks(prog)
      for _, where in ipairs({ "a network event callback", "a storage pool event callback",
                               "a node device event callback", "a domain event callback",
                               "an event timeout callback" }) do
        assert.matches("luvirt: error in " .. where .. ": not enough memory", out, 1, true)
      end
      assert.matches("ok - a call whose results cannot be pushed raises 'not enough memory'", out, 1, true)
    end)

    it("does so with no definite leak (the call's objects are freed) and no memory error, under " ..
       CHECKER, function()
      run_checks_checked(prog)
    end)
  end)

  describe("spec/embed/orphans.c", function()
    local tb = require "spec.helpers.testbed"
    local prog, daemon
    setup(function()
      local ok, why = tb.check{ qemu = false }
      assert(ok, "spec/embed/orphans.c needs a private libvirtd (calls on test:/// never " ..
                 "reach a worker): " .. tostring(why))
      daemon = tb.daemon{ tcp = false }
      prog = build("spec/embed/orphans.c", "orphans")
    end)
    teardown(function() tb.cleanup_all() end)

    it("closes the state while calls returning objects, strings and arrays are in flight", function()
      run_checks(prog .. " " .. q(daemon.test_uri))
    end)

    it("and every result nobody took is freed: no definite leak under " .. CHECKER, function()
      run_checks_checked(prog .. " " .. q(daemon.test_uri))
    end)
  end)

  it("installs with DESTDIR, and a program built with pkg-config against the copy runs",
    function()
      need("make", "make")
      local out, ok = sh("sh scripts/check-install.sh " .. q(BUILD))
      assert(ok, out)
      assert.matches("check%-install: ok", out)
    end)
end)
