#!/usr/bin/python3
"""PyKMIP interop checks of kmipd's asymmetric operations (run with /usr/bin/python3, python3-pykmip).

Same conventions as pykmip_client.py (pykmip_common: one JSON line per check, exit 1 when one
failed): PyKMIP's ProxyKmipClient over mutual TLS creates an RSA-2048 key pair, activates it, gets
the public key, signs with RSA PKCS#1 v1.5 / SHA-256 and verifies the signature (valid, then
tampered). The signature, the data and the public key's DER are printed so that the test verifies
the signature independently of both PyKMIP and kmipd.
"""
import sys

from kmip.core import enums
from kmip.pie import objects

from pykmip_common import CheckFailed, Checks, enum_name, expect_equal, unique_name

check = Checks()

SIGN_PARAMETERS = {
    "cryptographic_algorithm": enums.CryptographicAlgorithm.RSA,
    "hashing_algorithm": enums.HashingAlgorithm.SHA_256,
    "padding_method": enums.PaddingMethod.PKCS1v15,
}


def create_rsa_pair(client, prefix):
    public_uid, private_uid = client.create_key_pair(
        enums.CryptographicAlgorithm.RSA,
        2048,
        public_name=unique_name(prefix + "-public"),
        public_usage_mask=[enums.CryptographicUsageMask.VERIFY],
        private_name=unique_name(prefix + "-private"),
        private_usage_mask=[enums.CryptographicUsageMask.SIGN],
    )
    if not public_uid or not private_uid or public_uid == private_uid:
        raise CheckFailed("Create Key Pair returned {0!r} / {1!r}".format(public_uid, private_uid))
    return public_uid, private_uid


@check("create_key_pair")
def create_key_pair(client):
    """Create Key Pair RSA-2048 (KMIP 1.2 §4.2), then Get both keys (PyKMIP 0.10 cannot read Link values)."""
    public_uid, private_uid = create_rsa_pair(client, "pair")
    public_key = client.get(public_uid)
    if not isinstance(public_key, objects.PublicKey):
        raise CheckFailed("Get of the public key returned {0}".format(type(public_key).__name__))
    expect_equal("public key algorithm", public_key.cryptographic_algorithm, enums.CryptographicAlgorithm.RSA)
    expect_equal("public key length", public_key.cryptographic_length, 2048)
    private_key = client.get(private_uid)
    if not isinstance(private_key, objects.PrivateKey):
        raise CheckFailed("Get of the private key returned {0}".format(type(private_key).__name__))
    return {
        "public_uid": public_uid,
        "private_uid": private_uid,
        "public_format": enum_name(public_key.key_format_type, enums.KeyFormatType),
        "public_der": public_key.value.hex(),
        "private_format": enum_name(private_key.key_format_type, enums.KeyFormatType),
        "private_der": private_key.value.hex(),
    }


@check("sign_verify")
def sign_verify(client):
    """Sign (KMIP 1.2 §4.31) with RSA PKCS#1 v1.5 SHA-256 and Signature Verify (§4.32) it."""
    public_uid, private_uid = create_rsa_pair(client, "sign")
    client.activate(public_uid)
    client.activate(private_uid)
    data = b"kmipd interop: signed by PyKMIP through kmipd"
    signature = client.sign(data, uid=private_uid, cryptographic_parameters=SIGN_PARAMETERS)
    if not isinstance(signature, bytes) or len(signature) != 256:
        raise CheckFailed("Sign returned {0!r}".format(signature))
    valid = client.signature_verify(data, signature, uid=public_uid, cryptographic_parameters=SIGN_PARAMETERS)
    expect_equal("validity of the signature", enum_name(valid, enums.ValidityIndicator), "VALID")
    tampered = bytes([signature[0] ^ 1]) + signature[1:]
    invalid = client.signature_verify(data, tampered, uid=public_uid, cryptographic_parameters=SIGN_PARAMETERS)
    expect_equal("validity of a tampered signature", enum_name(invalid, enums.ValidityIndicator), "INVALID")
    public_key = client.get(public_uid)
    return {
        "data": data.hex(),
        "signature": signature.hex(),
        "public_format": enum_name(public_key.key_format_type, enums.KeyFormatType),
        "public_der": public_key.value.hex(),
    }


if __name__ == "__main__":
    sys.exit(check.main(sys.argv[1:], __doc__, kmip_version="1.2"))
