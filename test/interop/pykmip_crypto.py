#!/usr/bin/python3
"""PyKMIP symmetric-crypto interop checks against a KMIP server (Debian /usr/bin/python3, python3-pykmip).

Same conventions as pykmip_client.py (pykmip_common): each check prints one JSON line
{"check": ..., "ok": true|false, "detail"|"error": ...}; exit status 0 when all selected checks
pass. Every answer the server computes is verified here independently of it, with Python's
`hmac` and the `cryptography` package (ciphers and RFC 5649 key unwrap), on key bytes the check
registered itself or read back with Get.

The client speaks KMIP 1.4 by default: AES-GCM's Additional Data and tag exist from 1.4 on
(PyKMIP's ProxyKmipClient.encrypt drops them, so the GCM check builds its request from PyKMIP's own
payload classes and sends it through the same connection).
"""
import hashlib
import hmac
import os
import sys
import uuid

from cryptography.hazmat.primitives import keywrap, padding
from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from kmip.core import enums
from kmip.core.attributes import CryptographicParameters
from kmip.core.factories.attributes import AttributeFactory
from kmip.core.messages import messages, payloads
from kmip.core.messages.contents import Operation
from kmip.core.objects import TemplateAttribute
from kmip.pie import objects

from pykmip_common import CheckFailed, Checks, require

check = Checks()
RUN = uuid.uuid4().hex[:8]


def register_active(client, algorithm, key, masks, name):
    """Registers `key` (bytes) and activates it; returns its Unique Identifier."""
    obj = objects.SymmetricKey(algorithm, len(key) * 8, key, masks=masks, name="{0}-{1}".format(name, RUN))
    uid = client.register(obj)
    client.activate(uid)
    return uid


def create_active(client, algorithm, length, masks, parameters=None):
    """Creates a key through the low-level proxy, so Cryptographic Parameters can be set; activates it."""
    factory = AttributeFactory()
    attrs = [
        factory.create_attribute(enums.AttributeType.CRYPTOGRAPHIC_ALGORITHM, algorithm),
        factory.create_attribute(enums.AttributeType.CRYPTOGRAPHIC_LENGTH, length),
        factory.create_attribute(enums.AttributeType.CRYPTOGRAPHIC_USAGE_MASK, masks),
    ]
    if parameters is not None:
        attrs.append(factory.create_attribute(enums.AttributeType.CRYPTOGRAPHIC_PARAMETERS, parameters))
    result = client.proxy.create(enums.ObjectType.SYMMETRIC_KEY, TemplateAttribute(attributes=attrs))
    status = getattr(result.result_status, "value", result.result_status)
    require(status == enums.ResultStatus.SUCCESS, "Create failed: {0}".format(getattr(result.result_message, "value", None)))
    uid = result.uuid if isinstance(result.uuid, str) else result.uuid.value
    client.activate(uid)
    return uid


def send_payload(client, operation, payload):
    """One batch item through the client's open connection; returns the response batch item."""
    item = messages.RequestBatchItem(operation=Operation(operation), request_payload=payload)
    request = client.proxy._build_request_message(None, [item])
    response = client.proxy._send_and_receive_message(request)
    item = response.batch_items[0]
    status = getattr(item.result_status, "value", item.result_status)
    if status != enums.ResultStatus.SUCCESS:
        raise CheckFailed("{0} failed: {1}".format(operation.name, getattr(item.result_message, "value", item.result_message)))
    return item.response_payload


@check("encrypt_decrypt_aes_cbc")
def encrypt_decrypt_aes_cbc(client):
    """AES-256-CBC with PKCS5 padding: the server picks the IV; the ciphertext is checked with `cryptography`."""
    key = os.urandom(32)
    uid = register_active(client, enums.CryptographicAlgorithm.AES, key,
                          [enums.CryptographicUsageMask.ENCRYPT, enums.CryptographicUsageMask.DECRYPT], "cbc")
    params = {
        "block_cipher_mode": enums.BlockCipherMode.CBC,
        "padding_method": enums.PaddingMethod.PKCS5,
        "cryptographic_algorithm": enums.CryptographicAlgorithm.AES,
    }
    plain = b"envelope encryption needs a key server: 45 B."
    ciphertext, iv = client.encrypt(plain, uid=uid, cryptographic_parameters=params)
    require(iv is not None and len(iv) == 16, "the server returned no 16-byte IV")
    padder = padding.PKCS7(128).padder()
    encryptor = Cipher(algorithms.AES(key), modes.CBC(iv)).encryptor()
    expected = encryptor.update(padder.update(plain) + padder.finalize()) + encryptor.finalize()
    require(ciphertext == expected, "the ciphertext differs from AES-CBC computed locally")
    back = client.decrypt(ciphertext, uid=uid, cryptographic_parameters=params, iv_counter_nonce=iv)
    require(back == plain, "Decrypt did not return the plaintext")
    return {"ciphertext_bytes": len(ciphertext), "iv_bytes": len(iv)}


