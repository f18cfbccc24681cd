-- The host's Lua allocator (host/alloc.c): small blocks from size-class
-- free lists, larger ones from malloc, and blocks that move between the
-- two as tables and strings grow and shrink.  Whatever the sizes, what was
-- stored must come back intact.
describe("the host's allocator", function()
  it("keeps tables intact while they grow and shrink across size classes", function()
    local t = {}
    for round = 1, 3 do
      for i = 1, 2000 do t[i] = i * round end             -- array part grows past 256 bytes
      for i = 1, 2000 do assert.equals(i * round, t[i]) end
      for i = 2000, 2, -1 do t[i] = nil end                -- and shrinks again
      collectgarbage()
      assert.equals(round, t[1])
      local h = {}
      for i = 1, 300 do h["k" .. i] = i end                -- hash part: every class on the way
      for i = 1, 300, 7 do h["k" .. i] = nil end
      collectgarbage()
      for i = 1, 300 do
        if (i - 1) % 7 == 0 then assert.is_nil(h["k" .. i]) else assert.equals(i, h["k" .. i]) end
      end
    end
  end)

  it("keeps strings and userdata of every size intact through collections", function()
    local keep = {}
    for n = 0, 600 do
      keep[#keep + 1] = string.rep(string.char(65 + n % 26), n)
      keep[#keep + 1] = ("%d:"):format(n) .. string.rep("x", n % 300)
      if n % 3 == 0 then keep[#keep] = nil end            -- holes for the free lists
      if n % 50 == 0 then collectgarbage() end
    end
    collectgarbage()
    local i = 0
    for n = 0, 600 do
      i = i + 1
      assert.equals(string.rep(string.char(65 + n % 26), n), keep[i])
      if n % 3 ~= 0 then
        i = i + 1
        assert.equals(("%d:"):format(n) .. string.rep("x", n % 300), keep[i])
      end
    end
  end)
end)
