#!/usr/bin/env python3
"""Regenerates the example image assets with nothing but the standard library.

    python3 examples/assets/make_assets.py

writes, next to this script:

* logo.svg  - a small vector logo (a few shapes, no text)
* chart.png - a 600x300 bar chart (RGB PNG written with zlib + struct)
* photo.jpg - a 320x200 landscape-like gradient (baseline JPEG, encoded here)

The output is deterministic: running the script again gives identical files.
"""

import math
import os
import struct
import zlib

HERE = os.path.dirname(os.path.abspath(__file__))

# --------------------------------------------------------------------------- logo.svg

LOGO_SVG = """\
<svg xmlns="http://www.w3.org/2000/svg" width="120" height="120" viewBox="0 0 120 120">
  <!-- Rounded badge -->
  <rect x="4" y="4" width="112" height="112" rx="24" ry="24" fill="#1e3a8a"/>
  <!-- Open ring -->
  <circle cx="60" cy="60" r="32" fill="none" stroke="#ffffff" stroke-width="12"/>
  <!-- Amber quarter, like a page corner folded over the ring -->
  <path d="M60 28 A32 32 0 0 1 92 60 L60 60 Z" fill="#f59e0b"/>
  <!-- Centre dot -->
  <circle cx="60" cy="60" r="9" fill="#f59e0b"/>
  <!-- Three bars at the bottom right -->
  <rect x="84" y="88" width="6" height="14" rx="1.5" fill="#93c5fd"/>
  <rect x="94" y="80" width="6" height="22" rx="1.5" fill="#bfdbfe"/>
  <rect x="104" y="72" width="6" height="30" rx="1.5" fill="#eff6ff"/>
</svg>
"""


# --------------------------------------------------------------------------- PNG


def write_png(path, width, height, pixels):
    """pixels: bytearray of width*height*3 RGB bytes."""
    raw = bytearray()
    stride = width * 3
    for y in range(height):
        raw.append(0)  # filter: none
        raw += pixels[y * stride:(y + 1) * stride]

    def chunk(kind, data):
        c = struct.pack(">I", len(data)) + kind + data
        return c + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF)

    png = b"\x89PNG\r\n\x1a\n"
    png += chunk(b"IHDR", struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0))
    png += chunk(b"IDAT", zlib.compress(bytes(raw), 9))
    png += chunk(b"IEND", b"")
    with open(path, "wb") as f:
        f.write(png)


def hexrgb(s):
    s = s.lstrip("#")
    return tuple(int(s[i:i + 2], 16) for i in (0, 2, 4))


def make_chart(path):
    w, h = 600, 300
    px = bytearray(b"\xff" * (w * h * 3))

    def rect(x0, y0, x1, y1, color):
        r, g, b = color
        x0, x1 = max(0, x0), min(w, x1)
        y0, y1 = max(0, y0), min(h, y1)
        row = bytes((r, g, b)) * (x1 - x0)
        for y in range(y0, y1):
            i = (y * w + x0) * 3
            px[i:i + len(row)] = row

    left, right, top, bottom = 50, 580, 40, 260
    grid = hexrgb("#e5e7eb")
    axis = hexrgb("#374151")
    # Horizontal grid lines every 20% of the range, with tick marks on the axis.
    for k in range(6):
        y = bottom - k * (bottom - top) // 5
        rect(left, y, right, y + 1, grid)
        rect(left - 6, y, left, y + 1, axis)
    # Two series over six periods.
    series_a = [62, 71, 58, 84, 90, 77]
    series_b = [40, 52, 61, 66, 73, 88]
    col_a, col_b = hexrgb("#1e3a8a"), hexrgb("#f59e0b")
    shade_a, shade_b = hexrgb("#3b5bb5"), hexrgb("#fbbf24")
    groups = len(series_a)
    slot = (right - left) // groups
    bar = 28
    for i, (a, b) in enumerate(zip(series_a, series_b)):
        cx = left + i * slot + slot // 2
        for x0, value, col, shade in ((cx - bar - 2, a, col_a, shade_a), (cx + 2, b, col_b, shade_b)):
            y0 = bottom - value * (bottom - top) // 100
            rect(x0, y0, x0 + bar, bottom, col)
            rect(x0, y0, x0 + bar, y0 + 3, shade)  # a lighter cap
        rect(cx, bottom, cx + 1, bottom + 6, axis)  # x tick
    # Axes.
    rect(left - 1, top - 10, left + 1, bottom + 1, axis)
    rect(left - 1, bottom, right, bottom + 2, axis)
    # Legend: two swatches at the top right.
    rect(470, 12, 484, 26, col_a)
    rect(530, 12, 544, 26, col_b)
    write_png(path, w, h, px)


