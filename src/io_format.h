/* Model file format v1: layout constants, little-endian byte helpers and
 * the functions shared by the save and load files. The byte layout is
 * documented field by field in docs/FORMAT.md; change both together. */
#ifndef MLP_IO_FORMAT_H
#define MLP_IO_FORMAT_H

#include "internal.h"

#include <stdint.h>
#include <string.h>

#define MLP__FMT_MAGIC "\x89MLP\r\n\x1a\n" /* PNG-style: catches text-mode mangling */
#define MLP__FMT_MAGIC_LEN 8u
#define MLP__FMT_VERSION 1u
#define MLP__FMT_HEADER_LEN 32u  /* magic, version, header_len, flags, reserved, file_size */
#define MLP__FMT_FIXED_LEN 80u   /* the fixed part of the body after the header */
#define MLP__FMT_TRAILER_LEN 4u  /* CRC-32 */
#define MLP__FMT_FLAG_SCALING 1u /* input offset and scale present */
#define MLP__FMT_FLAGS_KNOWN MLP__FMT_FLAG_SCALING
#define MLP__FMT_NO_OPTIMIZER 0xffffffffu
/* The smallest valid file: one layer 1 -> 1 (two parameters), no extras. */
#define MLP__FMT_MIN_FILE \
    (MLP__FMT_HEADER_LEN + MLP__FMT_FIXED_LEN + 2u * 8u + 8u + 2u * 4u + MLP__FMT_TRAILER_LEN)

/* ---- little-endian fields, byte by byte: no host byte order leaks ---- */

static inline void mlp__put_u32(unsigned char *p, uint32_t v)
{
    p[0] = (unsigned char)(v & 0xffu);
    p[1] = (unsigned char)((v >> 8) & 0xffu);
    p[2] = (unsigned char)((v >> 16) & 0xffu);
    p[3] = (unsigned char)((v >> 24) & 0xffu);
}

static inline void mlp__put_u64(unsigned char *p, uint64_t v)
{
    mlp__put_u32(p, (uint32_t)(v & 0xffffffffu));
    mlp__put_u32(p + 4, (uint32_t)(v >> 32));
}

static inline uint32_t mlp__get_u32(const unsigned char *p)
{
    return (uint32_t)p[0] | ((uint32_t)p[1] << 8) | ((uint32_t)p[2] << 16) |
           ((uint32_t)p[3] << 24);
}

static inline uint64_t mlp__get_u64(const unsigned char *p)
{
    return (uint64_t)mlp__get_u32(p) | ((uint64_t)mlp__get_u32(p + 4) << 32);
}

/* IEEE-754 binary32 travels as its bit pattern. */
static inline uint32_t mlp__f32_bits(float f)
{
    uint32_t u;
    memcpy(&u, &f, sizeof u);
    return u;
}

static inline float mlp__bits_f32(uint32_t u)
{
    float f;
    memcpy(&f, &u, sizeof f);
    return f;
}

/* Checked 64-bit arithmetic: 0 on overflow. */
static inline int mlp__add64(uint64_t a, uint64_t b, uint64_t *out)
{
    if (a > UINT64_MAX - b) return 0;
    *out = a + b;
    return 1;
}

static inline int mlp__mul64(uint64_t a, uint64_t b, uint64_t *out)
{
    if (b != 0 && a > UINT64_MAX / b) return 0;
    *out = a * b;
    return 1;
}

/* ---- crc32.c ---- */

/* CRC-32 (zlib's): mlp__crc32(0, p, n) starts; feed the result back to continue. */
MLP__HIDDEN uint32_t mlp__crc32(uint32_t crc, const void *data, size_t n);

/* ---- io_write.c ---- */

/* Bytes the network's file takes; MLP_ERR_TOO_LARGE if beyond size_t. */
MLP__HIDDEN mlp_status mlp__model_size(const mlp_network *net, size_t *size);
/* A byte sink: returns 0 when all n bytes were taken. */
typedef int (*mlp__sink)(void *ctx, const unsigned char *p, size_t n);
/* Streams the file image to sink (nothing is allocated). MLP_ERR_NONFINITE
 * (before any byte is written) for a NaN or infinite float; MLP_ERR_IO when
 * the sink fails. */
MLP__HIDDEN mlp_status mlp__model_write(const mlp_network *net, mlp__sink sink, void *ctx);

/* ---- io_read.c ---- */

/* Checks the first n bytes of a file (n may be below the header's length)
 * in the documented order: magic, version, header fields. On MLP_OK
 * *file_size holds the declared size of the whole file. */
MLP__HIDDEN mlp_status mlp__model_check_header(const unsigned char *p, size_t n,
                                               uint64_t *file_size);

#endif /* MLP_IO_FORMAT_H */
