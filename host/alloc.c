/*
 * alloc.c: the allocator of the luvirt host's Lua state.
 *
 * Lua allocates and frees small blocks all the time: a table and its node
 * array for every dom:get_info(), a userdata for every object, closures,
 * short strings.  Lua tells the allocator the size of every block it frees
 * or resizes, so blocks of up to SMALL_MAX bytes can come from free lists,
 * one per 16-byte size class, carved out of 64 KiB chunks: no header, no
 * search, and a block freed is the next one handed out (still in cache).
 * Larger blocks go to malloc.  Chunks are never given back while the state
 * lives (glibc mostly keeps small blocks too); lv_alloc_free releases them
 * all after lua_close.
 *
 * Only the loop thread runs Lua, so nothing here is locked.  Under
 * AddressSanitizer it is plain malloc, so that the sanitizer sees each
 * block.
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#include <stdlib.h>
#include <string.h>
#include "lv.h"

#if defined(__SANITIZE_ADDRESS__)
# define LV_PLAIN_ALLOC 1
#elif defined(__has_feature)
# if __has_feature(address_sanitizer)
#  define LV_PLAIN_ALLOC 1
# endif
#endif

#define GRAIN 16
#define SMALL_MAX 256
#define NCLASS (SMALL_MAX / GRAIN)
#define CHUNK (64 * 1024)

typedef struct chunk {
  struct chunk *next;
  /* blocks follow, aligned as malloc's */
} chunk;

struct lv_arena {
  void *free[NCLASS];           /* class c holds blocks of (c + 1) * GRAIN */
  chunk *chunks;
  char *cur;                    /* the unused tail of the newest chunk */
  size_t left;
};

static unsigned class_of(size_t n)
{
  return (unsigned)((n + GRAIN - 1) / GRAIN) - 1;
}

static void *small_alloc(lv_arena *a, size_t n)
{
  unsigned c = class_of(n);
  size_t size = (size_t)(c + 1) * GRAIN;
  void *p = a->free[c];
  if (p) {
    a->free[c] = *(void **)p;
    return p;
  }
  if (a->left < size) {
    /* the old chunk's tail (< SMALL_MAX) is left unused */
    chunk *k = malloc(CHUNK);
    size_t head = (sizeof *k + GRAIN - 1) / GRAIN * GRAIN;
    if (!k)
      return NULL;
    k->next = a->chunks;
    a->chunks = k;
    a->cur = (char *)k + head;
    a->left = CHUNK - head;
  }
  p = a->cur;
  a->cur += size;
  a->left -= size;
  return p;
}

static void small_free(lv_arena *a, void *p, size_t n)
{
  unsigned c = class_of(n);
  *(void **)p = a->free[c];
  a->free[c] = p;
}

/* lua_Alloc.  When ptr is NULL, osize is the kind of object, not a size. */
static void *arena_alloc(void *ud, void *ptr, size_t osize, size_t nsize)
{
  lv_arena *a = ud;
  void *n;
  if (nsize == 0) {
    if (ptr) {
      if (osize <= SMALL_MAX)
        small_free(a, ptr, osize);
      else
        free(ptr);
    }
    return NULL;
  }
  if (!ptr)
    return nsize <= SMALL_MAX ? small_alloc(a, nsize) : malloc(nsize);
  if (osize > SMALL_MAX && nsize > SMALL_MAX)
    return realloc(ptr, nsize);
  if (osize <= SMALL_MAX && nsize <= SMALL_MAX && class_of(osize) == class_of(nsize))
    return ptr;
  n = nsize <= SMALL_MAX ? small_alloc(a, nsize) : malloc(nsize);
  if (!n)
    /* a shrink never fails: the block it has is big enough */
    return nsize < osize ? ptr : NULL;
  memcpy(n, ptr, osize < nsize ? osize : nsize);
  if (osize <= SMALL_MAX)
    small_free(a, ptr, osize);
  else
    free(ptr);
  return n;
}

static void *plain_alloc(void *ud, void *ptr, size_t osize, size_t nsize)
{
  (void)ud;
  (void)osize;
  if (nsize == 0) {
    free(ptr);
    return NULL;
  }
  return realloc(ptr, nsize);
}

lua_Alloc lv_alloc_new(lv_arena **arena)
{
#ifdef LV_PLAIN_ALLOC
  *arena = NULL;
  return plain_alloc;
#else
  if (getenv("LUVIRT_PLAIN_ALLOC") || !(*arena = calloc(1, sizeof **arena))) {
    *arena = NULL;
    return plain_alloc;
  }
  return arena_alloc;
#endif
}

void lv_alloc_free(lv_arena *a)
{
  chunk *k, *next;
  if (!a)
    return;
  for (k = a->chunks; k; k = next) {
    next = k->next;
    free(k);
  }
  free(a);
}
