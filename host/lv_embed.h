/* lv_embed.h: Lua modules compiled into the host (see host/gen/embed.lua).
 * SPDX-License-Identifier: LGPL-2.1-or-later */
#ifndef LV_EMBED_H
#define LV_EMBED_H
#include <stddef.h>
typedef struct lv_embedded {
  const char *name, *chunkname, *src;
  size_t len;
  const char *bytecode;   /* precompiled by host/gen/dump.c, or NULL */
  size_t bclen;
} lv_embedded;
extern const lv_embedded lv_embedded_modules[];
#endif
