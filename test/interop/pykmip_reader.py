#!/usr/bin/python3
"""PyKMIP interop for K7 roles (Debian /usr/bin/python3 with python3-pykmip).

With a Writer/Admin certificate it creates an AES key; with a Reader certificate it then
checks that get_attributes works and that get is refused with Permission Denied. Prints one
JSON line per check: {"check": ..., "ok": true|false, "detail"|"error": ...}. Exit 0 when all pass.
"""
import argparse
import json
import sys

from kmip.core import enums
from kmip.pie.client import ProxyKmipClient
from kmip.pie.exceptions import KmipOperationFailure


def client(args, cert, key):
    return ProxyKmipClient(hostname=args.host, port=args.port, cert=cert, key=key, ca=args.ca,
                           ssl_version="PROTOCOL_TLSv1_2", config_file="/dev/null")


def emit(name, ok, **extra):
    print(json.dumps(dict(check=name, ok=ok, **extra)), flush=True)
    return ok


def main():
    p = argparse.ArgumentParser()
    for a in ("--host", "--ca", "--writer-cert", "--writer-key", "--reader-cert", "--reader-key"):
        p.add_argument(a, required=True)
    p.add_argument("--port", type=int, required=True)
    args = p.parse_args()
    ok = True
    with client(args, args.writer_cert, args.writer_key) as w:
        uid = w.create(enums.CryptographicAlgorithm.AES, 256)
    with client(args, args.reader_cert, args.reader_key) as r:
        try:
            got_uid, attrs = r.get_attributes(uid, ["Cryptographic Algorithm", "Cryptographic Length"])
            names = sorted(a.attribute_name.value for a in attrs)
            ok &= emit("reader_get_attributes", got_uid == uid and "Cryptographic Algorithm" in names, detail=names)
        except Exception as e:  # noqa: BLE001 - every failure is a failed check
            ok &= emit("reader_get_attributes", False, error=repr(e))
        try:
            r.get(uid)
            ok &= emit("reader_get_denied", False, error="get succeeded for a Reader")
        except KmipOperationFailure as e:
            ok &= emit("reader_get_denied", e.reason == enums.ResultReason.PERMISSION_DENIED, detail=str(e.reason))
        except Exception as e:  # noqa: BLE001
            ok &= emit("reader_get_denied", False, error=repr(e))
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
