-- luvirt for plain Lua 5.4: the virt C module (virt.core), the Lua half of
-- `virt` (lua/virt) and the workflow libraries (stdlib).
--   luarocks --lua-version 5.4 make --tree TREE rockspec/luvirt-scm-1.rockspec
-- (from the top of the source tree).  The build goes through the project's
-- Makefile, which also generates the bindings from libvirt's API XML.
rockspec_format = "3.0"
package = "luvirt"
version = "scm-1"
source = {
  -- `luarocks make` builds the checkout it is run in; this is where a
  -- published rock would fetch it from
  url = "git+file://.",
}
description = {
  summary = "The whole libvirt API for Lua 5.4, asynchronous on libuv",
  detailed = [[
Sys::Virt's API (same classes, method names and constants) for Lua 5.4.
libvirt's event loop runs on libuv: under plain Lua the module shares the
loop of luv (require "luv"), so libvirt events, keepalives and streams flow
next to luv's timers and sockets.  Inside a task (virt.spawn) libvirt calls
run on worker threads and the task yields.  Needs luv at run time (Debian:
lua-luv; or `luarocks install luv`).]],
  license = "LGPL-2.1-or-later",
}
dependencies = {
  "lua >= 5.4, < 5.5",
}
external_dependencies = {
  LIBVIRT = { header = "libvirt/libvirt.h", library = "virt" },
  LIBUV = { header = "uv.h", library = "uv" },
}
build = {
  type = "make",
  makefile = "Makefile",
  build_target = "rock",
  build_variables = {
    BUILD = "build-rock",
    LUA = "$(LUA)",
    CFLAGS = "$(CFLAGS)",
    LIBVIRT_INCDIR = "$(LIBVIRT_INCDIR)",
    LIBUV_INCDIR = "$(LIBUV_INCDIR)",
  },
  install_target = "rock-install",
  install_variables = {
    BUILD = "build-rock",
    LUA = "$(LUA)",
    LUADIR = "$(LUADIR)",
    LIBDIR = "$(LIBDIR)",
  },
}
