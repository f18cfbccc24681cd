# luvirt — the whole libvirt API in Lua 5.4 on libuv.
# SPDX-License-Identifier: LGPL-2.1-or-later

PREFIX  ?= /usr/local
DESTDIR ?=
BUILD   ?= build
LUA     ?= lua5.4
CC      ?= cc

# libvirt-qemu and libvirt-lxc are compiled against, not linked: they are
# opened on the first call of one of their functions (LV_LAZY in host/lv.h).
PKGS      := libvirt libvirt-qemu libvirt-lxc libvirt-admin lua5.4 libuv
PKG_CFLAGS := $(shell pkg-config --cflags $(PKGS) 2>/dev/null)
PKG_LIBS   := $(shell pkg-config --libs libvirt libvirt-admin lua5.4 libuv 2>/dev/null)
LIBVIRT_API       := $(shell pkg-config --variable=libvirt_api libvirt 2>/dev/null)
LIBVIRT_QEMU_API  := $(shell pkg-config --variable=libvirt_qemu_api libvirt-qemu 2>/dev/null)
LIBVIRT_LXC_API   := $(shell pkg-config --variable=libvirt_lxc_api libvirt-lxc 2>/dev/null)
LIBVIRT_ADMIN_API := $(shell pkg-config --variable=libvirt_admin_api libvirt-admin 2>/dev/null)
API_XML := $(LIBVIRT_API) $(LIBVIRT_QEMU_API) $(LIBVIRT_LXC_API) $(LIBVIRT_ADMIN_API)

OPT     ?= -O2
CFLAGS  ?= $(OPT) -g
ALL_CFLAGS = -std=c11 -D_GNU_SOURCE -fPIC -Wall -Wextra $(CFLAGS) $(PKG_CFLAGS) \
             -Ihost -I$(BUILD)/gen -DLUVIRT_DATADIR='"$(PREFIX)/share/luvirt"' \
             -DLUVIRT_SRCDIR='"$(CURDIR)"'
ALL_LDFLAGS = $(LDFLAGS) $(LDFLAGS_EXTRA)
LDLIBS_ALL = $(PKG_LIBS) -lpthread

