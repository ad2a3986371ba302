#!/usr/bin/env python3
"""cblas_library.py -- which file the blas backend should dlopen.

The build finds CBLAS (OpenBLAS, or a reference CBLAS) but does not link
it: blas.c loads it on the first blas context. This prints the file the
linker would have used, as two lines: the path under the library's own
folder by its soname (what a link would have found through the run path
meson adds), then the bare soname (what the dynamic loader finds on its
own). It exits 1, printing nothing, when the file or its soname cannot be
found; meson then falls back to a well-known soname.

  cblas_library.py NAME LIBDIR COMPILER...

NAME is the library's name as in -lNAME; LIBDIR the folder from its
pkg-config file (may be empty: the compiler is then asked, with
-print-file-name, where it would find libNAME.so).
"""
import os
import struct
import subprocess
import sys

SHT_DYNAMIC = 6
DT_NULL = 0
DT_SONAME = 14


def soname(path):
    """The DT_SONAME of an ELF shared object, or None."""
    with open(path, 'rb') as f:
        data = f.read()
    if data[:4] != b'\x7fELF':
        return None  # a linker script, for instance
    wide = data[4] == 2
    order = '<' if data[5] == 1 else '>'
    if wide:
        shoff, = struct.unpack_from(order + 'Q', data, 0x28)
        shentsize, shnum = struct.unpack_from(order + 'HH', data, 0x3a)
        section = order + 'IIQQQQIIQQ'
        entry = order + 'qQ'
    else:
        shoff, = struct.unpack_from(order + 'I', data, 0x20)
        shentsize, shnum = struct.unpack_from(order + 'HH', data, 0x2e)
        section = order + 'IIIIIIIIII'
        entry = order + 'iI'
    sections = [struct.unpack_from(section, data, shoff + i * shentsize) for i in range(shnum)]
    for s in sections:
        if s[1] != SHT_DYNAMIC:
            continue
        strtab_offset = sections[s[6]][4]
        offset, size = s[4], s[5]
        step = struct.calcsize(entry)
        for at in range(offset, offset + size, step):
            tag, value = struct.unpack_from(entry, data, at)
            if tag == DT_NULL:
                break
            if tag == DT_SONAME:
                end = data.index(b'\0', strtab_offset + value)
                return data[strtab_offset + value:end].decode()
    return None


def main():
    name, libdir, compiler = sys.argv[1], sys.argv[2], sys.argv[3:]
    file = 'lib' + name + '.so'
    if libdir:
        path = os.path.join(libdir, file)
    else:
        path = subprocess.run(compiler + ['-print-file-name=' + file], capture_output=True,
                              text=True, check=False).stdout.strip()
    if not os.path.isabs(path) or not os.path.exists(path):
        return 1
    path = os.path.normpath(path)
    try:
        name = soname(os.path.realpath(path))
    except (OSError, struct.error, ValueError, IndexError):
        return 1
    if not name:
        return 1
    exact = os.path.join(os.path.dirname(path), name)
    print(exact if os.path.exists(exact) else os.path.realpath(path))
    print(name)
    return 0


if __name__ == '__main__':
    sys.exit(main())
