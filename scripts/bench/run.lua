-- run.lua BUILD full|smoke SOCKET OUTDIR
--
-- The benchmark runner behind scripts/bench/run.sh (which builds the C
-- references, starts the private libvirtd whose socket is SOCKET and makes
-- OUTDIR, a scratch directory in memory when it can).  Runs
-- with plain lua5.4, so the program under test never measures itself.
--
-- Every benchmark runs its competitors alternately, rotating who goes first,
-- so drift of a shared machine lands on all of them alike; the first round is
-- a warm-up and is thrown away; each figure is the median of the rest, and
-- each ratio the median of the rounds' own ratios.  Each competitor prints
-- key=value lines (seconds=, calls=, ...).
--
-- Copyright (C) 2026 the luvirt authors
-- SPDX-License-Identifier: LGPL-2.1-or-later

local BUILD, MODE, SOCKET, OUTDIR = arg[1], arg[2], arg[3], arg[4]
if not (BUILD and (MODE == "full" or MODE == "smoke") and SOCKET and OUTDIR) then
  io.stderr:write("usage: lua5.4 run.lua BUILD full|smoke SOCKET OUTDIR\n")
  os.exit(2)
end
local SMOKE = MODE == "smoke"
local HERE = arg[0]:match("^(.*)/[^/]*$") or "."
local BIN = BUILD .. "/bench"
local LUVIRT = BUILD .. "/luvirt"
-- Debian's interpreter, the one python3-libvirt is installed for (a python3
-- earlier in PATH, such as pyenv's, would not have it).
local PYTHON = "/usr/bin/python3"
local RUNS = tonumber(os.getenv("BENCH_RUNS") or "") or 5
local TIMEOUT = SMOKE and 60 or 300

