-- Coverage of libvirt's API: read the API description files at test time
-- (with the generator's own XML reader, but not its decisions) and check
-- that every function is bound or skipped with a reason, every constant has
-- libvirt's value, and no class method maps to nothing.  Prints
-- "bound X of Y" per file.
local virt = require "virt"

local function srcdir()
  local d = os.getenv("LUVIRT_SRCDIR") or "."
  assert(io.open(d .. "/host/gen/api.lua"), "run the specs from the source tree (host/gen/api.lua not found)")
  return d
end
local SRC = srcdir()
package.path = SRC .. "/host/gen/?.lua;" .. package.path
local api_mod = require "api"
local constants = require "constants"

local function pkgvar(pkg, var)
  local p = assert(io.popen(("pkg-config --variable=%s %s"):format(var, pkg)))
  local v = p:read("l")
  p:close()
  assert(v and v ~= "", "pkg-config does not know " .. pkg .. " (" .. var .. "): install libvirt-dev")
  return v
end

local files = {}
for _, pv in ipairs(api_mod.pkgconfig) do files[#files + 1] = pkgvar(pv[1], pv[2]) end
local api = api_mod.load(files)

local function lookup(path)
  local t = virt
  if path == "virt" then return t end
  for part in path:gmatch("[^.]+") do
    t = type(t) == "table" and rawget(t, part) or nil
  end
  return t
end

local function sorted_keys(t)
  local ks = {}
  for k in pairs(t) do ks[#ks + 1] = k end
  table.sort(ks)
  return ks
end

describe("libvirt API coverage", function()
  it("binds or skips, with a reason, every function of every API file", function()
    local missing = {}
    for _, f in ipairs(api.files) do
      local bound = 0
      for _, fn in ipairs(f.functions) do
        local b, s = virt._bindings[fn.name], virt._skipped[fn.name]
        if b then
          bound = bound + 1
        elseif not (type(s) == "string" and #s > 10) then
          missing[#missing + 1] = fn.name
        end
      end
      local skipped = 0
      for _, fn in ipairs(f.functions) do
        if not virt._bindings[fn.name] and virt._skipped[fn.name] then skipped = skipped + 1 end
      end
      print(("bound %d of %d in %s (%d skipped)"):format(bound, #f.functions, f.name, skipped))
    end
    assert(#missing == 0, #missing .. " function(s) neither bound nor skipped: " .. table.concat(missing, " "))
  end)

  it("binds every function to a method that exists", function()
    local broken = {}
    for cname, where in pairs(virt._bindings) do
      local class, method = where:match("^(.+)%.([%w_]+)$")
      local t = lookup(class)
      if not (type(t) == "table" and type(t[method]) == "function") then
        broken[#broken + 1] = cname .. " -> " .. where
      end
    end
    table.sort(broken)
    assert(#broken == 0, "bound to nothing: " .. table.concat(broken, ", "))
  end)

  it("keeps the skip list short and every entry in the API", function()
    local n = 0
    for cname in pairs(virt._skipped) do
      n = n + 1
      assert(api.functions[cname], cname .. " is skipped but is no libvirt function")
    end
    assert(n <= 60, n .. " skipped functions: the skip list is meant to be short")
  end)

  it("gives every enum and constant libvirt's value", function()
    local rules = constants.load_rules(SRC .. "/host/gen/constants.txt")
    local wrong, seen = {}, 0
    for _, k in ipairs(constants.all(api, rules)) do
      local t = lookup(k.class)
      local v = type(t) == "table" and rawget(t, k.lua)
      seen = seen + 1
      if v ~= k.value or math.type(v) ~= math.type(k.value) then
        wrong[#wrong + 1] = ("%s.%s (%s) is %s, libvirt says %s"):format(k.class, k.lua, k.cname,
          tostring(v), tostring(k.value))
      end
    end
    -- every enum of the files is among them (the rules cannot drop one)
    assert.is_true(seen >= #api.enums + #api.strings)
    assert(#wrong == 0, #wrong .. " constant(s) differ:\n" .. table.concat(wrong, "\n"))
  end)

  it("has the typed-parameter names as strings", function()
    assert.equals("migrate_uri", virt.Domain.MIGRATE_PARAM_URI)
    assert.equals("hard_limit", virt.Domain.MEMORY_HARD_LIMIT)
    assert.equals("inbound.average", virt.NetworkPort.BANDWIDTH_IN_AVERAGE)
    assert.equals("nclients_max", virt.admin.Server.CLIENTS_MAX)
  end)

  it("has no class method that maps to no libvirt function", function()
    local helpers = {}
    for line in io.lines(SRC .. "/host/gen/helpers.txt") do
      local m = line:gsub("#.*", ""):match("^%s*(%S+)")
      if m then helpers[m] = true end
    end
    local methods = {}
    for _, where in pairs(virt._bindings) do methods[where] = true end
    local orphans = {}
    local classes = { "Virt", "Domain", "Network", "NetworkPort", "StoragePool", "StorageVol",
      "Interface", "NodeDevice", "Secret", "NWFilter", "NWFilterBinding", "DomainSnapshot",
      "DomainCheckpoint", "Stream", "Event", "Error", "admin.Connect", "admin.Server", "admin.Client" }
    for _, class in ipairs(classes) do
      local t = lookup(class)
      assert(type(t) == "table", "virt." .. class .. " is missing")
      for _, k in ipairs(sorted_keys(t)) do
        local key = class .. "." .. k
        if type(t[k]) == "function" and not k:find("^_") and not methods[key] and not helpers[key] then
          orphans[#orphans + 1] = key
        end
      end
    end
    assert(#orphans == 0, "methods that map to no libvirt function: " .. table.concat(orphans, ", "))
  end)

  it("has every constant Sys::Virt 9.0 has, on the same class, with the same value", function()
    local script = [[
use Sys::Virt; no strict 'refs';
for my $pkg (qw(Sys::Virt Sys::Virt::Domain Sys::Virt::DomainSnapshot Sys::Virt::DomainCheckpoint
  Sys::Virt::Network Sys::Virt::NetworkPort Sys::Virt::StoragePool Sys::Virt::StorageVol
  Sys::Virt::Interface Sys::Virt::NodeDevice Sys::Virt::Secret Sys::Virt::NWFilter
  Sys::Virt::NWFilterBinding Sys::Virt::Stream Sys::Virt::Event Sys::Virt::Error)) {
  for my $k (sort keys %{"${pkg}::"}) {
    next unless $k =~ /^[A-Z][A-Z0-9_]+$/ && defined &{"${pkg}::$k"};
    next if $k =~ /^(BEGIN|END|DESTROY|AUTOLOAD|CLONE|INIT|CHECK|UNITCHECK|ISA|EXPORT|VERSION)$/;
    my $v = eval { &{"${pkg}::$k"}() }; next if $@;
    print "$pkg\t$k\t$v\n";
  }
}]]
    local path = os.tmpname()
    local f = assert(io.open(path, "w"))
    f:write(script)
    f:close()
    local p = assert(io.popen("perl " .. path .. " 2>&1"))
    local out = p:read("a")
    p:close()
    os.remove(path)
    assert(out:find("Sys::Virt\t"), "Sys::Virt is needed for this check (apt-get install libsys-virt-perl): " .. out:sub(1, 200))
    local bad, n = {}, 0
    for pkg, name, val in out:gmatch("([^\t\n]+)\t([^\t\n]+)\t([^\n]*)") do
      n = n + 1
      local class = pkg == "Sys::Virt" and "virt" or pkg:gsub("^Sys::Virt::", "")
      local t = lookup(class)
      local v = type(t) == "table" and rawget(t, name)
      local ok = v ~= nil and tostring(v) == val
      if not ok and math.type(v) == "integer" then
        -- Sys::Virt sign-extends some 32-bit flags (1 << 31) and shows -1
        -- as unsigned; libvirt's value is what luvirt has.
        local pv = tonumber(val)
        ok = pv ~= nil and (pv == v + 2.0^64 or pv == (v | ~0xffffffff) + 2.0^64)
      end
      if not ok then bad[#bad + 1] = ("%s::%s = %s, luvirt %s"):format(pkg, name, val, tostring(v)) end
    end
    assert.is_true(n > 1000)
    assert(#bad == 0, #bad .. " Sys::Virt constant(s) missing or different:\n" .. table.concat(bad, "\n"))
  end)
end)
