#!/usr/bin/python3
"""PyKMIP interop checks against a KMIP server (run with Debian's /usr/bin/python3 and python3-pykmip).

The client is PyKMIP's ProxyKmipClient (kmip.pie.client), speaking KMIP 1.2 unless --kmip-version
says otherwise, over TLS with a client certificate (PyKMIP servers require the clientAuth extended
key usage; kmipd does too). Each check is one named function; each prints exactly one JSON line:

    {"check": "query", "ok": true, "detail": {...}}
    {"check": "query", "ok": false, "error": "..."}

Exit status 0 when every selected check passed, 1 when one failed, 2 for usage errors. Later
operations (create, get, ...) are added as further @check functions.
"""
import argparse
import json
import sys

from kmip.core import enums
from kmip.pie.client import ProxyKmipClient

CHECKS = {}


class CheckFailed(Exception):
    """The server answered, but not what KMIP requires."""


def check(name):
    def register(fn):
        CHECKS[name] = fn
        return fn
    return register


def enum_name(value, enum_class=None):
    """Name of a PyKMIP enumeration value, of a primitive wrapping one, or of a raw number."""
    value = getattr(value, "value", value)
    if isinstance(value, int) and enum_class is not None:
        try:
            value = enum_class(value)
        except ValueError:
            return "0x{0:08x}".format(value)
    return getattr(value, "name", str(value))


def require_success(result):
    status = getattr(result, "result_status", None)
    status = getattr(status, "value", status)
    if status != enums.ResultStatus.SUCCESS:
        reason = enum_name(getattr(result, "result_reason", None), enums.ResultReason)
        message = getattr(getattr(result, "result_message", None), "value", None)
        raise CheckFailed("result status {0} ({1}: {2})".format(enum_name(status, enums.ResultStatus), reason, message))


@check("discover_versions")
def discover_versions(client):
    """Discover Versions with an empty list: the server lists what it speaks (KMIP 1.2 §4.26)."""
    result = client.proxy.discover_versions()
    require_success(result)
    versions = ["{0}.{1}".format(v.major, v.minor) for v in (result.protocol_versions or [])]
    if "1.2" not in versions:
        raise CheckFailed("KMIP 1.2 is not among the versions offered: {0}".format(versions))
    return {"versions": versions}


@check("query")
def query(client):
    """Query operations, object types and server information (KMIP 1.2 §4.25)."""
    result = client.proxy.query(query_functions=[
        enums.QueryFunction.QUERY_OPERATIONS,
        enums.QueryFunction.QUERY_OBJECTS,
        enums.QueryFunction.QUERY_SERVER_INFORMATION,
    ])
    require_success(result)
    operations = [enum_name(op, enums.Operation) for op in (result.operations or [])]
    object_types = [enum_name(t, enums.ObjectType) for t in (result.object_types or [])]
    vendor = getattr(result.vendor_identification, "value", result.vendor_identification)
    for required in ("QUERY", "DISCOVER_VERSIONS"):
        if required not in operations:
            raise CheckFailed("Query does not list {0}: {1}".format(required, operations))
    if not vendor:
        raise CheckFailed("no Vendor Identification although Query Server Information was asked")
    return {"operations": operations, "object_types": object_types, "vendor_identification": vendor}


def main(argv):
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--host", required=True)
    parser.add_argument("--port", required=True, type=int)
    parser.add_argument("--ca", required=True, help="PEM CA certificate of the server")
    parser.add_argument("--cert", required=True, help="PEM client certificate (clientAuth EKU)")
    parser.add_argument("--key", required=True, help="PEM client key")
    parser.add_argument("--kmip-version", default="1.2", choices=["1.0", "1.1", "1.2", "1.3", "1.4", "2.0"])
    parser.add_argument("--check", action="append", choices=sorted(CHECKS), help="run only these checks (repeatable)")
    args = parser.parse_args(argv)

    version = getattr(enums.KMIPVersion, "KMIP_" + args.kmip_version.replace(".", "_"))
    client = ProxyKmipClient(
        hostname=args.host,
        port=args.port,
        cert=args.cert,
        key=args.key,
        ca=args.ca,
        ssl_version="PROTOCOL_TLSv1_2",
        kmip_version=version,
        # An empty config file: no ~/.pykmip or /etc/pykmip settings leak into the checks.
        config_file="/dev/null",
    )
    selected = args.check or list(CHECKS)
    failures = 0
    try:
        client.open()
    except Exception as e:  # every selected check fails the same way
        for name in selected:
            print(json.dumps({"check": name, "ok": False, "error": "cannot connect: {0}".format(e)}), flush=True)
        return 1
    try:
        for name in selected:
            try:
                detail = CHECKS[name](client)
                print(json.dumps({"check": name, "ok": True, "detail": detail}), flush=True)
            except Exception as e:
                failures += 1
                print(json.dumps({"check": name, "ok": False, "error": "{0}: {1}".format(type(e).__name__, e)}), flush=True)
    finally:
        client.close()
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
