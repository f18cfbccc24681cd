-- busted output handler: the usual terminal output, plus the counts written
-- to $LUVIRT_COUNTS as "passed failed errors pending" for scripts/check.sh.
return function(options)
  local busted = require "busted"
  local term = require "term"
  local name = term.isatty(io.stdout) and "utfTerminal" or "plainTerminal"
  local handler = require("busted.outputHandlers." .. name)(options)
  busted.subscribe({ "suite", "end" }, function()
    local path = os.getenv("LUVIRT_COUNTS")
    if path then
      local f = io.open(path, "w")
      if f then
        f:write(("%d %d %d %d\n"):format(handler.successesCount, handler.failuresCount,
          handler.errorsCount, handler.pendingsCount))
        f:close()
      end
    end
    return nil, true
  end)
  return handler
end
