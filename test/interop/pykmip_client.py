#!/usr/bin/python3
"""PyKMIP interop checks against a KMIP server (run with Debian's /usr/bin/python3 and python3-pykmip).

The client is PyKMIP's ProxyKmipClient (kmip.pie.client), speaking KMIP 1.2 unless --kmip-version
says otherwise; connection, output (one JSON line per check) and exit status are pykmip_common's.
Every check creates the objects it works on (with names unique to the run), so checks run alone too.
"""
import sys
import uuid

from kmip.core import enums
from kmip.pie import objects

from pykmip_common import (
    CheckFailed, Checks, attribute_values, create_aes_256, enum_name, expect_equal, expect_failure,
    get_symmetric_key, locate_by_name, require_success, state_of, unique_name,
)

check = Checks()


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


# --- object checks -----------------------------------------------------------------------------

@check("create_get")
def create_get(client):
    """Create an AES-256 key with a name (KMIP 1.2 §4.1), then Get it (§4.11): 32 bytes of AES."""
    uid = create_aes_256(client, unique_name("create"))
    key = get_symmetric_key(client, uid)
    expect_equal("key length in bytes", len(key.value), 32)
    expect_equal("Cryptographic Algorithm of the key", key.cryptographic_algorithm, enums.CryptographicAlgorithm.AES)
    expect_equal("Cryptographic Length of the key", key.cryptographic_length, 256)
    if key.value == b"\x00" * 32:
        raise CheckFailed("the created key is all zeros")
    return {"uid": uid, "key_bytes": len(key.value)}


@check("get_attributes")
def get_attributes(client):
    """Get Attributes by name (KMIP 1.2 §4.12) of a fresh named AES-256 key."""
    name = unique_name("attributes")
    uid = create_aes_256(client, name)
    wanted = ["Cryptographic Algorithm", "Cryptographic Length", "State", "Name", "Object Type", "Unique Identifier"]
    values = attribute_values(client, uid, wanted)
    expect_equal("Cryptographic Algorithm", values.get("Cryptographic Algorithm"), ["AES"])
    expect_equal("Cryptographic Length", values.get("Cryptographic Length"), [256])
    expect_equal("State", values.get("State"), ["PRE_ACTIVE"])
    expect_equal("Name", values.get("Name"), [name])
    expect_equal("Object Type", values.get("Object Type"), ["SYMMETRIC_KEY"])
    expect_equal("Unique Identifier", values.get("Unique Identifier"), [uid])
    return {"uid": uid, "attributes": values}


@check("get_attribute_list")
def get_attribute_list(client):
    """Get Attribute List (KMIP 1.2 §4.13) of a fresh named AES-256 key names its attributes."""
    uid = create_aes_256(client, unique_name("attribute-list"))
    names = client.get_attribute_list(uid)
    required = ["Cryptographic Algorithm", "Cryptographic Length", "Name", "Object Type", "State", "Unique Identifier"]
    missing = [n for n in required if n not in names]
    if missing:
        raise CheckFailed("Get Attribute List lacks {0}: {1}".format(missing, names))
    return {"uid": uid, "names": names}


@check("register_symmetric_key")
def register_symmetric_key(client):
    """Register a symmetric key with known bytes (KMIP 1.2 §4.3); Get returns exactly those bytes."""
    value = bytes(range(0x10, 0x30))
    key = objects.SymmetricKey(
        enums.CryptographicAlgorithm.AES, 256, value,
        masks=[enums.CryptographicUsageMask.ENCRYPT, enums.CryptographicUsageMask.DECRYPT],
        name=unique_name("registered-key"),
    )
    uid = client.register(key)
    got = get_symmetric_key(client, uid)
    expect_equal("registered key bytes", got.value, value)
    expect_equal("Cryptographic Algorithm", got.cryptographic_algorithm, enums.CryptographicAlgorithm.AES)
    expect_equal("Cryptographic Length", got.cryptographic_length, 256)
    return {"uid": uid}


@check("register_secret_data")
def register_secret_data(client):
    """Register Secret Data of type Password (KMIP 1.2 §4.3, §2.2.7); Get returns the same bytes."""
    value = b"correct horse battery staple"
    secret = objects.SecretData(value, enums.SecretDataType.PASSWORD, name=unique_name("secret"))
    uid = client.register(secret)
    got = client.get(uid)
    if not isinstance(got, objects.SecretData):
        raise CheckFailed("Get returned {0}, expected SecretData".format(type(got).__name__))
    expect_equal("secret data bytes", got.value, value)
    expect_equal("Secret Data Type", got.data_type, enums.SecretDataType.PASSWORD)
    return {"uid": uid}


