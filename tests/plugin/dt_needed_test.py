"""What the broker loads links nothing but the C and C++ runtime
(architecture.md, Revision 2): libmicrohttpd, GnuTLS, simdjson, RE2, zlib or
libcrypt in tkmprom.so would run their initialisers inside mosquitto. Nor
does the supervisor's small image, tkmprom-supervisor: it lives as long as the
broker and needs none of them.

Reads the DT_NEEDED entries of the built module (argv[1]), tkmprom-companion
(argv[2]) and tkmprom-supervisor (argv[3]) with readelf."""

import re
import subprocess
import sys

ALLOWED = {"libc.so.6", "libm.so.6", "libstdc++.so.6", "libgcc_s.so.1",
           "ld-linux-x86-64.so.2", "ld-linux-aarch64.so.1"}


def needed(path):
    out = subprocess.run(["readelf", "--dynamic", "--wide", path], check=True,
                         capture_output=True, text=True).stdout
    return re.findall(r"\(NEEDED\)\s+Shared library: \[([^\]]+)\]", out)


def main():
    plugin = sys.argv[1]
    libs = needed(plugin)
    if not libs:
        print("FAIL: no DT_NEEDED entry read from %s (readelf output changed?)" % plugin)
        return 1
    extra = [lib for lib in libs if lib not in ALLOWED]
    print("DT_NEEDED of %s: %s" % (plugin, ", ".join(libs)))
    if extra:
        print("FAIL: the broker-side module links %s" % ", ".join(extra))
        return 1
    # The companion is where everything else went: make sure it is the one
    # that carries them, so this test keeps meaning something.
    companion = needed(sys.argv[2])
    for lib in ("libmicrohttpd", "libsimdjson", "libre2"):
        if not any(n.startswith(lib) for n in companion):
            print("FAIL: tkmprom-companion does not link %s: %s" % (lib, ", ".join(companion)))
            return 1
    supervisor = needed(sys.argv[3])
    print("DT_NEEDED of %s: %s" % (sys.argv[3], ", ".join(supervisor)))
    if not supervisor:
        print("FAIL: no DT_NEEDED entry read from %s" % sys.argv[3])
        return 1
    extra = [lib for lib in supervisor if lib not in ALLOWED]
    if extra:
        print("FAIL: tkmprom-supervisor links %s" % ", ".join(extra))
        return 1
    print("ok")
    return 0


if __name__ == "__main__":
    sys.exit(main())