# The C module (virt/core.so for plain Lua) and the libraries share the core
# objects; the host adds main.c/repl.c and links luv in.
HOST_ONLY := host/main.c host/repl.c
CORE_SRC  := $(filter-out $(HOST_ONLY),$(wildcard host/*.c))
CORE_OBJ  := $(CORE_SRC:host/%.c=$(BUILD)/obj/%.o) $(BUILD)/obj/gen_generated.o $(BUILD)/obj/gen_lua.o
LUA_SRC   := $(wildcard lua/virt/*.lua)
STDLIB_SRC := $(wildcard stdlib/*.lua stdlib/*/*.lua)
GEN_SRC   := $(wildcard host/gen/*.lua host/gen/*.txt)

.PHONY: all deps check check-unit demo bench asan install clean
all: $(BUILD)/luvirt $(BUILD)/virt/core.so $(BUILD)/libluvirt.a $(BUILD)/libluvirt.so $(BUILD)/REFERENCE.md $(BUILD)/luvirt-admin-helper

$(BUILD)/obj $(BUILD)/gen $(BUILD)/virt:
	@mkdir -p $@

# gen.lua also reads host/*.c for the hand-written bindings; it rewrites
# generated.c only when it changes, so editing a .c file rebuilds that file.
$(BUILD)/gen/generated.c: $(GEN_SRC) $(API_XML) $(wildcard host/*.c) | $(BUILD)/gen
	$(LUA) host/gen/gen.lua $(BUILD)/gen $(API_XML) $(wildcard host/*.c)
$(BUILD)/REFERENCE.md: $(BUILD)/gen/generated.c $(GEN_SRC) $(wildcard host/*.c)
	cp $(BUILD)/gen/REFERENCE.md $@
# libvirt-admin cannot share a process with libvirt (9.0): virt.admin runs it
# in this helper (host/admin.c).
$(BUILD)/luvirt-admin-helper: host/helpers/admin_helper.c host/helpers/adminwire.h
	$(CC) $(ALL_CFLAGS) $(ALL_LDFLAGS) -o $@ $< $(shell pkg-config --libs libvirt-admin libvirt) -lpthread

# The embedded modules go in as source and as bytecode, which dump makes with
# the Lua the command links (host/embed.c uses it when that Lua runs).
$(BUILD)/gen/lua.c: $(LUA_SRC) host/gen/embed.lua $(BUILD)/gen/dump | $(BUILD)/gen
	$(LUA) host/gen/embed.lua $@ --dump $(BUILD)/gen/dump $(LUA_SRC)
$(BUILD)/gen/dump: host/gen/dump.c | $(BUILD)/gen
	$(CC) $(ALL_CFLAGS) $(ALL_LDFLAGS) -o $@ $< $(CLI_LUA) -lm -ldl

$(BUILD)/obj/gen_generated.o: $(BUILD)/gen/generated.c host/lv.h | $(BUILD)/obj
	$(CC) $(ALL_CFLAGS) -c -o $@ $<
$(BUILD)/obj/gen_lua.o: $(BUILD)/gen/lua.c | $(BUILD)/obj
	$(CC) $(ALL_CFLAGS) -c -o $@ $<
$(BUILD)/obj/%.o: host/%.c host/lv.h host/luvirt.h host/lv_embed.h $(BUILD)/gen/generated.c | $(BUILD)/obj
	$(CC) $(ALL_CFLAGS) -c -o $@ $<

$(BUILD)/libluvirt.a: $(CORE_OBJ)
	rm -f $@; ar rcs $@ $^
$(BUILD)/libluvirt.so: $(CORE_OBJ)
	$(CC) $(ALL_LDFLAGS) -shared -o $@ $^ -Wl,-soname,libluvirt.so.0 $(LDLIBS_ALL) -llua5.4-luv
# The module has no embedded Lua (plain Lua finds lua/virt/*.lua on its path),
# so building the rock needs neither lua.c nor its dump helper.
MODULE_OBJ := $(filter-out $(BUILD)/obj/embed.o $(BUILD)/obj/gen_lua.o,$(CORE_OBJ))
$(BUILD)/virt/core.so: $(MODULE_OBJ) | $(BUILD)/virt
	$(CC) $(ALL_LDFLAGS) -shared -o $@ $^ $(filter-out -llua5.4,$(LDLIBS_ALL))
$(BUILD)/luvirt: $(BUILD)/obj/main.o $(BUILD)/obj/repl.o $(CORE_OBJ)
	$(CC) $(ALL_LDFLAGS) -o $@ $^ $(CLI_LIBS) -Wl,-E

# The luvirt command links luv, Lua, libuv and readline statically where
# their archives are installed (Debian's -dev packages have them), else
# dynamically.  Every shared library in a process lengthens every symbol
# lookup the dynamic loader makes at start-up, and libvirt's dependencies
# make ~18,000 of them: four fewer libraries are ~10 % of `luvirt -e ''`
# (scripts/bench/RESULTS.md, start-up).  -E exports Lua's API to the C
# modules that require loads.
archive_or = $(or $(abspath $(filter /%,$(shell $(CC) -print-file-name=$(1) 2>/dev/null))),$(2))
CLI_LUV := $(call archive_or,liblua5.4-luv.a,-llua5.4-luv)
CLI_LUA := $(call archive_or,liblua5.4.a,-llua5.4)
CLI_UV  := $(or $(call archive_or,libuv_a.a,),$(call archive_or,libuv.a,-luv))
CLI_RL  := $(if $(and $(call archive_or,libreadline.a,),$(call archive_or,libtinfo.a,)),\
             $(call archive_or,libreadline.a,) $(call archive_or,libtinfo.a,),-lreadline)
CLI_LIBS = $(CLI_LUV) $(CLI_RL) $(filter-out -llua5.4 -luv,$(LDLIBS_ALL)) $(CLI_LUA) $(CLI_UV) -lm -ldl

# Debian packages this project needs (DESIGN.md); `make deps` installs the missing ones.
DEB_BUILD := make gcc libc6-dev pkg-config libvirt-dev liblua5.4-dev lua5.4 libuv1-dev \
             lua-luv-dev lua-luv libreadline-dev
DEB_RUN   := lua-busted lua-cjson lua-argparse lua-sql-sqlite3
DEB_TEST  := libvirt-daemon libvirt-clients qemu-system-x86 qemu-utils busybox-static cpio \
             iproute2 tini tmux valgrind luarocks procps
DEB_BENCH := python3-libvirt libsys-virt-perl
DEBS := $(DEB_BUILD) $(DEB_RUN) $(DEB_TEST) $(DEB_BENCH)
deps:
	@sh scripts/install-deps.sh $(DEBS)
# `make demo` works on a fresh machine: deps first, then the build

# like demo: a fresh machine gets its packages first, then the build (a
# sub-make, so pkg-config is asked after they exist)
check: deps
	@$(MAKE) --no-print-directory all
	@sh scripts/check.sh $(BUILD)

demo: deps
	@$(MAKE) --no-print-directory all >/dev/null
	@$(BUILD)/luvirt scripts/demo.lua

bench: all
	@sh scripts/bench/run.sh $(BUILD)

asan:
	$(MAKE) BUILD=build-asan OPT="-O1 -fsanitize=address,undefined -fno-omit-frame-pointer" \
	  LDFLAGS_EXTRA="-fsanitize=address,undefined" all
	ASAN_OPTIONS=detect_leaks=0 sh scripts/check.sh build-asan

install: all
	install -d $(DESTDIR)$(PREFIX)/bin $(DESTDIR)$(PREFIX)/lib $(DESTDIR)$(PREFIX)/include \
	  $(DESTDIR)$(PREFIX)/lib/pkgconfig $(DESTDIR)$(PREFIX)/share/lua/5.4/virt \
	  $(DESTDIR)$(PREFIX)/lib/lua/5.4/virt $(DESTDIR)$(PREFIX)/share/luvirt
	install -m 755 $(BUILD)/luvirt $(DESTDIR)$(PREFIX)/bin/luvirt
	install -D -m 755 $(BUILD)/luvirt-admin-helper $(DESTDIR)$(PREFIX)/libexec/luvirt/luvirt-admin-helper
	install -m 644 $(BUILD)/libluvirt.a $(DESTDIR)$(PREFIX)/lib/
	install -m 755 $(BUILD)/libluvirt.so $(DESTDIR)$(PREFIX)/lib/libluvirt.so.0
	ln -sf libluvirt.so.0 $(DESTDIR)$(PREFIX)/lib/libluvirt.so
	install -m 644 host/luvirt.h $(DESTDIR)$(PREFIX)/include/
	install -m 755 $(BUILD)/virt/core.so $(DESTDIR)$(PREFIX)/lib/lua/5.4/virt/core.so
	install -m 644 $(LUA_SRC) $(DESTDIR)$(PREFIX)/share/lua/5.4/virt/
	if [ -d stdlib ]; then cp -r stdlib $(DESTDIR)$(PREFIX)/share/luvirt/; fi
	sed -e 's|@PREFIX@|$(PREFIX)|' -e 's|@VERSION@|0.1.0|' host/luvirt.pc.in \
	  > $(DESTDIR)$(PREFIX)/lib/pkgconfig/luvirt.pc

clean:
	rm -rf $(BUILD) build-asan

# --- REPL/embed/rockspec ---
# rock and rock-install are what rockspec/luvirt-scm-1.rockspec runs
# (luarocks passes BUILD, LUA, LUADIR, LIBDIR); check-lua builds the rock
# into a temporary tree and runs the unit tier under plain lua5.4 with it;
# check-install installs with DESTDIR and builds the embedding example
# against the copy with pkg-config (spec/embed runs it within make check).
.PHONY: rock rock-install check-lua check-install
rock: $(BUILD)/virt/core.so
	@$(LUA) -e 'require "luv"' 2>/dev/null || { echo "luvirt: the virt module needs luv for $(LUA)" \
	  "(Debian: apt-get install lua-luv; elsewhere: luarocks install luv)" >&2; exit 1; }
rock-install: rock
	install -d $(LIBDIR)/virt $(LUADIR)/virt
	install -m 755 $(BUILD)/virt/core.so $(LIBDIR)/virt/core.so
	install -m 644 $(LUA_SRC) $(LUADIR)/virt/
	for f in $(STDLIB_SRC); do install -D -m 644 $$f $(LUADIR)/$${f#stdlib/} || exit 1; done
check-lua:
	@sh scripts/check-lua.sh
check-install: all
	@sh scripts/check-install.sh $(BUILD)
# Lua unloads C modules when a state closes (lua5.4 at exit), but libvirt
# keeps pointers to the module's event callbacks and the worker threads
# run its code: it must stay mapped.
$(BUILD)/virt/core.so: LDFLAGS_EXTRA += -Wl,-z,nodelete
