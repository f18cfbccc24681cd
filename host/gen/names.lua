-- names.lua: which Lua class and method a libvirt function becomes, which
-- C functions are bound by hand in host/*.c, and which are skipped.
-- Shared by gen.lua and spec/coverage_spec.lua.
-- SPDX-License-Identifier: LGPL-2.1-or-later

local M = {}

-- Pointer type -> Lua class, with the C symbol of its lv_class and the
-- prefixes stripped from C names to make rule names (longest first).
M.classes = {
  { ctype = "virConnectPtr",          class = "Virt",             sym = "lv_connect_class",         prefixes = { "virConnect", "vir" } },
  { ctype = "virDomainPtr",           class = "Domain",           sym = "lv_domain_class",          prefixes = { "virDomain" } },
  { ctype = "virNetworkPtr",          class = "Network",          sym = "lv_network_class",         prefixes = { "virNetwork" } },
  { ctype = "virNetworkPortPtr",      class = "NetworkPort",      sym = "lv_networkport_class",     prefixes = { "virNetworkPort" } },
  { ctype = "virStoragePoolPtr",      class = "StoragePool",      sym = "lv_storagepool_class",     prefixes = { "virStoragePool" } },
  { ctype = "virStorageVolPtr",       class = "StorageVol",       sym = "lv_storagevol_class",      prefixes = { "virStorageVol" } },
  { ctype = "virInterfacePtr",        class = "Interface",        sym = "lv_interface_class",       prefixes = { "virInterface" } },
  { ctype = "virNodeDevicePtr",       class = "NodeDevice",       sym = "lv_nodedev_class",         prefixes = { "virNodeDevice" } },
  { ctype = "virSecretPtr",           class = "Secret",           sym = "lv_secret_class",          prefixes = { "virSecret" } },
  { ctype = "virNWFilterPtr",         class = "NWFilter",         sym = "lv_nwfilter_class",        prefixes = { "virNWFilter" } },
  { ctype = "virNWFilterBindingPtr",  class = "NWFilterBinding",  sym = "lv_nwfilterbinding_class", prefixes = { "virNWFilterBinding" } },
  { ctype = "virDomainSnapshotPtr",   class = "DomainSnapshot",   sym = "lv_snapshot_class",        prefixes = { "virDomainSnapshot", "virDomain" } },
  { ctype = "virDomainCheckpointPtr", class = "DomainCheckpoint", sym = "lv_checkpoint_class",      prefixes = { "virDomainCheckpoint" } },
  { ctype = "virStreamPtr",           class = "Stream",           sym = "lv_stream_class",          prefixes = { "virStream" } },
  { ctype = "virAdmConnectPtr",       class = "admin.Connect",    sym = "lv_admconnect_class",      prefixes = { "virAdmConnect" } },
  { ctype = "virAdmServerPtr",        class = "admin.Server",     sym = "lv_admserver_class",       prefixes = { "virAdmServer" } },
  { ctype = "virAdmClientPtr",        class = "admin.Client",     sym = "lv_admclient_class",       prefixes = { "virAdmClient" } },
}
M.by_ctype, M.by_class = {}, {}
for _, c in ipairs(M.classes) do
  M.by_ctype[c.ctype] = c
  M.by_class[c.class] = c
end

-- CamelCase -> snake_case keeping acronyms whole: GetXMLDesc -> get_xml_desc.
function M.snake(s)
  s = s:gsub("(%u+)(%u%l)", "%1_%2")
  s = s:gsub("([%l%d])(%u)", "%1_%2")
  return s:lower()
end

-- Functions with no object argument: module functions (virt.x), the event
-- loop (virt.Event.x) or the admin module (virt.admin.x).
local free_prefixes = {
  { "virEvent", "Event" }, { "virAdm", "admin" }, { "vir", "virt" },
}

-- The rule name of fn: { class=, method= }.
function M.rule_name(fn)
  local first = fn.args[1] and M.by_ctype[fn.args[1].type]
  if first then
    for _, p in ipairs(first.prefixes) do
      if fn.name:sub(1, #p) == p and #fn.name > #p then
        return first.class, M.snake(fn.name:sub(#p + 1))
      end
    end
    return first.class, M.snake(fn.name:sub(4))
  end
  for _, p in ipairs(free_prefixes) do
    if fn.name:sub(1, #p[1]) == p[1] then
      return p[2], M.snake(fn.name:sub(#p[1] + 1))
    end
  end
  error("names: no rule for " .. fn.name)
end

local function words(line)
  local w = {}
  for t in line:gsub("#.*", ""):gmatch("%S+") do w[#w + 1] = t end
  return w
end

-- names.txt: "virX  Class.method" (class may itself contain a dot).
function M.load_names(path)
  local t, n = {}, 0
  for line in io.lines(path) do
    n = n + 1
    local w = words(line)
    if #w > 0 then
      local class, method = (w[2] or ""):match("^(.+)%.([%w_]+)$")
      if #w ~= 2 or not class then error(path .. ":" .. n .. ": expected 'virFunction Class.method'") end
      if t[w[1]] then error(path .. ":" .. n .. ": " .. w[1] .. " is listed twice") end
      t[w[1]] = { class = class, method = method }
    end
  end
  return t
end

-- skip.txt: "virX  reason..." (the reason is required).
function M.load_skip(path)
  local t, n = {}, 0
  for line in io.lines(path) do
    n = n + 1
    local name, reason = line:gsub("#.*", ""):match("^%s*(vir%w+)%s+(.-)%s*$")
    if name then
      if reason == "" then error(path .. ":" .. n .. ": " .. name .. " needs a reason") end
      if t[name] then error(path .. ":" .. n .. ": " .. name .. " is listed twice") end
      t[name] = reason
    elseif line:match("%S") and not line:match("^%s*#") then
      error(path .. ":" .. n .. ": expected 'virFunction reason'")
    end
  end
  return t
end

-- Hand-written bindings: luaL_Reg lines carrying C names in a comment,
--   {"get_info", dom_get_info},  /* virDomainGetInfo */
-- Returns { [cname] = { method=, file=, line= } } and the list of classes
-- defined in the files ("const lv_class lv_xxx_class").
function M.scan_sources(files)
  local bound, defined = {}, {}
  for _, path in ipairs(files) do
    local f = assert(io.open(path, "r"))
    local n = 0
    for line in f:lines() do
      n = n + 1
      local sym = line:match("^const%s+lv_class%s+([%w_]+)%s*=")
      if sym then defined[sym] = true end
      local method, comment = line:match('{%s*"([%w_]+)"%s*,%s*[%w_]+%s*}%s*,?%s*/%*(.-)%*/')
      if method then
        for cname in comment:gmatch("vir%w+") do
          if bound[cname] then
            error(path .. ":" .. n .. ": " .. cname .. " is already bound at " ..
              bound[cname].file .. ":" .. bound[cname].line)
          end
          bound[cname] = { method = method, file = path, line = n }
        end
      end
    end
    f:close()
  end
  return bound, defined
end

return M
