/*
 * adminwire.h: the messages between host/admin.c and luvirt-admin-helper.
 *
 * libvirt 9.0's libvirt-admin and libvirt cannot both initialize in one
 * process (each registers the same GObject type names; the second fails),
 * so luvirt runs the admin API in a helper process linked to
 * libvirt-admin only, one per admin connection.
 *
 * A message is a 32-bit length and that many bytes of values, each a tag
 * byte and its data (little-endian): 'n' nil, 'i' int64, 'u' uint64,
 * 'd' double, 'b' bool (1 byte), 's' string (32-bit length, bytes),
 * 'p' typed parameters (32-bit count, then name 's', type byte, value),
 * 'h' a handle (uint64) for a server or client, 'l' list (32-bit count of
 * the values that follow), 'e' error (int32 code, int32 domain, 's' message).
 * A request is the operation's name ('s') and its arguments; a reply is
 * 'e' or the results.
 *
 * SPDX-License-Identifier: LGPL-2.1-or-later
 */
#ifndef ADMINWIRE_H
#define ADMINWIRE_H

#include <errno.h>
#include <stdio.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <libvirt/libvirt-admin.h>

#define AW_MAX_MESSAGE (64u << 20)

typedef struct aw_buf {
  unsigned char *data;
  size_t len, cap, pos;
  int oom;
} aw_buf;

static inline void aw_free(aw_buf *b)
{
  free(b->data);
  memset(b, 0, sizeof *b);
}

static inline void aw_put(aw_buf *b, const void *p, size_t n)
{
  if (b->oom)
    return;
  if (b->len + n > b->cap) {
    size_t cap = b->cap ? b->cap * 2 : 256;
    unsigned char *d;
    while (cap < b->len + n)
      cap *= 2;
    d = realloc(b->data, cap);
    if (!d) {
      b->oom = 1;
      return;
    }
    b->data = d;
    b->cap = cap;
  }
  memcpy(b->data + b->len, p, n);
  b->len += n;
}

static inline void aw_u32(aw_buf *b, uint32_t v)
{
  unsigned char x[4] = {v & 0xff, (v >> 8) & 0xff, (v >> 16) & 0xff, (v >> 24) & 0xff};
  aw_put(b, x, 4);
}

static inline void aw_u64raw(aw_buf *b, uint64_t v)
{
  aw_u32(b, (uint32_t)(v & 0xffffffffu));
  aw_u32(b, (uint32_t)(v >> 32));
}

static inline void aw_tag(aw_buf *b, char t) { aw_put(b, &t, 1); }
static inline void aw_nil(aw_buf *b) { aw_tag(b, 'n'); }
static inline void aw_int(aw_buf *b, int64_t v) { aw_tag(b, 'i'); aw_u64raw(b, (uint64_t)v); }
static inline void aw_uint(aw_buf *b, uint64_t v) { aw_tag(b, 'u'); aw_u64raw(b, v); }
static inline void aw_handle(aw_buf *b, uint64_t v) { aw_tag(b, 'h'); aw_u64raw(b, v); }
static inline void aw_bool(aw_buf *b, int v) { unsigned char x = v != 0; aw_tag(b, 'b'); aw_put(b, &x, 1); }
static inline void aw_list(aw_buf *b, uint32_t n) { aw_tag(b, 'l'); aw_u32(b, n); }

static inline void aw_double(aw_buf *b, double d)
{
  uint64_t v;
  memcpy(&v, &d, sizeof v);
  aw_tag(b, 'd');
  aw_u64raw(b, v);
}

static inline void aw_strn(aw_buf *b, const char *s, size_t n)
{
  aw_tag(b, 's');
  aw_u32(b, (uint32_t)n);
  aw_put(b, s, n);
}

static inline void aw_str(aw_buf *b, const char *s)
{
  if (s)
    aw_strn(b, s, strlen(s));
  else
    aw_nil(b);
}

static inline void aw_error(aw_buf *b, int code, int domain, const char *msg)
{
  aw_tag(b, 'e');
  aw_u32(b, (uint32_t)code);
  aw_u32(b, (uint32_t)domain);
  aw_str(b, msg ? msg : "");
}

/* Typed parameters, with libvirt's type codes. */
static inline void aw_params(aw_buf *b, virTypedParameterPtr p, int n)
{
  int i;
  aw_tag(b, 'p');
  aw_u32(b, (uint32_t)(n > 0 ? n : 0));
  for (i = 0; i < n; i++) {
    unsigned char t = (unsigned char)p[i].type;
    aw_str(b, p[i].field);
    aw_put(b, &t, 1);
    switch (p[i].type) {
    case VIR_TYPED_PARAM_INT: aw_u64raw(b, (uint64_t)(int64_t)p[i].value.i); break;
    case VIR_TYPED_PARAM_UINT: aw_u64raw(b, p[i].value.ui); break;
    case VIR_TYPED_PARAM_LLONG: aw_u64raw(b, (uint64_t)p[i].value.l); break;
    case VIR_TYPED_PARAM_ULLONG: aw_u64raw(b, p[i].value.ul); break;
    case VIR_TYPED_PARAM_DOUBLE: { uint64_t v; memcpy(&v, &p[i].value.d, 8); aw_u64raw(b, v); break; }
    case VIR_TYPED_PARAM_BOOLEAN: aw_u64raw(b, (uint64_t)(p[i].value.b != 0)); break;
    default: aw_str(b, p[i].value.s ? p[i].value.s : ""); break;
    }
  }
}

/* ----------------------------------------------------------- reading */

static inline int aw_get(aw_buf *b, void *p, size_t n)
{
  if (b->pos + n > b->len)
    return -1;
  memcpy(p, b->data + b->pos, n);
  b->pos += n;
  return 0;
}

