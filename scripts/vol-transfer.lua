-- vol-transfer.lua: upload a file into a storage volume or download a volume
-- into a file, like `virsh vol-upload` / `vol-download`, sparse aware.
--   luvirt scripts/vol-transfer.lua [-c URI] [--pool POOL] [--sparse] upload|download VOLUME FILE
-- A progress bar goes to stderr on a terminal; --json prints progress as
-- JSON lines on stdout instead (one per ~0.2 s, and a last "done" line).
-- SPDX-License-Identifier: LGPL-2.1-or-later
local virt = require "virt"
local uv = require "luv"
local argparse = require "argparse"
local cjson = require "cjson"

local S, V = virt.Stream, virt.StorageVol

local parser = argparse("vol-transfer.lua", "Upload a file into a storage volume, or download a volume into a file.")
  :epilog("Run it with luvirt: luvirt scripts/vol-transfer.lua [options] upload|download VOLUME FILE\n" ..
          "VOLUME is a volume name with --pool, else a volume path or key. FILE '-' is stdin/stdout.")
parser:argument("direction", "upload (FILE into VOLUME) or download (VOLUME into FILE).")
  :choices{ "upload", "download" }
parser:argument("volume", "Volume path or key, or name with --pool.")
parser:argument("file", "Local file, or - for stdin/stdout.")
parser:option("-c --connect", "Hypervisor URI (default: $LIBVIRT_DEFAULT_URI).")
  :argname("URI")
parser:option("-p --pool", "Storage pool that holds VOLUME (by name).")
  :argname("POOL")
parser:option("--offset", "Byte offset in the volume.", "0")
parser:option("--length", "Bytes to transfer (0: up to the end).", "0")
parser:flag("--sparse", "Keep holes as holes (SPARSE_STREAM): nothing is sent for them.")
parser:flag("--json", "Progress as JSON lines on stdout.")
parser:flag("-q --quiet", "No progress bar.")
local args = parser:parse(arg)

local function die(msg)
  io.stderr:write("vol-transfer.lua: ", tostring(msg), "\n")
  os.exit(1)
end

local function count(name, s)
  local n = math.tointeger(tonumber(s))
  if not n or n < 0 then die(("--%s must be a byte count, not %s"):format(name, s)) end
  return n
end
local offset, length = count("offset", args.offset), count("length", args.length)
if args.json and args.file == "-" and args.direction == "download" then
  die("--json writes to stdout, which is the download's destination here")
end

local ok, conn = pcall(virt.new, { uri = args.connect or os.getenv("LIBVIRT_DEFAULT_URI") })
if not ok then die(conn) end

local function find_volume()
  if args.pool then
    local found, pool = pcall(conn.get_storage_pool_by_name, conn, args.pool)
    if not found then die(pool) end
    local got, vol = pcall(pool.get_volume_by_name, pool, args.volume)
    if not got then die(vol) end
    return vol
  end
  local found, vol = pcall(conn.get_storage_volume_by_path, conn, args.volume)
  if found then return vol end
  found, vol = pcall(conn.get_storage_volume_by_key, conn, args.volume)
  if found then return vol end
  die(("no storage volume with path or key '%s' (give its pool with --pool to use a name)")
    :format(args.volume))
end
local vol = find_volume()

-- ------------------------------------------------------------- progress

local t0 = uv.hrtime()
local function elapsed() return (uv.hrtime() - t0) / 1e9 end

local function human(n)
  local units, i = { "B", "KiB", "MiB", "GiB", "TiB" }, 1
  while n >= 1024 and i < #units do n, i = n / 1024, i + 1 end
  return i == 1 and ("%d B"):format(n) or ("%.1f %s"):format(n, units[i])
end

local bar = not args.quiet and not args.json and uv.guess_handle(2) == "tty"
local last_shown = -1

local function show(done, total, final)
  local now = elapsed()
  if not final and now - last_shown < 0.2 then return end
  last_shown = now
  local rate = now > 0 and done / now or 0
  if args.json then
    io.stdout:write(cjson.encode{ event = final and "done" or "progress", direction = args.direction,
      bytes = done, total = total, seconds = math.floor(now * 1000) / 1000,
      rate = math.floor(rate) }, "\n")
    io.stdout:flush()
  elseif bar then
    local width, line = 30, nil
    if total and total > 0 then
      local frac = math.min(1, done / total)
      local fill = math.floor(frac * width)
      line = ("\r[%s%s] %3d%%  %s / %s  %s/s"):format(("="):rep(fill), (" "):rep(width - fill),
        math.floor(frac * 100), human(done), human(total), human(rate))
    else
      line = ("\r%s  %s/s"):format(human(done), human(rate))
    end
    io.stderr:write(line, final and "\n" or "")
    io.stderr:flush()
  end
end

-- ------------------------------------------------------------- transfer

local info = vol:get_info()
local st = conn:new_stream()
local done
local opts = { sparse = args.sparse, progress = function(n, total) show(n, total) end }

local ran, err = pcall(function()
  if args.direction == "download" then
    opts.total = length > 0 and length or math.max(0, info.capacity - offset)
    vol:download(st, offset, length, args.sparse and V.VOL_DOWNLOAD_SPARSE_STREAM or 0)
    local dst = args.file == "-" and io.stdout or args.file
    if args.sparse and args.file == "-" then opts.sparse = false end   -- a pipe has no holes
    done = st:copy_to(dst, opts)
  else
    if length > 0 then opts.total, opts.length = length, length end
    vol:upload(st, offset, length, args.sparse and V.VOL_UPLOAD_SPARSE_STREAM or 0)
    local src = args.file == "-" and io.stdin or args.file
    if args.sparse and args.file == "-" then opts.sparse = false end
    done = st:copy_from(src, opts)
  end
end)
if not ran then
  if bar then io.stderr:write("\n") end
  pcall(st.abort, st)
  die(err)
end
show(done, opts.total or done, true)
if not args.json and not bar and not args.quiet then
  io.stderr:write(("%s %s in %.2f s (%s/s)\n"):format(args.direction == "upload" and "uploaded" or "downloaded",
    human(done), elapsed(), human(elapsed() > 0 and done / elapsed() or 0)))
end
conn:close()
