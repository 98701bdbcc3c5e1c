#!/usr/bin/env python3
"""Writes the hand-made seeds ("seed-*") of the CSV and IDX reader fuzzers
into tests/corpus_csv/ and tests/corpus_idx/, in the input layouts that
fuzz/fuzz_csv.c and fuzz/data_files.c (fz_idx_files) read: keep them in
step. Usage: python3 fuzz/data_seeds.py [TESTS_DIR]"""
import os
import struct
import sys

COLUMNS = [-2, -1, 0, 1, 2, 3, 1000000, -3]


def csv_seed(has_header, label, classes, text):
    b0 = next(b for b in range(256) if b % 3 == has_header + 1 and (b >> 2) & 1 == classes)
    return bytes([b0, COLUMNS.index(label)]) + text.encode()


CSV = {
    "header-class-last": csv_seed(1, -1, 1, "a,b,y\n1,2,0\n3,4,1\n5,6,2\n"),
    "detect-header": csv_seed(-1, -1, 1, "x1,x2,label\n0.5,1e-3,1\n-2,3.25,0\n"),
    "detect-none": csv_seed(-1, 0, 1, "1,0.5,2\n0,1.5,3\n"),
    "values-first": csv_seed(0, 0, 0, "1.5,2,3\n-0.25,4,5e2\n"),
    "no-target": csv_seed(0, -2, 0, "1,2,3\n4,5,6\n"),
    "crlf-blank": csv_seed(1, 1, 1, "a,b\r\n1,0\r\n\r\n2,1\r\n"),
    "ragged": csv_seed(0, -1, 1, "1,2,0\n3,1\n"),
    "nan-inf": csv_seed(0, -1, 0, "nan,1,2\ninf,-inf,3\n"),
    "overflow": csv_seed(0, -1, 0, "1e39,2\n-1e400,3\n"),
    "negative-class": csv_seed(0, -1, 1, "1,2,-1\n"),
    "fractional-class": csv_seed(0, -1, 1, "1,2,0.5\n"),
    "huge-class": csv_seed(0, -1, 1, "1,2,99999999999\n"),
    "column-out": csv_seed(0, 3, 1, "1,2,0\n"),
    "column-far": csv_seed(1, 1000000, 0, "a,b\n1,2\n"),
    "only-header": csv_seed(1, -1, 1, "a,b,c\n"),
    "empty": csv_seed(0, -1, 0, ""),
    "spaces-quotes": csv_seed(-1, -1, 1, ' 1 , 2 ,0\n"3",4,1\n'),
    "comma-decimal": csv_seed(0, -1, 0, "1,5;2\n"),
    "trailing-comma": csv_seed(0, -1, 1, "1,2,0,\n3,4,1,\n"),
    "no-newline": csv_seed(0, -3, 0, "1,2"),
    "nul-byte": csv_seed(0, -1, 0, "1,\x002,3\n"),
}


def idx_header(type_, dims):
    return bytes([0, 0, type_, len(dims)]) + b"".join(struct.pack(">I", d) for d in dims)


def raw_pair(images, labels, flags=0):
    """Raw layout: flags, then a split byte k with k * (len - 1) // 255 == len(images)."""
    body = images + labels
    m = len(body)
    k = next(k for k in range(256) if k * m // 255 == len(images))
    return bytes([flags, k]) + body


def structured(flags, count, r, c, type_=8, delta=1, trunc=0, payload=b"\x01\x02\x03\x05\x08"):
    return bytes([flags | 8, count, r - 1, c - 1, type_, delta, trunc]) + payload


IMG = idx_header(8, [3, 2, 2]) + bytes(range(12))
LAB = idx_header(8, [3]) + bytes([0, 1, 2])
IDX = {
    "raw-pair": raw_pair(IMG, LAB),
    "raw-pair-gz": raw_pair(IMG, LAB, 3),
    "raw-images-only": raw_pair(IMG, b"", 4),
    "raw-count-mismatch": raw_pair(IMG, idx_header(8, [2]) + bytes([0, 1])),
    "raw-truncated": raw_pair(IMG[:-3], LAB),
    "raw-trailing": raw_pair(IMG + b"\x00", LAB),
    "raw-four-dims": raw_pair(idx_header(8, [1, 1, 1, 1]) + b"\x00", LAB),
    "raw-zero-dim": raw_pair(idx_header(8, [0, 2, 2]), LAB),
    "raw-float-type": raw_pair(idx_header(0x0D, [1, 1, 1]) + b"\x00\x00\x80\x3f", LAB),
    "raw-bad-magic": raw_pair(b"\x01\x00\x08\x03" + IMG[4:], LAB),
    "raw-huge-count": raw_pair(idx_header(8, [0x7FFFFFFF, 28, 28]) + bytes(8), LAB),
    "raw-overflow-dims": raw_pair(idx_header(8, [0xFFFFFFFF, 0xFFFFFFFF, 0xFFFFFFFF]), b""),
    "empty": b"",
    "struct-3d": structured(0, 3, 2, 2),
    "struct-3d-gz": structured(3, 4, 3, 3),
    "struct-2d": structured(16, 2, 5, 1),
    "struct-no-labels": structured(4 | 1, 2, 2, 2),
    "struct-fewer-labels": structured(64, 3, 2, 2, delta=0),
    "struct-more-labels": structured(64 | 2, 3, 2, 2, delta=2),
    "struct-truncated": structured(128 | 1, 5, 4, 4, trunc=17),
    "struct-stray-byte": structured(0, 2, 2, 2, trunc=255),
    "struct-type": structured(32, 2, 2, 2, type_=0x0B),
    "bomb": bytes([0xF8, 0x00, 0x10, 0x00]),
    "bomb-gz-small": bytes([0xFF, 0x00, 0x00, 0x00]),
}


def main():
    tests = sys.argv[1] if len(sys.argv) > 1 else os.path.join(
        os.path.dirname(os.path.abspath(__file__)), "..", "tests")
    for folder, seeds in (("corpus_csv", CSV), ("corpus_idx", IDX)):
        os.makedirs(os.path.join(tests, folder), exist_ok=True)
        for name, body in seeds.items():
            with open(os.path.join(tests, folder, "seed-" + name), "wb") as f:
                f.write(body)


if __name__ == "__main__":
    main()