# --------------------------------------------------------------------------- JPEG
# A small baseline JPEG encoder: YCbCr 4:4:4, standard quantization tables scaled to a
# quality, and the standard Huffman tables of ITU T.81 Annex K.

ZIGZAG = []
for _s in range(15):
    _rows = range(max(0, _s - 7), min(_s, 7) + 1)
    for _r in (reversed(_rows) if _s % 2 == 0 else _rows):
        ZIGZAG.append(_r * 8 + (_s - _r))

LUMA_Q = [
    16, 11, 10, 16, 24, 40, 51, 61,
    12, 12, 14, 19, 26, 58, 60, 55,
    14, 13, 16, 24, 40, 57, 69, 56,
    14, 17, 22, 29, 51, 87, 80, 62,
    18, 22, 37, 56, 68, 109, 103, 77,
    24, 35, 55, 64, 81, 104, 113, 92,
    49, 64, 78, 87, 103, 121, 120, 101,
    72, 92, 95, 98, 112, 100, 103, 99,
]
CHROMA_Q = [
    17, 18, 24, 47, 99, 99, 99, 99,
    18, 21, 26, 66, 99, 99, 99, 99,
    24, 26, 56, 99, 99, 99, 99, 99,
    47, 66, 99, 99, 99, 99, 99, 99,
] + [99] * 32

