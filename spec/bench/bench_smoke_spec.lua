-- The benchmarks, run once at tiny sizes (scripts/bench/run.sh --smoke), so
-- that `make check` notices when one of them, or one of its competitors,
-- stops producing a figure.  The figures themselves mean nothing here.
--
-- Copyright (C) 2026 the luvirt authors
-- SPDX-License-Identifier: LGPL-2.1-or-later
local BUILD = os.getenv("BUILD") or "build"

-- Every figure the table has, and who must produce it.
local EXPECTED = {
  { "getinfo", "time", { "luvirt", "C", "python", "perl" } },
  { "getinfo_floor", "time", { "luvirt", "C" } },
  { "listall", "time", { "luvirt", "C", "python", "perl" } },
  { "rpc_seq", "rate", { "luvirt", "C", "python", "perl" } },
  { "rpc_seq_handoff", "rate", { "luvirt", "C" } },
  { "rpc_seq_blocking", "rate", { "luvirt", "C", "python", "perl" } },
  { "rpc_par", "rate", { "luvirt", "C", "python" } },
  { "rpc_par_handoff", "rate", { "luvirt", "C" } },
  { "events_drain", "rate", { "luvirt", "C", "python", "perl" } },
  { "events_live", "rate", { "luvirt", "C", "python", "perl" } },
  { "voldownload", "rate", { "luvirt", "C", "virsh" } },
  { "voldownload_copy", "rate", { "luvirt", "C" } },
  { "startup_bare", "time", { "luvirt", "C", "python" } },
  { "startup_bare", "rss", { "luvirt", "C", "python" } },
  { "startup_open", "time", { "luvirt", "C", "python" } },
  { "startup_open", "rss", { "luvirt", "C", "python" } },
  { "memory", "held", { "luvirt", "python" } },
  { "memory", "dropped", { "luvirt", "python" } },
}

describe("benchmarks, smoke run", function()
  local figures, output

  setup(function()
    local tsv = BUILD .. "/bench/smoke.tsv"
    os.remove(tsv)
    local p = assert(io.popen("sh scripts/bench/run.sh " .. BUILD .. " --smoke 2>&1"))
    output = p:read("a")
    p:close()
    figures = {}
    local f = io.open(tsv)
    if f then
      for line in f:lines() do
        local bench, figure, who, value = line:match("^([^\t]+)\t([^\t]+)\t([^\t]+)\t(.*)$")
        figures[bench .. "/" .. figure .. "/" .. who] = value
      end
      f:close()
    end
  end)

  it("writes its results", function()
    assert.is_truthy(next(figures), "no results from run.sh --smoke:\n" .. output)
  end)

  for _, e in ipairs(EXPECTED) do
    local bench, figure, who = e[1], e[2], e[3]
    it(("gives a number for %s/%s from %s"):format(bench, figure, table.concat(who, ", ")), function()
      for _, w in ipairs(who) do
        local v = figures[bench .. "/" .. figure .. "/" .. w]
        assert.is_number(tonumber(v), ("%s/%s from %s: %s"):format(bench, figure, w, tostring(v)))
        assert.is_true(tonumber(v) >= 0)
      end
    end)
  end
end)
