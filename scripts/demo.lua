-- demo.lua: a tour of luvirt on the embedded test:///default driver.
--   luvirt scripts/demo.lua [uri]
-- Lists the domains, defines and starts a few concurrently (each in its own
-- task), prints lifecycle events as they arrive, and ends with a table.
local virt = require "virt"
local D = virt.Domain

local uri = arg and arg[1] or "test:///default"
local conn = virt.new{ uri = uri }
print(("luvirt %s on %s (%s, libvirt %d.%d.%d)"):format(virt.version(), conn:get_uri(),
  conn:get_hostname(), conn:get_library_version() // 1000000,
  conn:get_library_version() // 1000 % 1000, conn:get_library_version() % 1000))

local state_names, event_names = {}, {}
for _, s in ipairs{ "NOSTATE", "RUNNING", "BLOCKED", "PAUSED", "SHUTDOWN", "SHUTOFF",
                    "CRASHED", "PMSUSPENDED" } do
  state_names[D["STATE_" .. s]] = s:lower()
end
for _, e in ipairs{ "DEFINED", "UNDEFINED", "STARTED", "SUSPENDED", "RESUMED", "STOPPED",
                    "SHUTDOWN", "PMSUSPENDED", "CRASHED" } do
  event_names[D["EVENT_" .. e]] = e:lower()
end

print("\ndomains now:")
for _, dom in ipairs(conn:list_all_domains()) do
  print(("  %-10s %s"):format(dom:get_name(), state_names[dom:get_info().state] or "?"))
end

-- Events arrive on the loop while the tasks below work.
local events = 0
local id = conn:domain_event_register_any(nil, D.EVENT_ID_LIFECYCLE, function(_, dom, event, detail)
  events = events + 1
  print(("  event: %-8s %s (detail %d)"):format(dom:get_name(), event_names[event] or event, detail))
end)

local function xml(name, mem, vcpus)
  return ([[<domain type='test'><name>%s</name><memory unit='MiB'>%d</memory>
    <vcpu>%d</vcpu><os><type arch='x86_64'>hvm</type></os></domain>]]):format(name, mem, vcpus)
end

print("\ndefining and starting three domains, one task each:")
local specs = { { "web", 512, 2 }, { "db", 2048, 4 }, { "cache", 256, 1 } }
local tasks = {}
for i, s in ipairs(specs) do
  tasks[i] = virt.spawn(function()
    local dom = conn:define_domain(xml(s[1], s[2], s[3]))
    dom:create()
    if s[1] == "cache" then dom:suspend() end
    return dom
  end)
end
local doms = { virt.gather(table.unpack(tasks)) }
virt.sleep(50)          -- let the last events arrive

print("\n" .. ("%-8s %-4s %-9s %10s %5s  %s"):format("NAME", "ID", "STATE", "MEMORY", "VCPUS", "UUID"))
for _, dom in ipairs(conn:list_all_domains()) do
  local info = dom:get_info()
  local domid = dom:get_id()
  print(("%-8s %-4s %-9s %7d MiB %5d  %s"):format(dom:get_name(), domid >= 0 and domid or "-",
    state_names[info.state] or "?", info.memory // 1024, info.nrVirtCpu, dom:get_uuid_string()))
end
print(("\n%d lifecycle events received"):format(events))

-- Leave test:///default as we found it.
conn:domain_event_deregister_any(id)
for _, dom in ipairs(doms) do
  dom:destroy()
  dom:undefine()
end
conn:close()
