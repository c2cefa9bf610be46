"""Symbols of a live process from /proc/PID/maps and the ELF .dynsym of what it mapped.

Part of the ptrace injector (see ptrace_inject.md). Reads files only: nothing here touches the
target. Files are opened through /proc/PID/root, so a process in another mount namespace (another
container of the pod) resolves against its own files; the inode in maps must match the opened file.

Python 3.9+, standard library only.
"""

import os
import re
import struct

ET_EXEC = 2
ET_DYN = 3
EM_X86_64 = 62
PT_LOAD = 1
SHT_DYNSYM = 11
STT_OBJECT = 1
STT_FUNC = 2
STT_GNU_IFUNC = 10

_MAPS_RE = re.compile(r'^([0-9a-f]+)-([0-9a-f]+) (\S{4}) ([0-9a-f]+) ([0-9a-f]+):([0-9a-f]+) (\d+)\s*(.*)$')
_PY_NAME_RE = re.compile(r'(?:^|/)(?:lib)?python(\d)\.(\d+)(t?)(?:[-.]|$)')


class ElfError(Exception):
    pass


class Mapping(object):
    __slots__ = ('start', 'end', 'perms', 'offset', 'dev', 'inode', 'path')

    def __init__(self, start, end, perms, offset, dev, inode, path):
        self.start, self.end, self.perms, self.offset = start, end, perms, offset
        self.dev, self.inode, self.path = dev, inode, path


def parse_maps(text):
    maps = []
    for line in text.splitlines():
        m = _MAPS_RE.match(line)
        if m:
            maps.append(Mapping(int(m.group(1), 16), int(m.group(2), 16), m.group(3), int(m.group(4), 16),
                                (int(m.group(5), 16), int(m.group(6), 16)), int(m.group(7)), m.group(8)))
    return maps


def read_maps(pid):
    with open('/proc/%d/maps' % pid) as f:
        return parse_maps(f.read())


class ElfFile(object):
    """The parts of an ELF file needed to find exported symbols."""

    def __init__(self, f):
        head = f.read(64)
        if len(head) < 64 or head[:4] != b'\x7fELF':
            raise ElfError('not an ELF file')
        if head[4] != 2 or head[5] != 1:
            raise ElfError('not a 64-bit little-endian ELF file')
        (self.type, self.machine, _, _, phoff, shoff, _, _, phentsize, phnum, shentsize, shnum,
         _) = struct.unpack_from('<HHIQQQIHHHHHH', head, 16)
        self._f = f
        self.first_load_vaddr = None
        for i in range(phnum):
            f.seek(phoff + i * phentsize)
            p_type, _, p_offset, p_vaddr = struct.unpack('<IIQQ', f.read(24))
            if p_type == PT_LOAD and self.first_load_vaddr is None:
                self.first_load_vaddr = p_vaddr - p_offset
        self._sections = []
        for i in range(shnum):
            f.seek(shoff + i * shentsize)
            data = f.read(64)
            if len(data) < 64:
                break
            _, sh_type, _, _, sh_offset, sh_size, sh_link, _, _, sh_entsize = struct.unpack('<IIQQQQIIQQ', data)
            self._sections.append((sh_type, sh_offset, sh_size, sh_link, sh_entsize))

    def dynamic_symbols(self, wanted):
        """{name: (value, type)} for the defined names of `wanted` found in .dynsym."""
        found = {}
        for sh_type, offset, size, link, entsize in self._sections:
            if sh_type != SHT_DYNSYM or link >= len(self._sections):
                continue
            _, str_offset, str_size, _, _ = self._sections[link]
            self._f.seek(str_offset)
            strtab = self._f.read(str_size)
            self._f.seek(offset)
            table = self._f.read(size)
            entsize = entsize or 24
            encoded = dict((name.encode(), name) for name in wanted)
            for pos in range(0, len(table) - 23, entsize):
                st_name, st_info, _, st_shndx, st_value, _ = struct.unpack_from('<IBBHQQ', table, pos)
                if st_shndx == 0 or st_value == 0:
                    continue
                end = strtab.find(b'\0', st_name)
                name = encoded.get(strtab[st_name:end])
                if name is not None and name not in found:
                    found[name] = (st_value, st_info & 0xf)
        return found


