"""What the PyKMIP interop scripts share (Debian /usr/bin/python3 with python3-pykmip).

Every script here connects the same way: PyKMIP's ProxyKmipClient (kmip.pie.client) over TLS 1.2
with a client certificate (PyKMIP servers require the clientAuth extended key usage; kmipd does
too), an empty config file so that no ~/.pykmip or /etc/pykmip settings leak in, and the KMIP
version of --kmip-version. Every script reports the same way, one JSON line per check:

    {"check": "query", "ok": true, "detail": {...}}
    {"check": "query", "ok": false, "error": "..."}

and exits 0 when every selected check passed, 1 when one failed, 2 for usage errors (argparse).

The scripts run as `/usr/bin/python3 test/interop/<script>.py`, so their own directory is first
on sys.path and `import pykmip_common` finds this module.
"""
import argparse
import json
import uuid

from kmip.core import enums
from kmip.pie import exceptions as pie_exceptions
from kmip.pie import objects
from kmip.pie.client import ProxyKmipClient

KMIP_VERSIONS = ["1.0", "1.1", "1.2", "1.3", "1.4", "2.0"]


class CheckFailed(Exception):
    """The server answered, but not what KMIP requires."""


# --- connecting and reporting ------------------------------------------------------------------

def connection_parser(doc, kmip_version):
    """An argument parser with the connection options every script takes; `doc`'s first line describes it."""
    parser = argparse.ArgumentParser(description=doc.strip().splitlines()[0])
    parser.add_argument("--host", required=True)
    parser.add_argument("--port", required=True, type=int)
    parser.add_argument("--ca", required=True, help="PEM CA certificate that signed the server certificate")
    parser.add_argument("--cert", required=True, help="PEM client certificate (with the clientAuth EKU)")
    parser.add_argument("--key", required=True, help="PEM client key")
    parser.add_argument("--kmip-version", default=kmip_version, choices=KMIP_VERSIONS)
    return parser


def client_for(args):
    """A ProxyKmipClient (not yet opened) for the parsed connection options."""
    return ProxyKmipClient(
        hostname=args.host,
        port=args.port,
        cert=args.cert,
        key=args.key,
        ca=args.ca,
        ssl_version="PROTOCOL_TLSv1_2",
        kmip_version=getattr(enums.KMIPVersion, "KMIP_" + args.kmip_version.replace(".", "_")),
        config_file="/dev/null",
    )


def report(name, ok, **fields):
    print(json.dumps(dict(check=name, ok=ok, **fields)), flush=True)


def run_connected(args, selected, run_one):
    """Opens a client, runs `run_one(name, client)` for each selected name and prints its line.

    Returns the exit status: 0 when every one returned, 1 when one raised or the connection failed.
    """
    client = client_for(args)
    try:
        client.open()
    except Exception as e:  # every selected check fails the same way
        for name in selected:
            report(name, False, error="cannot connect: {0}".format(e))
        return 1
    failures = 0
    try:
        for name in selected:
            try:
                detail = run_one(name, client)
            except Exception as e:
                failures += 1
                report(name, False, error="{0}: {1}".format(type(e).__name__, e))
            else:
                report(name, True, detail=detail)
    finally:
        client.close()
    return 1 if failures else 0


class Checks:
    """A script's named checks, run in the order they were declared (or those given with --check)."""

    def __init__(self):
        self.functions = {}

    def __call__(self, name):
        """Decorator: `@CHECKS("query")` declares a check taking the open client, returning its detail."""
        def register(fn):
            self.functions[name] = fn
            return fn
        return register

    def main(self, argv, doc, kmip_version="1.2"):
        parser = connection_parser(doc, kmip_version)
        parser.add_argument("--check", action="append", choices=sorted(self.functions), help="run only these checks (repeatable)")
        args = parser.parse_args(argv)
        return run_connected(args, args.check or list(self.functions), lambda name, client: self.functions[name](client))


# --- reading answers ---------------------------------------------------------------------------

def enum_name(value, enum_class=None):
    """Name of a PyKMIP enumeration value, of a primitive wrapping one, or of a raw number."""
    value = getattr(value, "value", value)
    if isinstance(value, int) and enum_class is not None:
        try:
            value = enum_class(value)
        except ValueError:
            return "0x{0:08x}".format(value)
    return getattr(value, "name", str(value))


def require(condition, message):
    if not condition:
        raise CheckFailed(message)


def require_success(result):
    status = getattr(result, "result_status", None)
    status = getattr(status, "value", status)
    if status != enums.ResultStatus.SUCCESS:
        reason = enum_name(getattr(result, "result_reason", None), enums.ResultReason)
        message = getattr(getattr(result, "result_message", None), "value", None)
        raise CheckFailed("result status {0} ({1}: {2})".format(enum_name(status, enums.ResultStatus), reason, message))


def expect_equal(what, actual, expected):
    if actual != expected:
        raise CheckFailed("{0}: expected {1!r}, got {2!r}".format(what, expected, actual))


def expect_failure(what, operation):
    """Runs `operation`, which must fail with KmipOperationFailure; returns status/reason/message."""
    try:
        operation()
    except pie_exceptions.KmipOperationFailure as e:
        status = enum_name(e.status, enums.ResultStatus)
        if status != "OPERATION_FAILED":
            raise CheckFailed("{0}: failure with result status {1}, expected OPERATION_FAILED".format(what, status))
        return {"status": status, "reason": enum_name(e.reason, enums.ResultReason), "message": e.message}
    raise CheckFailed("{0} succeeded, but must fail".format(what))


# --- objects -----------------------------------------------------------------------------------

def unique_name(prefix):
    return "kmipd-interop-{0}-{1}".format(prefix, uuid.uuid4())


def attribute_values(client, uid, names):
    """Get Attributes for `names`: {attribute name: [plain values]} (enums as their names)."""
    returned_uid, attrs = client.get_attributes(uid=uid, attribute_names=list(names))
    expect_equal("Get Attributes unique identifier", returned_uid, uid)
    values = {}
    for attr in attrs:
        name = attr.attribute_name.value
        value = attr.attribute_value
        if name == "Name":
            value = value.name_value.value
        else:
            value = getattr(value, "value", value)
            value = getattr(value, "name", value)
        values.setdefault(name, []).append(value)
    return values


def state_of(client, uid):
    values = attribute_values(client, uid, ["State"]).get("State", [])
    if len(values) != 1:
        raise CheckFailed("expected exactly one State attribute, got {0!r}".format(values))
    return values[0]


def locate_by_name(client, name):
    attr = client.attribute_factory.create_attribute(enums.AttributeType.NAME, name)
    return list(client.locate(attributes=[attr]))


def create_aes_256(client, name):
    uid = client.create(enums.CryptographicAlgorithm.AES, 256, name=name)
    if not isinstance(uid, str) or not uid:
        raise CheckFailed("Create returned no unique identifier: {0!r}".format(uid))
    return uid


def get_symmetric_key(client, uid):
    key = client.get(uid)
    if not isinstance(key, objects.SymmetricKey):
        raise CheckFailed("Get returned {0}, expected a SymmetricKey".format(type(key).__name__))
    return key
