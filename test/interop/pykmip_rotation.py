#!/usr/bin/python3
"""A KMIP 1.2 appliance (PyKMIP's ProxyKmipClient) living through automatic key rotation (kmipd K8).

PyKMIP knows nothing of rotation: it only creates a named key, then keeps looking it up by Name,
as appliances that resolve a key by name before each use do. Two commands, one JSON line each:

    create --name N                      creates and activates an AES-256 key named N: {"uid": ...}
    watch --name N --rotations K         polls Locate by Name until K rotations were seen, then Gets
                                         every key seen by its (pinned) identifier: {"seen": [...], ...}

Exit status 0 on success, 1 when the server did not behave (the JSON line then has "error").
Helpers (client setup, attribute reading) are shared with pykmip_client.py.
"""
import argparse
import json
import sys
import time

from kmip.core import enums
from kmip.pie.client import ProxyKmipClient

from pykmip_client import CheckFailed, attribute_values, create_aes_256, get_symmetric_key, locate_by_name


def create(client, args):
    uid = create_aes_256(client, args.name)
    client.activate(uid)
    return {"uid": uid}


def watch(client, args):
    seen = []
    deadline = time.monotonic() + args.timeout
    while len(seen) < args.rotations + 1:
        if time.monotonic() > deadline:
            raise CheckFailed("saw {0} keys under the name within {1}s: {2}".format(len(seen), args.timeout, seen))
        found = locate_by_name(client, args.name)
        # The Name moves to the replacement: exactly one key carries it at any moment.
        if len(found) != 1:
            raise CheckFailed("Locate by Name returned {0}".format(found))
        if not seen or seen[-1] != found[0]:
            if found[0] in seen:
                raise CheckFailed("the Name went back to an older key: {0} after {1}".format(found[0], seen))
            seen.append(found[0])
        time.sleep(0.1)
    # Pinned identifiers: every key seen still answers Get, with its own material.
    materials = []
    states = {}
    for uid in seen:
        key = get_symmetric_key(client, uid)
        if len(key.value) != 32:
            raise CheckFailed("key {0} has {1} bytes".format(uid, len(key.value)))
        materials.append(bytes(key.value))
        states[uid] = attribute_values(client, uid, ["State"]).get("State", [None])[0]
    return {"seen": seen, "states": states, "distinct_material": len(set(materials)) == len(materials)}


def main(argv):
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("command", choices=["create", "watch"])
    parser.add_argument("--host", required=True)
    parser.add_argument("--port", required=True, type=int)
    parser.add_argument("--ca", required=True)
    parser.add_argument("--cert", required=True)
    parser.add_argument("--key", required=True)
    parser.add_argument("--name", required=True)
    parser.add_argument("--rotations", type=int, default=2)
    parser.add_argument("--timeout", type=float, default=30.0)
    args = parser.parse_args(argv)
    client = ProxyKmipClient(
        hostname=args.host,
        port=args.port,
        cert=args.cert,
        key=args.key,
        ca=args.ca,
        ssl_version="PROTOCOL_TLSv1_2",
        kmip_version=enums.KMIPVersion.KMIP_1_2,
        config_file="/dev/null",
    )
    client.open()
    try:
        result = create(client, args) if args.command == "create" else watch(client, args)
        print(json.dumps({"ok": True, "detail": result}), flush=True)
        return 0
    except Exception as e:
        print(json.dumps({"ok": False, "error": "{0}: {1}".format(type(e).__name__, e)}), flush=True)
        return 1
    finally:
        client.close()


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