@check("locate_by_name")
def locate_by_name_check(client):
    """Locate by Name (KMIP 1.2 §4.9) finds exactly the key created with that name."""
    name = unique_name("locate")
    uid = create_aes_256(client, name)
    create_aes_256(client, unique_name("locate-other"))  # another key, which must not match
    found = locate_by_name(client, name)
    expect_equal("Locate by Name", found, [uid])
    return {"uid": uid, "located": found}


def lifecycle(client, label, reason, revoked_state):
    uid = create_aes_256(client, unique_name(label))
    states = [state_of(client, uid)]
    client.activate(uid)
    states.append(state_of(client, uid))
    client.revoke(reason, uid=uid, revocation_message="kmipd interop " + label)
    states.append(state_of(client, uid))
    expect_equal("states after Create, Activate, Revoke", states, ["PRE_ACTIVE", "ACTIVE", revoked_state])
    client.destroy(uid)
    failure = expect_failure("Get after Destroy", lambda: client.get(uid))
    return {"uid": uid, "states": states, "get_after_destroy": failure}


@check("lifecycle_deactivate")
def lifecycle_deactivate(client):
    """Activate (§4.19) → Active; Revoke, Cessation of Operation (§4.20) → Deactivated; Destroy
    (§4.21) → Get fails."""
    return lifecycle(client, "cessation", enums.RevocationReasonCode.CESSATION_OF_OPERATION, "DEACTIVATED")


@check("lifecycle_compromise")
def lifecycle_compromise(client):
    """Activate → Active; Revoke, Key Compromise (§4.20) → Compromised; Destroy → Get fails."""
    return lifecycle(client, "compromise", enums.RevocationReasonCode.KEY_COMPROMISE, "COMPROMISED")


@check("rekey")
def rekey(client):
    """Rekey (KMIP 1.2 §4.4) of an active named key: a new key with a new unique identifier, and
    the Name moves to it (Locate by the name finds only the replacement)."""
    name = unique_name("rekey")
    old_uid = create_aes_256(client, name)
    client.activate(old_uid)
    old_key = get_symmetric_key(client, old_uid)
    new_uid = client.rekey(uid=old_uid)
    if not isinstance(new_uid, str) or not new_uid or new_uid == old_uid:
        raise CheckFailed("Rekey returned {0!r} for {1!r}, expected a new unique identifier".format(new_uid, old_uid))
    new_key = get_symmetric_key(client, new_uid)
    expect_equal("replacement key length in bytes", len(new_key.value), 32)
    expect_equal("replacement Cryptographic Algorithm", new_key.cryptographic_algorithm, enums.CryptographicAlgorithm.AES)
    if new_key.value == old_key.value:
        raise CheckFailed("the replacement key has the same bytes as the replaced key")
    expect_equal("Name of the replacement key", attribute_values(client, new_uid, ["Name"]).get("Name"), [name])
    expect_equal("Name of the replaced key", attribute_values(client, old_uid, ["Name"]).get("Name"), None)
    located = locate_by_name(client, name)
    expect_equal("Locate by Name after Rekey", located, [new_uid])
    return {"old_uid": old_uid, "new_uid": new_uid, "located": located}


# --- error checks ------------------------------------------------------------------------------

@check("error_get_missing")
def error_get_missing(client):
    """Get of a unique identifier the server never issued fails with Item Not Found."""
    missing = "kmipd-interop-missing-{0}".format(uuid.uuid4())
    failure = expect_failure("Get of a non-existent object", lambda: client.get(missing))
    expect_equal("result reason of Get of a non-existent object", failure["reason"], "ITEM_NOT_FOUND")
    return failure


@check("error_destroy_active")
def error_destroy_active(client):
    """Destroy of an Active key fails (KMIP 1.2 §4.21: only once it is no longer Active), and the
    key survives it."""
    uid = create_aes_256(client, unique_name("destroy-active"))
    client.activate(uid)
    failure = expect_failure("Destroy of an Active key", lambda: client.destroy(uid))
    expect_equal("State after the refused Destroy", state_of(client, uid), "ACTIVE")
    expect_equal("key length after the refused Destroy", len(get_symmetric_key(client, uid).value), 32)
    return dict(failure, uid=uid)


@check("error_activate_twice")
def error_activate_twice(client):
    """Activate of an already Active key fails (KMIP 1.2 §4.19: only Pre-Active objects)."""
    uid = create_aes_256(client, unique_name("activate-twice"))
    client.activate(uid)
    failure = expect_failure("second Activate", lambda: client.activate(uid))
    expect_equal("State after the refused Activate", state_of(client, uid), "ACTIVE")
    return dict(failure, uid=uid)


if __name__ == "__main__":
    sys.exit(check.main(sys.argv[1:], __doc__, kmip_version="1.2"))
