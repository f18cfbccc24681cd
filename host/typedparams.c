/*
 * typedparams.c: libvirt typed parameters <-> Lua tables keyed by name.
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#include "lv.h"

/* Push params as { name = value, ... }; unsigned and 64-bit values never
 * come out negative; a string list (repeated name) becomes an array. */
void lv_tp_push(lua_State *L, virTypedParameterPtr params, int n)
{
  int i;
  lua_createtable(L, 0, n > 0 ? n : 0);
  for (i = 0; i < n; i++) {
    virTypedParameterPtr p = &params[i];
    switch (p->type) {
    case VIR_TYPED_PARAM_INT:
      lua_pushinteger(L, p->value.i);
      break;
    case VIR_TYPED_PARAM_UINT:
      lua_pushinteger(L, p->value.ui);
      break;
    case VIR_TYPED_PARAM_LLONG:
      lua_pushinteger(L, p->value.l);
      break;
    case VIR_TYPED_PARAM_ULLONG:
      lv_push_uint64(L, p->value.ul);
      break;
    case VIR_TYPED_PARAM_DOUBLE:
      lua_pushnumber(L, p->value.d);
      break;
    case VIR_TYPED_PARAM_BOOLEAN:
      lua_pushboolean(L, p->value.b);
      break;
    case VIR_TYPED_PARAM_STRING:
      lua_getfield(L, -1, p->field);
      if (lua_isstring(L, -1)) {            /* second of a repeated name */
        lua_createtable(L, 2, 0);
        lua_insert(L, -2);
        lua_rawseti(L, -2, 1);
        lua_pushstring(L, p->value.s ? p->value.s : "");
        lua_rawseti(L, -2, 2);
      } else if (lua_istable(L, -1)) {
        lua_pushstring(L, p->value.s ? p->value.s : "");
        lua_rawseti(L, -2, luaL_len(L, -2) + 1);
      } else {
        lua_pop(L, 1);
        lua_pushstring(L, p->value.s ? p->value.s : "");
      }
      break;
    default:
      continue;
    }
    lua_setfield(L, -2, p->field);
  }
}
