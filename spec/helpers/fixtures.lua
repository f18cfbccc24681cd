-- Small fixtures shared by specs.
local M = {}

function M.domain_xml(name, opts)
  opts = opts or {}
  return ([[
<domain type='test'>
  <name>%s</name>
  <memory unit='KiB'>%d</memory>
  <vcpu>%d</vcpu>
  <os><type arch='x86_64'>hvm</type></os>
</domain>]]):format(name, opts.memory or 131072, opts.vcpus or 1)
end

-- The names of a list of objects, sorted and joined by spaces.
function M.names(list)
  local t = {}
  for _, o in ipairs(list) do t[#t + 1] = o:get_name() end
  table.sort(t)
  return table.concat(t, " ")
end

function M.tmpdir()
  local p = os.tmpname()
  os.remove(p)
  assert(os.execute("mkdir -p " .. p))
  return p
end

function M.write(path, data)
  local f = assert(io.open(path, "w"))
  f:write(data)
  f:close()
  return path
end

-- A test-driver node with a user/password (the test driver then demands
-- authentication through the auth callback).
function M.auth_node(dir)
  return M.write(dir .. "/auth-node.xml", [[
<node>
  <auth>
    <user password='s3cret'>fred</user>
  </auth>
  <domain type='test'>
    <name>authdom</name>
    <memory>65536</memory>
    <os><type>hvm</type></os>
  </domain>
</node>]])
end

return M
