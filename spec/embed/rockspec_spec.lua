-- The rockspec, as a plain Lua 5.4 user runs it: scripts/check-lua.sh builds
-- rockspec/luvirt-scm-1.rockspec with `luarocks make` from a copy of the
-- tree into a temporary tree, requires "virt" from plain lua5.4, and runs
-- the unit tier under lua5.4 with that module.
local function sh(cmd)
  local p = assert(io.popen(cmd .. " 2>&1"))
  local out = p:read("a")
  local ok = p:close()
  return out, ok == true
end

describe("rockspec/luvirt-scm-1.rockspec", function()
  it("builds virt.core for plain lua5.4, whose unit tier then passes", function()
    for _, tool in ipairs({ "luarocks", "lua5.4", "busted" }) do
      assert(select(2, sh("command -v " .. tool)), tool .. " is needed (make deps)")
    end
    local out, ok = sh("sh scripts/check-lua.sh")
    assert(ok, out)
    assert.matches("get_hostname%(%) %-> %S+", out)
    local passed, failed, errors = out:match("(%d+) successes / (%d+) failures / (%d+) errors")
    assert(passed, "no busted summary in:\n" .. out)
    assert.is_true(tonumber(passed) > 0)
    assert.equals(0, tonumber(failed) + tonumber(errors), out)
  end)
end)
