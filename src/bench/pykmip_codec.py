"""PyKMIP side of `npm run bench:codec` (KMIP 1.4 §9.1 TTLV, as implemented by PyKMIP).

Reads a corpus of binary TTLV messages (one hex line each) and finds the ones PyKMIP round-trips:
decoded by `RequestMessage`/`ResponseMessage.read` on a BytearrayStream with nothing left over, and
re-encoded by `.write` to the same bytes. It prints that finding as one JSON line, then serves
timing commands from stdin, one per line, so the caller can interleave PyKMIP's runs with its own
on a shared machine:

    decode SECONDS | encode SECONDS   the subset's messages in turn (a fixed shuffled order, resumed
                                      where the last run stopped) for at least SECONDS; answers one
                                      JSON line {phase, messages, bytes, seconds, cpuSeconds}
                                      (wall time from time.perf_counter, CPU time from time.process_time)
    quit (or end of input)            exits

Run with the Debian interpreter that has python3-pykmip:
    /usr/bin/python3 src/bench/pykmip_codec.py CORPUS.hex

The first line (camelCase, read by src/bench/pykmip.ts):
  format       "kmipd-bench-pykmip/2"
  pykmip, python   versions
  total        messages in the corpus
  parsed       messages read without an error and with no bytes left over
  exact        parsed messages whose re-encoding is byte-identical to the input
  subset       corpus line indices (0-based) of the exact messages: the set that is timed
  failures     [{reason, count}]: why the others were left out, most frequent first
"""
import json
import platform
import random
import sys
import time
from collections import Counter

import kmip
from kmip.core.messages import contents, messages
from kmip.core.utils import BytearrayStream

FORMAT = "kmipd-bench-pykmip/2"
REQUEST_MESSAGE = bytes.fromhex("420078")
RESPONSE_MESSAGE = bytes.fromhex("42007b")


def message_class(data):
    if data[:3] == REQUEST_MESSAGE:
        return messages.RequestMessage
    if data[:3] == RESPONSE_MESSAGE:
        return messages.ResponseMessage
    return None


def decode(cls, data):
    msg = cls()
    msg.read(BytearrayStream(data))
    return msg


def write_version(msg):
    """`.write` does not take the version from the header as `.read` does: pass it."""
    header = msg.request_header if isinstance(msg, messages.RequestMessage) else msg.response_header
    return contents.protocol_version_to_kmip_version(header.protocol_version)


def encode(msg, version):
    out = BytearrayStream()
    msg.write(out, kmip_version=version)
    return out.buffer


def short_reason(stage, err):
    text = str(err).splitlines()[0] if str(err) else ""
    if len(text) > 90:
        text = text[:87] + "..."
    return f"{stage}: {type(err).__name__}" + (f": {text}" if text else "")


def probe(corpus):
    """Index, class, bytes and encode version of every message PyKMIP round-trips exactly."""
    failures = Counter()
    parsed = 0
    usable = []
    for index, data in enumerate(corpus):
        cls = message_class(data)
        if cls is None:
            failures["not a RequestMessage or ResponseMessage"] += 1
            continue
        stream = BytearrayStream(data)
        msg = cls()
        try:
            msg.read(stream)
        except Exception as err:  # PyKMIP raises many types; each is a reason to report
            failures[short_reason("read", err)] += 1
            continue
        if stream.length() != 0:
            failures["read: bytes left over"] += 1
            continue
        parsed += 1
        version = write_version(msg)
        try:
            again = encode(msg, version)
        except Exception as err:
            failures[short_reason("write", err)] += 1
            continue
        if again != data:
            failures["write: re-encoding differs from the input"] += 1
            continue
        usable.append((index, cls, data, version))
    return parsed, usable, failures


class Phase:
    """One timed operation over the subset. The items are in a fixed shuffled order and a cursor
    carries over from run to run, so a run that covers part of a pass still sees the subset's mix
    of message sizes, and successive runs cover it evenly."""

    def __init__(self, name, op, work):
        self.name = name
        self.op = op
        self.work = work
        random.Random(20240506).shuffle(self.work)
        self.cursor = 0

    def timed(self, seconds):
        """Runs until `seconds` of wall time have elapsed, reading the clock every 8 messages so
        that a run ends on time even when one pass over the subset takes longer than the run."""
        op = self.op
        work = self.work
        end = len(work)
        i = self.cursor
        count = 0
        size = 0
        cpu_start = time.process_time()
        start = time.perf_counter()
        while True:
            item, length = work[i]
            op(item)
            count += 1
            size += length
            i += 1
            if i == end:
                i = 0
            if count & 7 == 0:
                elapsed = time.perf_counter() - start
                if elapsed >= seconds:
                    break
        cpu = time.process_time() - cpu_start
        self.cursor = i
        return {"phase": self.name, "messages": count, "bytes": size, "seconds": elapsed, "cpuSeconds": cpu}


def emit(obj):
    sys.stdout.write(json.dumps(obj) + "\n")
    sys.stdout.flush()


def main(argv):
    if len(argv) != 1:
        sys.stderr.write("usage: pykmip_codec.py CORPUS.hex  (then commands on stdin)\n")
        return 2
    with open(argv[0], "r", encoding="ascii") as f:
        corpus = [bytes.fromhex(line.strip()) for line in f if line.strip()]

    parsed, usable, failures = probe(corpus)
    emit({
        "format": FORMAT,
        "pykmip": getattr(kmip, "__version__", "unknown"),
        "python": platform.python_version(),
        "total": len(corpus),
        "parsed": parsed,
        "exact": len(usable),
        "subset": [u[0] for u in usable],
        "failures": [{"reason": r, "count": c} for r, c in failures.most_common()],
    })

    # (item, bytes) pairs; every message of the subset re-encodes to its own length.
    inputs = [((cls, data), len(data)) for _, cls, data, _ in usable]
    decoded = [((decode(cls, data), version), len(data)) for _, cls, data, version in usable]
    phases = {
        "decode": Phase("decode", lambda item: decode(item[0], item[1]), inputs),
        "encode": Phase("encode", lambda item: encode(item[0], item[1]), decoded),
    }
    for line in sys.stdin:
        words = line.split()
        if not words:
            continue
        if words[0] == "quit":
            break
        if len(words) != 2 or words[0] not in phases or not usable:
            emit({"error": f"bad command {line.strip()!r}" if usable else "empty subset"})
            continue
        try:
            seconds = float(words[1])
        except ValueError:
            emit({"error": f"bad seconds {words[1]!r}"})
            continue
        emit(phases[words[0]].timed(seconds))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