def open_mapped_file(pid, mapping):
    """The file behind a mapping, or None if it is gone or was replaced.

    maps shows paths relative to the reader's root when it can reach them (a chroot), else relative
    to the target's mount namespace (another container): try through the target's root, then as
    shown, then map_files (needs CAP_CHECKPOINT_RESTORE); accept only the mapped device and inode.
    """
    path = mapping.path
    if not path.startswith('/') or path.endswith(' (deleted)'):
        return None
    for candidate in ('/proc/%d/root%s' % (pid, path), path,
                      '/proc/%d/map_files/%x-%x' % (pid, mapping.start, mapping.end)):
        try:
            f = open(candidate, 'rb')
        except OSError:
            continue
        st = os.fstat(f.fileno())
        if st.st_ino == mapping.inode and (os.major(st.st_dev), os.minor(st.st_dev)) == mapping.dev:
            return f
        f.close()
    return None


class LoadedObject(object):
    """One ELF object mapped by the target: its path, load bias and ELF header facts."""

    def __init__(self, pid, mapping, maps):
        self.path = mapping.path
        self.mapping = mapping
        self._pid = pid
        f = open_mapped_file(pid, mapping)
        if f is None:
            raise ElfError('cannot open %s through /proc/%d/root' % (mapping.path, pid))
        self._file = f
        try:
            self.elf = ElfFile(f)
        except (ElfError, struct.error):
            f.close()
            raise
        if self.elf.type == ET_DYN:
            self.bias = mapping.start - (self.elf.first_load_vaddr or 0)
        else:
            self.bias = 0
        self.exec_ranges = [(m.start, m.end) for m in maps
                            if m.path == mapping.path and m.inode == mapping.inode and 'x' in m.perms]

    def symbols(self, wanted):
        return dict((name, (value + self.bias, kind))
                    for name, (value, kind) in self.elf.dynamic_symbols(wanted).items())

    def close(self):
        self._file.close()


def loaded_objects(pid, maps):
    """Every file-backed ELF object mapped from offset 0, main executable first."""
    objects, seen = [], set()
    try:
        exe = os.readlink('/proc/%d/exe' % pid)
    except OSError:
        exe = None
    candidates = [m for m in maps if m.offset == 0 and m.inode != 0 and m.path.startswith('/')]
    candidates.sort(key=lambda m: 0 if m.path == exe else 1)
    for mapping in candidates:
        key = (mapping.path, mapping.inode)
        if key in seen:
            continue
        seen.add(key)
        try:
            objects.append(LoadedObject(pid, mapping, maps))
        except (ElfError, OSError, struct.error):
            continue
    return objects


def is_libc(path):
    name = os.path.basename(path)
    return name.startswith('libc.so') or name.startswith('libc-') or name.startswith('ld-musl-')


def python_version_from_paths(paths):
    """(major, minor, free_threaded) from a libpython or python executable name, or None."""
    for path in paths:
        m = _PY_NAME_RE.search(os.path.basename(path))
        if m:
            return int(m.group(1)), int(m.group(2)), bool(m.group(3))
    return None


def resolve(objects, python_names, libc_names, data_names=()):
    """{name: address} and the objects that provide Python and libc.

    Python names come from the first object (executable first) that exports all of them, libc
    names from the C library. Indirect functions (IFUNC) are refused: their address is a resolver.
    """
    result, py_obj, libc_obj = {}, None, None
    for obj in objects:
        syms = obj.symbols(tuple(python_names) + tuple(data_names))
        if all(name in syms for name in python_names):
            py_obj = obj
            for name, (address, kind) in syms.items():
                if name in python_names and kind == STT_GNU_IFUNC:
                    raise ElfError('%s is an indirect function in %s' % (name, obj.path))
                result[name] = address
            break
    for obj in objects:
        if is_libc(obj.path):
            syms = obj.symbols(libc_names)
            if all(name in syms for name in libc_names):
                if any(kind == STT_GNU_IFUNC for _, kind in syms.values()):
                    raise ElfError('an indirect libc function in %s' % obj.path)
                libc_obj = obj
                result.update((name, address) for name, (address, _) in syms.items())
                break
    if libc_obj is None:  # a static build carries its own C library
        for obj in objects:
            syms = obj.symbols(libc_names)
            if all(name in syms for name in libc_names) and \
                    not any(kind == STT_GNU_IFUNC for _, kind in syms.values()):
                libc_obj = obj
                result.update((name, address) for name, (address, _) in syms.items())
                break
    return result, py_obj, libc_obj
