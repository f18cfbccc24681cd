-- virt.pretty: how the REPL shows values.
local virt = require "virt"
local pretty = require "virt.pretty"

describe("virt.pretty", function()
  it("keeps short tables on one line: list part first, then keys sorted (numbers first)", function()
    assert.equals('{ 1, 2, "three", [10] = false, a = true, b = { c = 1.5 } }',
      pretty.format({ 1, 2, "three", b = { c = 1.5 }, a = true, [10] = false }))
    assert.equals("{}", pretty.format({}))
  end)

  it("quotes strings with escapes and shows other scalars as Lua would write them", function()
    assert.equals([["a\n\"b\"\0001"]], pretty.format('a\n"b"\0' .. "1"))
    assert.equals("42", pretty.format(42))
    assert.equals("nil", pretty.format(nil))
    assert.equals("math.huge", pretty.format(math.huge))
    assert.equals("0/0", pretty.format(0 / 0))
    assert.equals("<function [C]>", pretty.format(print))
    assert.matches("^<function .*pretty_spec.lua:%d+>$", pretty.format(function() end))
    assert.equals("<coroutine suspended>", pretty.format(coroutine.create(print)))
  end)

  it("indents nested tables that do not fit on a line", function()
    local s = pretty.format({ name = string.rep("n", 50), inner = { x = string.rep("x", 50) } }, { width = 60 })
    assert.equals(table.concat({
      "{",
      "  inner = {",
      '    x = "' .. string.rep("x", 50) .. '",',
      "  },",
      '  name = "' .. string.rep("n", 50) .. '",',
      "}" }, "\n"), s)
  end)

  it("marks cycles and shared tables instead of recursing", function()
    local t = { 1 }
    t.self = t
    assert.equals("<1>{ 1, self = <cycle 1> }", pretty.format(t))
    local shared = { "s" }
    assert.equals('{ a = <1>{ "s" }, b = <same 1> }', pretty.format({ a = shared, b = shared }))
  end)

  it("truncates long lists with a count of what was left out", function()
    local big = {}
    for i = 1, 1000 do big[i] = i end
    local s = pretty.format(big)
    assert.matches("%.%.%. %(960 more%)", s)
    assert.is_nil(s:find("41,", 1, true))
    assert.matches("%.%.%. %(990 more%)", pretty.format(big, { max_items = 10 }))
    assert.matches('%.%.%.%(5000 bytes%)$', pretty.format(string.rep("z", 5000)))
  end)

  it("stops at max_depth", function()
    local deep = {}
    local c = deep
    for _ = 1, 20 do c.n = {}; c = c.n end
    assert.matches("{%.%.%.}", pretty.format(deep, { max_depth = 3 }))
  end)

  it("shows userdata through __tostring: a Domain as <Domain name ...>", function()
    local conn = virt.new{ uri = "test:///default" }
    local dom = conn:get_domain_by_name("test")
    assert.matches("^<Domain test", pretty.format(dom))
    assert.equals(tostring(dom), pretty.format(dom))
    assert.matches("^{ <Domain test.->, n = 1 }$", pretty.format({ dom, n = 1 }))
    conn:close()
    assert.matches("^<file %(0x%x+%)>$", pretty.format(io.stdout))
  end)

  it("survives a failing __tostring and never calls __index or __pairs", function()
    local bad = setmetatable({}, { __tostring = function() error("nope") end })
    assert.equals("<table: __tostring failed>", pretty.format(bad))
    local called = false
    local proxy = setmetatable({ real = 1 }, {
      __index = function() called = true end,
      __pairs = function() called = true; return next, {}, nil end,
      __len = function() called = true; return 99 end })
    assert.equals("{ real = 1 }", pretty.format(proxy))
    assert.is_false(called)
  end)
end)
