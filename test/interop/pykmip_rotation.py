#!/usr/bin/python3
"""A KMIP 1.2 appliance (PyKMIP's ProxyKmipClient) living through automatic key rotation (kmipd K8).

PyKMIP knows nothing of rotation: it only creates a named key, then keeps looking it up by Name,
as appliances that resolve a key by name before each use do. Two commands, one JSON line each
(pykmip_common's, with the command as the check's name; "detail" holds what is shown here):

    create --name N                      creates and activates an AES-256 key named N: {"uid": ...}
    watch --name N --rotations K         polls Locate by Name until K rotations were seen, then Gets
                                         every key seen by its (pinned) identifier: {"seen": [...], ...}

Exit status 0 on success, 1 when the server did not behave (the JSON line then has "error").
Client setup, reporting and attribute reading are pykmip_common's.
"""
import sys
import time

from pykmip_common import (
    CheckFailed, attribute_values, connection_parser, create_aes_256, get_symmetric_key, locate_by_name,
    run_connected,
)


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


COMMANDS = {"create": create, "watch": watch}


def main(argv):
    parser = connection_parser(__doc__, kmip_version="1.2")
    parser.add_argument("command", choices=sorted(COMMANDS))
    parser.add_argument("--name", required=True)
    parser.add_argument("--rotations", type=int, default=2)
    parser.add_argument("--timeout", type=float, default=30.0)
    args = parser.parse_args(argv)
    return run_connected(args, [args.command], lambda name, client: COMMANDS[name](client, args))


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
