/*
 * dump.c FILE.lua: write FILE.lua's bytecode to stdout (lua_dump, with its
 * debug information, so tracebacks and error positions stay as they are).
 *
 * Build-time helper of host/gen/embed.lua, linked with the same Lua as the
 * luvirt command: a precompiled module loads in a fraction of what parsing
 * its source costs at every start-up, but bytecode is only good for the Lua
 * release that made it (host/embed.c checks that before using it).
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#include <stdio.h>
#include <string.h>
#include <lua.h>
#include <lauxlib.h>

static int writer(lua_State *L, const void *p, size_t n, void *ud)
{
  (void)L;
  return fwrite(p, 1, n, (FILE *)ud) == n ? 0 : 1;
}

int main(int argc, char **argv)
{
  lua_State *L;
  if (argc != 2) {
    fprintf(stderr, "usage: %s FILE.lua > FILE.luac\n", argv[0]);
    return 2;
  }
  L = luaL_newstate();
  if (!L) {
    fprintf(stderr, "dump: not enough memory\n");
    return 1;
  }
  /* the chunk name embed.lua gives the source: "@" and the path */
  if (luaL_loadfile(L, argv[1]) != LUA_OK) {
    fprintf(stderr, "dump: %s\n", lua_tostring(L, -1));
    lua_close(L);
    return 1;
  }
  if (lua_dump(L, writer, stdout, 0) != 0 || fflush(stdout) != 0) {
    fprintf(stderr, "dump: cannot write the bytecode of %s\n", argv[1]);
    lua_close(L);
    return 1;
  }
  lua_close(L);
  return 0;
}
