"""Reads the memcheck XML files of one run (scripts/ci-valgrind-python.sh) and
fails (exit 1) on any memcheck error of any kind in any traced process, and on
any definitely or indirectly lost block allocated from libmlp (a stack frame
in libmlp.so). Programs of this build (a path under BUILD_DIR) are held to
every lost byte, as in scripts/ci-valgrind.sh. Leaks that only CPython, numpy
or other dependencies allocated are counted and listed, not failed: an
interpreter deliberately keeps memory alive at exit.
Usage: check_xml.py BUILD_DIR FILE.xml...
"""

import os
import sys
import xml.etree.ElementTree as ET

LEAKS = ("Leak_DefinitelyLost", "Leak_IndirectlyLost")


def frames(err):
    stack = err.find("stack")
    return [] if stack is None else stack.findall("frame")


def is_libmlp(frame):
    obj = frame.findtext("obj") or ""
    return os.path.basename(obj).startswith("libmlp.so")


def describe(err):
    what = err.findtext("what") or err.findtext("xwhat/text") or ""
    lines = ["  %s: %s" % (err.findtext("kind"), what)]
    for f in frames(err)[:24]:
        where = f.findtext("fn") or "???"
        if f.findtext("file"):
            where += " (%s:%s)" % (f.findtext("file"), f.findtext("line"))
        else:
            where += " (in %s)" % (f.findtext("obj") or "?")
        lines.append("    at " + where)
    aux = err.findtext("auxwhat")
    if aux:
        lines.append("  " + aux)
    return "\n".join(lines)


def main(build, paths):
    build = os.path.realpath(build)
    bad, processes, foreign = 0, 0, [0, 0]
    if not paths:
        print("check_xml: no valgrind XML file", file=sys.stderr)
        return 1
    for path in paths:
        try:
            root = ET.parse(path).getroot()
        except ET.ParseError as e:  # a process killed mid-write, or two writers
            print("check_xml: %s: unreadable (%s)" % (path, e), file=sys.stderr)
            bad += 1
            continue
        processes += 1
        exe = root.findtext("args/argv/exe") or "?"
        args = [a.text or "" for a in root.findall("args/argv/arg")]
        ours = os.path.realpath(exe).startswith(build + os.sep)
        if root.findtext("status[last()]/state") != "FINISHED":
            print("check_xml: %s (%s): valgrind did not finish" % (path, exe), file=sys.stderr)
            bad += 1
        for err in root.findall("error"):
            kind = err.findtext("kind") or ""
            if kind in LEAKS and not ours and not any(is_libmlp(f) for f in frames(err)):
                foreign[0] += 1
                foreign[1] += int(err.findtext("xwhat/leakedbytes") or 0)
                continue
            bad += 1
            print("%s: %s %s\n%s" % (os.path.basename(path), exe, " ".join(args[:3]), describe(err)))
        for pair in root.findall("suppcounts/pair"):
            print("suppressed %sx %s (%s)" % (pair.findtext("count"), pair.findtext("name"),
                                                os.path.basename(path)))
    print("check_xml: %d processes, %d errors; %d leak records (%d bytes) not from libmlp, not ours"
          % (processes, bad, foreign[0], foreign[1]))
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1], sys.argv[2:]))