DC_LUMA_BITS = [0, 1, 5, 1, 1, 1, 1, 1, 1, 0, 0, 0, 0, 0, 0, 0]
DC_CHROMA_BITS = [0, 3, 1, 1, 1, 1, 1, 1, 1, 1, 1, 0, 0, 0, 0, 0]
DC_VALUES = list(range(12))
AC_LUMA_BITS = [0, 2, 1, 3, 3, 2, 4, 3, 5, 5, 4, 4, 0, 0, 1, 0x7D]
AC_LUMA_VALUES = [
    0x01, 0x02, 0x03, 0x00, 0x04, 0x11, 0x05, 0x12, 0x21, 0x31, 0x41, 0x06, 0x13, 0x51, 0x61, 0x07,
    0x22, 0x71, 0x14, 0x32, 0x81, 0x91, 0xA1, 0x08, 0x23, 0x42, 0xB1, 0xC1, 0x15, 0x52, 0xD1, 0xF0,
    0x24, 0x33, 0x62, 0x72, 0x82, 0x09, 0x0A, 0x16, 0x17, 0x18, 0x19, 0x1A, 0x25, 0x26, 0x27, 0x28,
    0x29, 0x2A, 0x34, 0x35, 0x36, 0x37, 0x38, 0x39, 0x3A, 0x43, 0x44, 0x45, 0x46, 0x47, 0x48, 0x49,
    0x4A, 0x53, 0x54, 0x55, 0x56, 0x57, 0x58, 0x59, 0x5A, 0x63, 0x64, 0x65, 0x66, 0x67, 0x68, 0x69,
    0x6A, 0x73, 0x74, 0x75, 0x76, 0x77, 0x78, 0x79, 0x7A, 0x83, 0x84, 0x85, 0x86, 0x87, 0x88, 0x89,
    0x8A, 0x92, 0x93, 0x94, 0x95, 0x96, 0x97, 0x98, 0x99, 0x9A, 0xA2, 0xA3, 0xA4, 0xA5, 0xA6, 0xA7,
    0xA8, 0xA9, 0xAA, 0xB2, 0xB3, 0xB4, 0xB5, 0xB6, 0xB7, 0xB8, 0xB9, 0xBA, 0xC2, 0xC3, 0xC4, 0xC5,
    0xC6, 0xC7, 0xC8, 0xC9, 0xCA, 0xD2, 0xD3, 0xD4, 0xD5, 0xD6, 0xD7, 0xD8, 0xD9, 0xDA, 0xE1, 0xE2,
    0xE3, 0xE4, 0xE5, 0xE6, 0xE7, 0xE8, 0xE9, 0xEA, 0xF1, 0xF2, 0xF3, 0xF4, 0xF5, 0xF6, 0xF7, 0xF8,
    0xF9, 0xFA,
]
AC_CHROMA_BITS = [0, 2, 1, 2, 4, 4, 3, 4, 7, 5, 4, 4, 0, 1, 2, 0x77]
AC_CHROMA_VALUES = [
    0x00, 0x01, 0x02, 0x03, 0x11, 0x04, 0x05, 0x21, 0x31, 0x06, 0x12, 0x41, 0x51, 0x07, 0x61, 0x71,
    0x13, 0x22, 0x32, 0x81, 0x08, 0x14, 0x42, 0x91, 0xA1, 0xB1, 0xC1, 0x09, 0x23, 0x33, 0x52, 0xF0,
    0x15, 0x62, 0x72, 0xD1, 0x0A, 0x16, 0x24, 0x34, 0xE1, 0x25, 0xF1, 0x17, 0x18, 0x19, 0x1A, 0x26,
    0x27, 0x28, 0x29, 0x2A, 0x35, 0x36, 0x37, 0x38, 0x39, 0x3A, 0x43, 0x44, 0x45, 0x46, 0x47, 0x48,
    0x49, 0x4A, 0x53, 0x54, 0x55, 0x56, 0x57, 0x58, 0x59, 0x5A, 0x63, 0x64, 0x65, 0x66, 0x67, 0x68,
    0x69, 0x6A, 0x73, 0x74, 0x75, 0x76, 0x77, 0x78, 0x79, 0x7A, 0x82, 0x83, 0x84, 0x85, 0x86, 0x87,
    0x88, 0x89, 0x8A, 0x92, 0x93, 0x94, 0x95, 0x96, 0x97, 0x98, 0x99, 0x9A, 0xA2, 0xA3, 0xA4, 0xA5,
    0xA6, 0xA7, 0xA8, 0xA9, 0xAA, 0xB2, 0xB3, 0xB4, 0xB5, 0xB6, 0xB7, 0xB8, 0xB9, 0xBA, 0xC2, 0xC3,
    0xC4, 0xC5, 0xC6, 0xC7, 0xC8, 0xC9, 0xCA, 0xD2, 0xD3, 0xD4, 0xD5, 0xD6, 0xD7, 0xD8, 0xD9, 0xDA,
    0xE2, 0xE3, 0xE4, 0xE5, 0xE6, 0xE7, 0xE8, 0xE9, 0xEA, 0xF2, 0xF3, 0xF4, 0xF5, 0xF6, 0xF7, 0xF8,
    0xF9, 0xFA,
]

# Every AC symbol a baseline encoder can emit: EOB, ZRL, and (run, size) pairs.
_ALL_AC = {0x00, 0xF0} | {(r << 4) | s for r in range(16) for s in range(1, 11)}
assert sum(AC_LUMA_BITS) == len(AC_LUMA_VALUES) == 162 and set(AC_LUMA_VALUES) == _ALL_AC
assert sum(AC_CHROMA_BITS) == len(AC_CHROMA_VALUES) == 162 and set(AC_CHROMA_VALUES) == _ALL_AC


