#!/usr/bin/env python3
"""ptyrun: run a command on a pseudo-terminal and drive it as a person at a
keyboard would, for the tests of the interactive consoles (xl console,
virsh console, hvctl --console).  A small expect:

    ptyrun.py TRANSCRIPT COMMAND [ARG...]  <SCRIPT

SCRIPT has one step per line:

    expect TEXT     wait until TEXT appears in the output (after the last
                    match); fail after --timeout seconds (default 120)
    send TEXT       type TEXT; \\r, \\n, \\t, \\xHH and \\\\ are escapes
                    (Enter on a terminal is \\r; ^] is \\x1d)
    eof             wait for the command to end

Everything the command wrote goes to TRANSCRIPT.  The exit status is the
command's, 124 when an expect timed out (it says which on stderr) or 125
for a bad script.
"""
import os
import pty
import select
import sys
import time


def unescape(text):
    return text.encode("latin-1").decode("unicode_escape").encode("latin-1")


def main():
    args = sys.argv[1:]
    timeout = 120.0
    if len(args) >= 2 and args[0] == "--timeout":
        timeout = float(args[1])
        args = args[2:]
    if len(args) < 2:
        sys.stderr.write("usage: ptyrun.py [--timeout S] TRANSCRIPT COMMAND [ARG...] <SCRIPT\n")
        return 125
    transcript, command = args[0], args[1:]
    steps = [line.rstrip("\n") for line in sys.stdin if line.strip()]
    pid, fd = pty.fork()
    if pid == 0:
        os.execvp(command[0], command)
    out = bytearray()
    seen = 0
    log = open(transcript, "wb")

    def pump(wait):
        """Read what the command wrote within `wait` seconds; False at its end."""
        ready, _, _ = select.select([fd], [], [], wait)
        if not ready:
            return True
        try:
            data = os.read(fd, 4096)
        except OSError:
            data = b""
        if not data:
            return False
        out.extend(data)
        log.write(data)
        log.flush()
        return True

    def pump_until_end(alive):
        """Pump until the command ends or `timeout` seconds pass; killed
        then.  True when it ran on until it was killed."""
        deadline = time.monotonic() + timeout
        while alive and time.monotonic() < deadline:
            alive = pump(0.5)
        if alive:
            sys.stderr.write("ptyrun: the command did not end\n")
            os.kill(pid, 9)
        return alive

    alive = True
    for step in steps:
        verb, _, text = step.partition(" ")
        if verb == "expect":
            want = unescape(text)
            deadline = time.monotonic() + timeout
            while out.find(want, seen) < 0:
                left = deadline - time.monotonic()
                if left <= 0 or not alive:
                    sys.stderr.write("ptyrun: expected %r, not seen%s\n"
                                     % (text, "" if alive else " (the command ended)"))
                    if alive:
                        os.kill(pid, 9)
                    os.waitpid(pid, 0)
                    return 124
                alive = pump(min(left, 0.5))
            seen = out.find(want, seen) + len(want)
        elif verb == "send":
            os.write(fd, unescape(text))
        elif verb == "eof":
            if pump_until_end(alive):
                os.waitpid(pid, 0)
                return 124
            alive = False
        else:
            sys.stderr.write("ptyrun: unknown step %r\n" % step)
            return 125
    # Whatever it still writes until it ends (killed after the time limit).
    pump_until_end(alive)
    _, status = os.waitpid(pid, 0)
    return os.waitstatus_to_exitcode(status)


if __name__ == "__main__":
    sys.exit(main())