@check("encrypt_decrypt_aes_gcm")
def encrypt_decrypt_aes_gcm(client):
    """AES-128-GCM with Additional Data: ciphertext and tag checked with `cryptography`; a wrong tag fails."""
    key = os.urandom(16)
    uid = register_active(client, enums.CryptographicAlgorithm.AES, key,
                          [enums.CryptographicUsageMask.ENCRYPT, enums.CryptographicUsageMask.DECRYPT], "gcm")
    params = CryptographicParameters(block_cipher_mode=enums.BlockCipherMode.GCM, tag_length=16)
    iv = os.urandom(12)
    aad = b"header: record 17"
    plain = b"a data key would go here, or any record"
    enc = send_payload(client, enums.Operation.ENCRYPT, payloads.EncryptRequestPayload(
        unique_identifier=uid, cryptographic_parameters=params, data=plain, iv_counter_nonce=iv, auth_additional_data=aad))
    expected = AESGCM(key).encrypt(iv, plain, aad)  # ciphertext || 16-byte tag
    require(enc.data == expected[:-16], "the GCM ciphertext differs from the local computation")
    require(enc.auth_tag == expected[-16:], "the GCM tag differs from the local computation")
    dec = send_payload(client, enums.Operation.DECRYPT, payloads.DecryptRequestPayload(
        unique_identifier=uid, cryptographic_parameters=params, data=enc.data, iv_counter_nonce=iv,
        auth_additional_data=aad, auth_tag=enc.auth_tag))
    require(dec.data == plain, "Decrypt did not return the plaintext")
    bad = bytes([enc.auth_tag[0] ^ 1]) + enc.auth_tag[1:]
    try:
        send_payload(client, enums.Operation.DECRYPT, payloads.DecryptRequestPayload(
            unique_identifier=uid, cryptographic_parameters=params, data=enc.data, iv_counter_nonce=iv,
            auth_additional_data=aad, auth_tag=bad))
    except CheckFailed:
        pass
    else:
        raise CheckFailed("a wrong GCM tag was accepted")
    return {"tag_bytes": len(enc.auth_tag)}


@check("mac_hmac_sha256")
def mac_hmac_sha256(client):
    """MAC with HMAC-SHA256 under a registered key, checked with Python's hmac."""
    key = os.urandom(32)
    uid = register_active(client, enums.CryptographicAlgorithm.HMAC_SHA256, key,
                          [enums.CryptographicUsageMask.MAC_GENERATE, enums.CryptographicUsageMask.MAC_VERIFY], "mac")
    data = b"message to authenticate"
    got_uid, mac = client.mac(data, uid=uid, algorithm=enums.CryptographicAlgorithm.HMAC_SHA256)
    require(got_uid == uid, "MAC named another key")
    require(mac == hmac.new(key, data, hashlib.sha256).digest(), "the MAC differs from hmac.new(key, data, sha256)")
    return {"mac_bytes": len(mac)}


@check("get_wrapped_aes_key_wrap_padding")
def get_wrapped_aes_key_wrap_padding(client):
    """Get with a Key Wrapping Specification (AES Key Wrap with Padding, No Encoding), unwrapped with `cryptography`."""
    wrap = {"block_cipher_mode": enums.BlockCipherMode.AES_KEY_WRAP_PADDING}
    kek = create_active(client, enums.CryptographicAlgorithm.AES, 256,
                        [enums.CryptographicUsageMask.WRAP_KEY, enums.CryptographicUsageMask.UNWRAP_KEY],
                        wrap)
    dek = create_active(client, enums.CryptographicAlgorithm.AES, 128,
                        [enums.CryptographicUsageMask.ENCRYPT, enums.CryptographicUsageMask.DECRYPT])
    kek_bytes = client.get(kek).value
    dek_bytes = client.get(dek).value
    spec = {
        "wrapping_method": enums.WrappingMethod.ENCRYPT,
        "encryption_key_information": {"unique_identifier": kek, "cryptographic_parameters": wrap},
        "encoding_option": enums.EncodingOption.NO_ENCODING,
    }
    result = client.proxy.get(dek, key_wrapping_specification=client._build_key_wrapping_specification(spec))
    status = getattr(result.result_status, "value", result.result_status)
    require(status == enums.ResultStatus.SUCCESS, "Get with wrapping failed: {0}".format(getattr(result.result_message, "value", None)))
    block = result.secret.key_block
    wrapped = block.key_value.value if hasattr(block.key_value, "value") else block.key_value
    if not isinstance(wrapped, bytes):  # a Key Value structure: PyKMIP reads the Byte String as Key Material
        wrapped = block.key_value.key_material.value
    require(block.key_wrapping_data is not None, "no Key Wrapping Data in the Key Block")
    require(block.key_wrapping_data.encryption_key_information.unique_identifier == kek, "the Key Wrapping Data names another key")
    require(wrapped != dek_bytes, "the key came back in the clear")
    unwrapped = keywrap.aes_key_unwrap_with_padding(kek_bytes, wrapped)
    require(unwrapped == dek_bytes, "the unwrapped key is not the data key")
    return {"wrapped_bytes": len(wrapped)}


if __name__ == "__main__":
    sys.exit(check.main(sys.argv[1:], __doc__, kmip_version="1.4"))
