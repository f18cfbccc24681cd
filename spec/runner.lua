-- spec/runner.lua: run busted inside the luvirt host, so specs use the real
-- loop, tasks and worker pool.  usage: luvirt spec/runner.lua [busted args] PATH...
-- The counts go to $LUVIRT_COUNTS (if set) for scripts/check.sh.
package.path = "./?.lua;./?/init.lua;" .. package.path
local args = { "-o", "spec/helpers/output.lua", "--pattern", "_spec" }
for i = 1, #arg do args[#args + 1] = arg[i] end
arg = args
require "busted.runner" ({ standalone = false, output = "spec/helpers/output.lua" })