-- Sizes: the issue's in a full run, tiny ones in a smoke run.
local function size(full, smoke) return SMOKE and smoke or full end
local function count(n) return n % 1000 == 0 and (n // 1000) .. "k" or tostring(n) end
local N_GETINFO  = size(200000, 1000)
local N_FIXTURE  = size(10000, 100)
local N_ROUNDS   = size(5, 1)    -- one 10k round takes only ~30 ms in C
local N_RPC      = size(10000, 256)
local N_PARALLEL = 64
local N_EVENTS   = size(4000, 40)
local VOL_BYTES  = size(1024 * 1024 * 1024, 1024 * 1024)

local TEST_URI = "test:///default"
local RPC_URI = "test+unix:///default?socket=" .. SOCKET
local QEMU_URI = "qemu+unix:///system?socket=" .. SOCKET
local POOL, VOL = "luvirt-bench", "bench.raw"

local function quote(s)
  s = tostring(s)
  if s:match("^[%w%./_=:+-]+$") then return s end
  return "'" .. s:gsub("'", "'\\''") .. "'"
end

local function shell(argv)
  local q = {}
  for i, a in ipairs(argv) do q[i] = quote(a) end
  return table.concat(q, " ")
end

local function sh(cmd)
  local ok = os.execute(cmd)
  if not ok then error("command failed: " .. cmd, 0) end
end

local function read_file(path)
  local f = io.open(path, "r")
  if not f then return "" end
  local s = f:read("a")
  f:close()
  return s
end

local WORK = BIN .. "/work"
sh("mkdir -p " .. quote(WORK))
local ERRFILE = WORK .. "/stderr"

-- Run one competitor once: its key=value output, or nil and why not.
local function run_once(argv)
  local p = io.popen("timeout " .. TIMEOUT .. " " .. shell(argv) .. " 2>" .. quote(ERRFILE), "r")
  local out = p:read("a")
  local ok, how, code = p:close()
  if not ok then
    local err = read_file(ERRFILE):gsub("%s+$", "")
    -- The message: before a Lua traceback, or the last line (Python's
    -- traceback ends with it; C and Perl print just the one line).
    local last = err:match("^(.-)\nstack traceback:") or err:match("([^\n]*)$")
    if how == "exit" and code == 124 then last = "timed out after " .. TIMEOUT .. " s" end
    return nil, (last ~= "" and last or (how .. " " .. tostring(code)))
  end
  local kv = {}
  for k, v in out:gmatch("([%w_]+)=(%S+)") do kv[k] = tonumber(v) or v end
  return kv
end

local function median(xs)
  local s = {}
  for i, x in ipairs(xs) do s[i] = x end
  table.sort(s)
  local n = #s
  if n == 0 then return nil end
  if n % 2 == 1 then return s[(n + 1) // 2] end
  return (s[n // 2] + s[n // 2 + 1]) / 2
end

-- Fixtures ---------------------------------------------------------------

local function write_fixture(path, n)
  local f = assert(io.open(path, "w"))
  f:write("<node>\n")
  for i = 1, n do
    f:write(("  <domain type='test'><name>bench%05d</name><memory>65536</memory>"
      .. "<os><type>hvm</type></os></domain>\n"):format(i))
  end
  f:write("</node>\n")
  assert(f:close())
end

local FIXTURE = WORK .. "/fixture-" .. N_FIXTURE .. ".xml"
write_fixture(FIXTURE, N_FIXTURE)
local FIXTURE_URI = "test://" .. FIXTURE
-- The same fixture opened by the daemon: the memory benchmark's client heap
-- is then not full of what parsing thousands of domains left free, which
-- would hide the cost of the objects it measures.
local RPC_FIXTURE_URI = "test+unix://" .. FIXTURE .. "?socket=" .. SOCKET

-- A transient dir pool on the daemon's qemu:///system holding one volume of
-- VOL_BYTES random bytes (random so that nothing along the way can take a
-- shortcut over zeros).
local POOL_DIR = WORK .. "/pool"
-- In memory: the figure is the stream's, not the disk's writeback.
local VOL_OUT = OUTDIR .. "/download.raw"
local volume_ready = false
local function setup_volume()
  if volume_ready then return end
  sh("rm -rf " .. quote(POOL_DIR) .. " && mkdir -p " .. quote(POOL_DIR))
  sh(("head -c %d /dev/urandom > %s"):format(VOL_BYTES, quote(POOL_DIR .. "/" .. VOL)))
  os.execute(shell{ "virsh", "-q", "-c", QEMU_URI, "pool-destroy", POOL } .. " >/dev/null 2>&1")
  sh(shell{ "virsh", "-q", "-c", QEMU_URI, "pool-create-as", POOL, "dir", "--target", POOL_DIR }
    .. " >/dev/null")
  volume_ready = true
end

-- Competitors and benchmarks ---------------------------------------------

local function lua(script, ...) return { LUVIRT, HERE .. "/" .. script, ... } end
local function c(prog, ...) return { BIN .. "/" .. prog, ... } end
local function py(...) return { PYTHON, HERE .. "/bench.py", ... } end
local function pl(...) return { "perl", HERE .. "/bench.pl", ... } end
local function runstat(...) return { BIN .. "/runstat", ... } end

local function seconds(kv) return kv.seconds end
local function per_second(key) return function(kv) return kv[key] / kv.seconds end end
local function ms(kv) return kv.seconds * 1000 end
local function mib(kv) return kv.maxrss_kib / 1024 end
-- virsh prints no byte count: the volume's size it is.
local function megabytes_per_second(kv) return (kv.bytes or VOL_BYTES) / kv.seconds / 1e6 end

local FLIP = BIN .. "/flip"
local COLUMNS = { "luvirt", "C", "python", "perl", "virsh" }

-- A figure of a benchmark: how to read it from a run, its unit, and the
-- target for luvirt: at most (max) or at least (min) ratio times the figure
-- of the reference column, or a check of its own.
local BENCHMARKS = {
  {
    id = "getinfo", title = count(N_GETINFO) .. " get_info, test:///default",
    competitors = {
      luvirt = lua("getinfo.lua", TEST_URI, "test", N_GETINFO),
      C = c("getinfo", TEST_URI, "test", N_GETINFO),
      python = py("getinfo", TEST_URI, "test", N_GETINFO),
      perl = pl("getinfo", TEST_URI, "test", N_GETINFO),
    },
    figures = { { id = "time", unit = "s", get = seconds, ref = "C", max = 1.10 } },
  },
  {
    -- No target: the least any Lua binding can do for the same call and
    -- table (scripts/bench/floor.c, on luvirt's Lua), in luvirt's column,
    -- against C: how close to C a table per call lets a binding get.
    id = "getinfo_floor", title = count(N_GETINFO) .. " get_info, test:///default: a bare Lua C function and the same table (luvirt column)",
    competitors = {
      luvirt = lua("floor.lua", BIN .. "/floor.so", TEST_URI, "test", N_GETINFO),
      C = c("getinfo", TEST_URI, "test", N_GETINFO),
    },
    figures = { { id = "time", unit = "s", get = seconds, ref = "C" } },
  },
  {
    id = "listall", title = ("%s-domain fixture: list_all + get_info (x%d)"):format(count(N_FIXTURE), N_ROUNDS),
    competitors = {
      luvirt = lua("listall.lua", FIXTURE_URI, N_ROUNDS),
      C = c("listall", FIXTURE_URI, N_ROUNDS),
      python = py("listall", FIXTURE_URI, N_ROUNDS),
      perl = pl("listall", FIXTURE_URI, N_ROUNDS),
    },
    figures = { { id = "time", unit = "s", get = seconds, ref = "C", max = 1.10 } },
  },
  {
    id = "rpc_seq", title = count(N_RPC) .. " get_info over RPC, sequential (a task: a worker per call)",
    competitors = {
      luvirt = lua("getinfo.lua", RPC_URI, "test", N_RPC),
      C = c("getinfo", RPC_URI, "test", N_RPC),
      python = py("getinfo", RPC_URI, "test", N_RPC),
      perl = pl("getinfo", RPC_URI, "test", N_RPC),
    },
    figures = { { id = "rate", unit = "calls/s", get = per_second("calls"), ref = "C", min = 0.95 } },
  },
  {
    -- No target: how far luvirt is from C built the same way (the call on
    -- another thread than the one that needs its result, handed over and
    -- back through a condition and an eventfd: scripts/bench/handoff.c).
    id = "rpc_seq_handoff", title = count(N_RPC) .. " get_info over RPC, sequential, against C with the same hand-off",
    competitors = {
      luvirt = lua("getinfo.lua", RPC_URI, "test", N_RPC),
      C = c("handoff", RPC_URI, "test", N_RPC, 1, 1),
    },
    figures = { { id = "rate", unit = "calls/s", get = per_second("calls"), ref = "C" } },
  },
  {
    id = "rpc_seq_blocking", title = count(N_RPC) .. " get_info over RPC, sequential, blocking=true",
    competitors = {
      luvirt = lua("getinfo.lua", RPC_URI, "test", N_RPC, "blocking"),
      C = c("getinfo", RPC_URI, "test", N_RPC),
      python = py("getinfo", RPC_URI, "test", N_RPC),
      perl = pl("getinfo", RPC_URI, "test", N_RPC),
    },
    figures = { { id = "rate", unit = "calls/s", get = per_second("calls"), ref = "C", min = 0.95 } },
  },
  {
    id = "rpc_par", title = ("%s get_info over RPC, %d tasks/threads"):format(count(N_RPC), N_PARALLEL),
    competitors = {
      luvirt = lua("getinfo.lua", RPC_URI, "test", N_RPC, N_PARALLEL),
      C = c("getinfo", RPC_URI, "test", N_RPC, N_PARALLEL),
      python = py("getinfo", RPC_URI, "test", N_RPC, N_PARALLEL),
    },
    figures = { { id = "rate", unit = "calls/s", get = per_second("calls"), ref = "python", min = 1.0 } },
  },
  {
    -- No target: the same against C built as luvirt is, 64 calls in flight
    -- on 16 workers (luvirt's default pool), every result back to one thread.
    id = "rpc_par_handoff", title = ("%s get_info over RPC, %d tasks, against C with the same hand-offs"):format(count(N_RPC), N_PARALLEL),
    competitors = {
      luvirt = lua("getinfo.lua", RPC_URI, "test", N_RPC, N_PARALLEL),
      C = c("handoff", RPC_URI, "test", N_RPC, N_PARALLEL, 16),
    },
    figures = { { id = "rate", unit = "calls/s", get = per_second("calls"), ref = "C" } },
  },
  {
    id = "events_drain", title = ("%d lifecycle events over RPC, drain"):format(N_EVENTS),
    competitors = {
      luvirt = lua("events.lua", "drain", RPC_URI, "test", N_EVENTS, FLIP),
      C = c("events", "drain", RPC_URI, "test", N_EVENTS, FLIP),
      python = py("events", "drain", RPC_URI, "test", N_EVENTS, FLIP),
      perl = pl("events", "drain", RPC_URI, "test", N_EVENTS, FLIP),
    },
    figures = { { id = "rate", unit = "events/s", get = per_second("events"), ref = "C", min = 0.9 } },
  },
  {
    id = "events_live", title = ("%d lifecycle events over RPC, live"):format(N_EVENTS),
    competitors = {
      luvirt = lua("events.lua", "live", RPC_URI, "test", N_EVENTS, FLIP),
      C = c("events", "live", RPC_URI, "test", N_EVENTS, FLIP),
      python = py("events", "live", RPC_URI, "test", N_EVENTS, FLIP),
      perl = pl("events", "live", RPC_URI, "test", N_EVENTS, FLIP),
    },
    figures = { { id = "rate", unit = "events/s", get = per_second("events"), ref = "C" } },
  },
  {
    id = "voldownload", title = ("%d MiB vol-download through the daemon"):format(VOL_BYTES >> 20),
    setup = setup_volume,
    after_run = function() os.remove(VOL_OUT) end,
    competitors = {
      luvirt = lua("voldownload.lua", QEMU_URI, POOL, VOL, VOL_OUT),
      C = c("voldownload", QEMU_URI, POOL, VOL, VOL_OUT),
      virsh = runstat("virsh", "-q", "-c", QEMU_URI, "vol-download", "--pool", POOL, VOL, VOL_OUT),
    },
    figures = { { id = "rate", unit = "MB/s", ref = "C", min = 0.95, get = megabytes_per_second } },
  },
  {
    id = "voldownload_copy", title = ("%d MiB vol-download, luvirt's st:copy_to"):format(VOL_BYTES >> 20),
    setup = setup_volume,
    after_run = function() os.remove(VOL_OUT) end,
    competitors = {
      luvirt = lua("voldownload.lua", QEMU_URI, POOL, VOL, VOL_OUT, "copy_to"),
      C = c("voldownload", QEMU_URI, POOL, VOL, VOL_OUT),
    },
    figures = { { id = "rate", unit = "MB/s", ref = "C", min = 0.95, get = megabytes_per_second } },
  },
  {
    id = "startup_bare", title = "start-up, nothing opened", nruns = 3 * RUNS,
    competitors = {
      luvirt = runstat(LUVIRT, "-e", ""),
      C = runstat(BIN .. "/startup"),
      python = runstat(PYTHON, "-c", "import libvirt"),
    },
    figures = {
      { id = "time", unit = "ms", get = ms, ref = "C", max = 1.15 },
      { id = "rss", unit = "MiB", get = mib, ref = "C", max = 1.15 },
    },
  },
  {
    id = "startup_open", title = "start-up, test:///default opened", nruns = 3 * RUNS,
    competitors = {
      luvirt = runstat(LUVIRT, "-e", ('require"virt".new{uri="%s"}'):format(TEST_URI)),
      C = runstat(BIN .. "/startup", TEST_URI),
      python = runstat(PYTHON, "-c", ('import libvirt; libvirt.open("%s")'):format(TEST_URI)),
    },
    figures = {
      { id = "time", unit = "ms", get = ms, ref = "C", max = 1.15 },
      { id = "rss", unit = "MiB", get = mib, ref = "C", max = 1.15 },
    },
  },
  {
    id = "memory", title = "memory, " .. count(N_FIXTURE) .. " Domain objects over RPC",
    competitors = {
      luvirt = lua("memory.lua", RPC_FIXTURE_URI),
      python = py("memory", RPC_FIXTURE_URI),
    },
    figures = {
      { id = "held", unit = "MiB", ref = "python",
        get = function(kv) return (kv.rss_hold1_kib - kv.rss_open_kib) / 1024 end },
      -- Flat: a second hold-and-drop cycle ends where the first did, so
      -- dropped objects really are freed (what the allocator keeps mapped
      -- after the first cycle is not a leak).
      { id = "dropped", unit = "MiB", ref = "python",
        get = function(kv) return (kv.rss_drop2_kib - kv.rss_open_kib) / 1024 end,
        target = "flat after collection",
        check = function(runs)
          for _, kv in ipairs(runs) do
            local held = kv.rss_hold1_kib - kv.rss_open_kib
            if kv.rss_drop2_kib - kv.rss_drop1_kib > math.max(512, held // 20) then return false end
          end
          return true
        end },
    },
  },
}

-- Running ----------------------------------------------------------------

local function run_benchmark(b)
  local names = {}
  for _, col in ipairs(COLUMNS) do
    if b.competitors[col] then names[#names + 1] = col end
  end
  b.runs, b.errors = {}, {}
  for _, name in ipairs(names) do b.runs[name] = {} end
  if b.setup then
    local ok, err = pcall(b.setup)
    if not ok then
      for _, name in ipairs(names) do b.errors[name] = "setup: " .. err end
      return
    end
  end
  local rounds = SMOKE and 1 or (b.nruns or RUNS) + 1
  for round = 1, rounds do
    for k = 0, #names - 1 do
      local name = names[(round + k - 1) % #names + 1]
      if not b.errors[name] then
        local kv, err = run_once(b.competitors[name])
        if b.after_run then b.after_run() end
        if not kv then
          b.errors[name] = err
        elseif SMOKE or round > 1 then
          table.insert(b.runs[name], kv)
        end
      end
    end
    io.stderr:write(("  %s: round %d/%d\n"):format(b.id, round, rounds))
  end
end

local function fmt(x)
  if x == nil then return "n/a" end
  local a = math.abs(x)
  if a >= 1000 then return ("%.0f"):format(x) end
  if a >= 100 then return ("%.1f"):format(x) end
  if a >= 10 then return ("%.2f"):format(x) end
  if a >= 1 then return ("%.3f"):format(x) end
  return ("%.3g"):format(x)
end

-- One row per figure: medians, ratios luvirt ÷ each reference, target, verdict.
local function rows()
  local out = {}
  for _, b in ipairs(BENCHMARKS) do
    for _, f in ipairs(b.figures) do
      local row = { bench = b, figure = f, median = {}, ratio = {} }
      local values = {}
      for name, runs in pairs(b.runs) do
        local xs = {}
        if not b.errors[name] then
          for _, kv in ipairs(runs) do
            local ok, x = pcall(f.get, kv)
            if ok and type(x) == "number" and x == x then xs[#xs + 1] = x end
          end
        end
        if #xs == #runs and #xs > 0 then
          values[name] = xs
          row.median[name] = median(xs)
        end
      end
      -- The ratio is the median of the ratios within each round: two runs of
      -- one round ran seconds apart, so what the machine's other load did to
      -- them it did to both.
      local l = values.luvirt
      for name, xs in pairs(values) do
        if name ~= "luvirt" and l and #xs == #l then
          local rs = {}
          for i = 1, #l do
            if xs[i] ~= 0 then rs[#rs + 1] = l[i] / xs[i] end
          end
          row.ratio[name] = median(rs)
        end
      end
      if f.check then
        row.target = f.target
        if l then row.met = pcall(f.check, b.runs.luvirt) and f.check(b.runs.luvirt) end
      elseif f.max or f.min then
        row.target = ("%s %.2fx %s"):format(f.max and "<=" or ">=", f.max or f.min, f.ref)
        local r = row.ratio[f.ref]
        if r and f.max then row.met = r <= f.max elseif r then row.met = r >= f.min end
      end
      out[#out + 1] = row
    end
  end
  return out
end

local function table_lines(rs)
  local head = { "benchmark", "unit" }
  for _, col in ipairs(COLUMNS) do head[#head + 1] = col end
  for i = 2, #COLUMNS do head[#head + 1] = "÷" .. COLUMNS[i] end
  head[#head + 1] = "target"
  head[#head + 1] = "met"
  local lines = { "| " .. table.concat(head, " | ") .. " |",
                  "|" .. ("---|"):rep(#head) }
  for _, r in ipairs(rs) do
    local cells = { r.bench.title .. (#r.bench.figures > 1 and (", " .. r.figure.id) or ""),
                    r.figure.unit }
    for _, col in ipairs(COLUMNS) do
      cells[#cells + 1] = r.bench.competitors[col] and fmt(r.median[col]) or ""
    end
    for i = 2, #COLUMNS do
      local x = r.ratio[COLUMNS[i]]
      cells[#cells + 1] = x and ("%.2f"):format(x) or ""
    end
    cells[#cells + 1] = r.target or ""
    cells[#cells + 1] = r.met == nil and (r.target and "n/a" or "") or (r.met and "yes" or "NO")
    lines[#lines + 1] = "| " .. table.concat(cells, " | ") .. " |"
  end
  return lines
end

local function error_lines()
  local lines = {}
  for _, b in ipairs(BENCHMARKS) do
    for _, col in ipairs(COLUMNS) do
      if b.errors[col] then
        lines[#lines + 1] = ("- %s, %s: %s"):format(b.id, col, b.errors[col])
      end
    end
  end
  return lines
end

local function capture(cmd)
  local p = io.popen(cmd .. " 2>/dev/null")
  local s = p:read("a") or ""
  p:close()
  return (s:gsub("%s+$", ""))
end

local function machine()
  local cpu = read_file("/proc/cpuinfo"):match("model name%s*:%s*([^\n]+)") or "unknown CPU"
  local ncpu = capture("nproc")
  return ("libvirt %s, %s (%s cores), %s"):format(
    capture("pkg-config --modversion libvirt"), cpu, ncpu, capture("uname -sr"))
end

-- RESULTS.md keeps whatever people wrote around the generated block (the
-- profiles and before/after notes); only the block between the markers is
-- replaced.
local BEGIN, END = "<!-- bench:begin (written by scripts/bench/run.sh) -->", "<!-- bench:end -->"
local function write_results(lines)
  local path = HERE .. "/RESULTS.md"
  local old = read_file(path)
  local block = BEGIN .. "\n" .. table.concat(lines, "\n") .. "\n" .. END
  local new
  local s, e = old:find(BEGIN, 1, true), select(2, old:find(END, 1, true))
  if s and e then
    new = old:sub(1, s - 1) .. block .. old:sub(e + 1)
  else
    new = "# luvirt benchmark results\n\n" .. block .. "\n" .. old
  end
  local f = assert(io.open(path, "w"))
  f:write(new)
  f:close()
  return path
end

-- Every run's figures, for whoever wants to look behind a median.
local function write_runs(path)
  local f = assert(io.open(path, "w"))
  for _, b in ipairs(BENCHMARKS) do
    for _, fig in ipairs(b.figures) do
      for _, col in ipairs(COLUMNS) do
        local runs = b.runs[col]
        if runs and not b.errors[col] then
          local xs = {}
          for i, kv in ipairs(runs) do
            local ok, x = pcall(fig.get, kv)
            xs[i] = ok and ("%.6g"):format(x) or "?"
          end
          f:write(("%s\t%s\t%s\t%s\n"):format(b.id, fig.id, col, table.concat(xs, " ")))
        end
      end
    end
  end
  f:close()
end

local function write_tsv(rs, path)
  local f = assert(io.open(path, "w"))
  for _, r in ipairs(rs) do
    for _, col in ipairs(COLUMNS) do
      if r.bench.competitors[col] then
        local m = r.median[col]
        f:write(("%s\t%s\t%s\t%s\n"):format(r.bench.id, r.figure.id, col,
          m and ("%.6g"):format(m) or ("error: " .. (r.bench.errors[col] or "no figure"))))
      end
    end
  end
  f:close()
end

-- BENCH_ONLY=id,id...: just those benchmarks (while working on one of them).
local only = os.getenv("BENCH_ONLY")
if only == "" then only = nil end
if only then
  local keep, wanted = {}, {}
  for id in only:gmatch("[^,%s]+") do wanted[id] = true end
  for _, b in ipairs(BENCHMARKS) do
    if wanted[b.id] then keep[#keep + 1] = b end
  end
  BENCHMARKS = keep
end
for _, b in ipairs(BENCHMARKS) do run_benchmark(b) end

local rs = rows()
local lines = {
  ("%s, %s; %s; ratios are luvirt ÷ reference."):format(
    os.date("!%Y-%m-%d %H:%M UTC"), machine(),
    SMOKE and "smoke run: one run of each at tiny sizes, the figures mean nothing"
      or ("medians of %d runs (start-up: %d) after a warm-up"):format(RUNS, 3 * RUNS)
        .. ", a ratio is the median of the ratios of each round"),
  "",
}
for _, l in ipairs(table_lines(rs)) do lines[#lines + 1] = l end
local errs = error_lines()
if #errs > 0 then
  lines[#lines + 1] = ""
  lines[#lines + 1] = "Missing figures:"
  for _, l in ipairs(errs) do lines[#lines + 1] = l end
end
print(table.concat(lines, "\n"))

write_tsv(rs, BIN .. (SMOKE and "/smoke.tsv" or "/results.tsv"))
write_runs(BIN .. (SMOKE and "/smoke-runs.tsv" or "/runs.tsv"))
if not SMOKE and not only then
  io.stderr:write("wrote " .. write_results(lines) .. "\n")
end
-- A smoke run exists to catch rot: a missing figure fails it.  A full run
-- never fails (it reports).
os.exit((SMOKE and #errs > 0) and 1 or 0)