static inline int aw_getu32(aw_buf *b, uint32_t *v)
{
  unsigned char x[4];
  if (aw_get(b, x, 4) < 0)
    return -1;
  *v = (uint32_t)x[0] | (uint32_t)x[1] << 8 | (uint32_t)x[2] << 16 | (uint32_t)x[3] << 24;
  return 0;
}

static inline int aw_getu64raw(aw_buf *b, uint64_t *v)
{
  uint32_t lo, hi;
  if (aw_getu32(b, &lo) < 0 || aw_getu32(b, &hi) < 0)
    return -1;
  *v = (uint64_t)hi << 32 | lo;
  return 0;
}

static inline int aw_peek(aw_buf *b)
{
  return b->pos < b->len ? b->data[b->pos] : -1;
}

/* A string value (or nil -> NULL); points into the buffer after setting a
 * terminator in a copy: returns malloc'd memory the caller frees. */
static inline int aw_getstr(aw_buf *b, char **s)
{
  char t;
  uint32_t n;
  *s = NULL;
  if (aw_get(b, &t, 1) < 0)
    return -1;
  if (t == 'n')
    return 0;
  if (t != 's' || aw_getu32(b, &n) < 0 || b->pos + n > b->len)
    return -1;
  *s = malloc((size_t)n + 1);
  if (!*s)
    return -1;
  memcpy(*s, b->data + b->pos, n);
  (*s)[n] = '\0';
  b->pos += n;
  return 0;
}

static inline int aw_getnum(aw_buf *b, char want, uint64_t *v)
{
  char t;
  if (aw_get(b, &t, 1) < 0 || t != want)
    return -1;
  return aw_getu64raw(b, v);
}

/* Typed parameters into an array the caller frees with virTypedParamsFree
 * (strings strdup'ed). */
static inline int aw_getparams(aw_buf *b, virTypedParameterPtr *out, int *nout)
{
  char t;
  uint32_t n, i;
  virTypedParameterPtr p;
  *out = NULL;
  *nout = 0;
  if (aw_get(b, &t, 1) < 0 || t != 'p' || aw_getu32(b, &n) < 0 || n > 4096)
    return -1;
  p = calloc(n ? n : 1, sizeof *p);
  if (!p)
    return -1;
  for (i = 0; i < n; i++) {
    char *name;
    unsigned char type;
    uint64_t v;
    if (aw_getstr(b, &name) < 0 || !name || aw_get(b, &type, 1) < 0) {
      free(name);
      goto bad;
    }
    snprintf(p[i].field, VIR_TYPED_PARAM_FIELD_LENGTH, "%s", name);
    free(name);
    p[i].type = type;
    *nout = (int)i + 1;
    if (type == VIR_TYPED_PARAM_STRING) {
      if (aw_getstr(b, &p[i].value.s) < 0 || !p[i].value.s)
        goto bad;
      continue;
    }
    if (aw_getu64raw(b, &v) < 0)
      goto bad;
    switch (type) {
    case VIR_TYPED_PARAM_INT: p[i].value.i = (int)(int64_t)v; break;
    case VIR_TYPED_PARAM_UINT: p[i].value.ui = (unsigned int)v; break;
    case VIR_TYPED_PARAM_LLONG: p[i].value.l = (long long)v; break;
    case VIR_TYPED_PARAM_ULLONG: p[i].value.ul = v; break;
    case VIR_TYPED_PARAM_DOUBLE: memcpy(&p[i].value.d, &v, 8); break;
    case VIR_TYPED_PARAM_BOOLEAN: p[i].value.b = v != 0; break;
    default: goto bad;
    }
  }
  *out = p;
  return 0;
 bad:
  /* strings of the entries read so far */
  for (i = 0; i < (uint32_t)*nout; i++)
    if (p[i].type == VIR_TYPED_PARAM_STRING)
      free(p[i].value.s);
  free(p);
  *nout = 0;
  return -1;
}

/* ------------------------------------------------------ message I/O */

static inline int aw_write_all(int fd, const void *p, size_t n)
{
  const unsigned char *c = p;
  while (n) {
    ssize_t w = write(fd, c, n);
    if (w < 0 && errno == EINTR)
      continue;
    if (w <= 0)
      return -1;
    c += w;
    n -= (size_t)w;
  }
  return 0;
}

static inline int aw_read_all(int fd, void *p, size_t n)
{
  unsigned char *c = p;
  while (n) {
    ssize_t r = read(fd, c, n);
    if (r < 0 && errno == EINTR)
      continue;
    if (r <= 0)
      return -1;
    c += r;
    n -= (size_t)r;
  }
  return 0;
}

static inline int aw_send(int fd, aw_buf *b)
{
  unsigned char x[4];
  uint32_t n = (uint32_t)b->len;
  if (b->oom)
    return -1;
  x[0] = n & 0xff; x[1] = (n >> 8) & 0xff; x[2] = (n >> 16) & 0xff; x[3] = (n >> 24) & 0xff;
  return aw_write_all(fd, x, 4) < 0 || aw_write_all(fd, b->data, b->len) < 0 ? -1 : 0;
}

static inline int aw_recv(int fd, aw_buf *b)
{
  unsigned char x[4];
  uint32_t n;
  aw_free(b);
  if (aw_read_all(fd, x, 4) < 0)
    return -1;
  n = (uint32_t)x[0] | (uint32_t)x[1] << 8 | (uint32_t)x[2] << 16 | (uint32_t)x[3] << 24;
  if (n > AW_MAX_MESSAGE)
    return -1;
  b->data = malloc(n ? n : 1);
  if (!b->data)
    return -1;
  b->cap = b->len = n;
  return aw_read_all(fd, b->data, n);
}

#endif