def huffman_codes(bits, values):
    """Canonical Huffman codes: symbol -> (code, length)."""
    codes, code, k = {}, 0, 0
    for length in range(1, 17):
        for _ in range(bits[length - 1]):
            codes[values[k]] = (code, length)
            code += 1
            k += 1
        code <<= 1
    return codes


def scaled_table(base, quality):
    scale = 5000 // quality if quality < 50 else 200 - 2 * quality
    return [min(255, max(1, (q * scale + 50) // 100)) for q in base]


class BitWriter:
    def __init__(self):
        self.out = bytearray()
        self.acc = 0
        self.n = 0

    def write(self, value, length):
        self.acc = (self.acc << length) | (value & ((1 << length) - 1))
        self.n += length
        while self.n >= 8:
            self.n -= 8
            byte = (self.acc >> self.n) & 0xFF
            self.out.append(byte)
            if byte == 0xFF:
                self.out.append(0x00)  # byte stuffing
        self.acc &= (1 << self.n) - 1

    def flush(self):
        if self.n:
            self.write((1 << (8 - self.n)) - 1, 8 - self.n)  # pad with ones


_COS = [[math.cos((2 * x + 1) * u * math.pi / 16) * (math.sqrt(0.5) if u == 0 else 1.0) / 2
         for x in range(8)] for u in range(8)]


def fdct(block):
    """8x8 forward DCT (orthonormal, as in T.81 A.3.3), block in row-major order."""
    tmp = [0.0] * 64
    for y in range(8):
        row = block[y * 8:y * 8 + 8]
        for u in range(8):
            c = _COS[u]
            tmp[y * 8 + u] = sum(row[x] * c[x] for x in range(8))
    out = [0.0] * 64
    for u in range(8):
        col = [tmp[y * 8 + u] for y in range(8)]
        for v in range(8):
            c = _COS[v]
            out[v * 8 + u] = sum(col[y] * c[y] for y in range(8))
    return out


def category(v):
    v = abs(v)
    n = 0
    while v:
        n += 1
        v >>= 1
    return n


def write_jpeg(path, width, height, rgb, quality=85):
    qt = [scaled_table(LUMA_Q, quality), scaled_table(CHROMA_Q, quality)]
    dc_codes = [huffman_codes(DC_LUMA_BITS, DC_VALUES), huffman_codes(DC_CHROMA_BITS, DC_VALUES)]
    ac_codes = [huffman_codes(AC_LUMA_BITS, AC_LUMA_VALUES), huffman_codes(AC_CHROMA_BITS, AC_CHROMA_VALUES)]

    # Colour conversion to level-shifted Y, Cb, Cr planes.
    planes = [[0.0] * (width * height) for _ in range(3)]
    for i in range(width * height):
        r, g, b = rgb[3 * i], rgb[3 * i + 1], rgb[3 * i + 2]
        planes[0][i] = 0.299 * r + 0.587 * g + 0.114 * b - 128
        planes[1][i] = -0.168736 * r - 0.331264 * g + 0.5 * b
        planes[2][i] = 0.5 * r - 0.418688 * g - 0.081312 * b

    bw = BitWriter()
    prev_dc = [0, 0, 0]
    for by in range(0, height, 8):
        for bx in range(0, width, 8):
            for comp in range(3):
                t = 0 if comp == 0 else 1
                plane = planes[comp]
                block = []
                for y in range(8):
                    yy = min(by + y, height - 1)
                    for x in range(8):
                        block.append(plane[yy * width + min(bx + x, width - 1)])
                coef = fdct(block)
                q = [int(round(coef[ZIGZAG[k]] / qt[t][ZIGZAG[k]])) for k in range(64)]
                # DC difference.
                diff = q[0] - prev_dc[comp]
                prev_dc[comp] = q[0]
                size = category(diff)
                bw.write(*dc_codes[t][size])
                if size:
                    bw.write(diff if diff >= 0 else diff - 1, size)
                # AC run-lengths.
                run = 0
                for k in range(1, 64):
                    v = q[k]
                    if v == 0:
                        run += 1
                        continue
                    while run > 15:
                        bw.write(*ac_codes[t][0xF0])
                        run -= 16
                    size = category(v)
                    bw.write(*ac_codes[t][(run << 4) | size])
                    bw.write(v if v >= 0 else v - 1, size)
                    run = 0
                if run:
                    bw.write(*ac_codes[t][0x00])
    bw.flush()

    def segment(marker, payload):
        return struct.pack(">BBH", 0xFF, marker, len(payload) + 2) + payload

    out = b"\xff\xd8"
    out += segment(0xE0, b"JFIF\x00\x01\x01\x00\x00\x01\x00\x01\x00\x00")
    for t in range(2):
        out += segment(0xDB, bytes([t]) + bytes(qt[t][ZIGZAG[k]] for k in range(64)))
    out += segment(0xC0, struct.pack(">BHHB", 8, height, width, 3)
                   + bytes([1, 0x11, 0, 2, 0x11, 1, 3, 0x11, 1]))
    for cls_id, bits, values in ((0x00, DC_LUMA_BITS, DC_VALUES), (0x10, AC_LUMA_BITS, AC_LUMA_VALUES),
                                 (0x01, DC_CHROMA_BITS, DC_VALUES), (0x11, AC_CHROMA_BITS, AC_CHROMA_VALUES)):
        out += segment(0xC4, bytes([cls_id]) + bytes(bits) + bytes(values))
    out += segment(0xDA, bytes([3, 1, 0x00, 2, 0x11, 3, 0x11, 0, 63, 0]))
    out += bytes(bw.out) + b"\xff\xd9"
    with open(path, "wb") as f:
        f.write(out)


def make_photo(path):
    """A calm 'landscape': sky gradient, a sun, two rolling hills and a lake."""
    w, h = 320, 200
    px = bytearray(w * h * 3)

    def mix(a, b, t):
        t = max(0.0, min(1.0, t))
        return tuple(a[i] + (b[i] - a[i]) * t for i in range(3))

    sky_top, sky_low = (38, 84, 160), (250, 196, 140)
    hill_far, hill_near = (86, 122, 110), (46, 94, 62)
    water_a, water_b = (60, 110, 160), (30, 60, 100)
    sun_c, sun_r = (232, 70), 22
    for y in range(h):
        for x in range(w):
            far = 120 - 18 * math.sin(x / 45.0) - 8 * math.sin(x / 17.0 + 1.0)
            near = 150 - 14 * math.sin(x / 60.0 + 2.0) - 5 * math.sin(x / 11.0)
            if y >= 170:
                # Lake with the sky's colour faintly reflected.
                c = mix(water_a, water_b, (y - 170) / 30.0)
                ripple = 6 * math.sin(y * 1.3 + x / 25.0)
                c = tuple(v + ripple for v in c)
            elif y >= near:
                c = mix(hill_near, (24, 60, 38), (y - near) / 40.0)
            elif y >= far:
                c = mix(hill_far, hill_near, (y - far) / 50.0)
            else:
                c = mix(sky_top, sky_low, y / 125.0)
                d = math.hypot(x - sun_c[0], y - sun_c[1])
                if d < sun_r:
                    c = (255, 236, 170)
                elif d < sun_r + 30:
                    c = mix((255, 225, 160), c, (d - sun_r) / 30.0)
            i = (y * w + x) * 3
            px[i:i + 3] = bytes(int(max(0, min(255, round(v)))) for v in c)
    write_jpeg(path, w, h, px, quality=85)


def main():
    with open(os.path.join(HERE, "logo.svg"), "w", encoding="utf-8") as f:
        f.write(LOGO_SVG)
    make_chart(os.path.join(HERE, "chart.png"))
    make_photo(os.path.join(HERE, "photo.jpg"))
    for name in ("logo.svg", "chart.png", "photo.jpg"):
        print(f"{name}: {os.path.getsize(os.path.join(HERE, name))} bytes")


if __name__ == "__main__":
    main()
