#!/usr/bin/python3
"""Envelope encryption with kmipd: a root key that never leaves the server wraps a local data key.

1. Create an AES-256 root key on the server (and activate it).
2. Generate a 256-bit data key locally; encrypt your data with it (not shown).
3. Wrap the data key over KMIP: Encrypt with AES Key Wrap with Padding (RFC 5649). Store the
   wrapped key next to your data and forget the plaintext data key.
4. Later, unwrap it over KMIP: Decrypt with the same parameters; it must equal the original.

Needs the PyKMIP client (Debian: apt-get install python3-pykmip) and a client certificate of the
deployment (kmipd init writes certs/admin.{crt,key} and certs/ca.crt). Exit status 0 on success.
"""
import argparse
import os
import sys

from kmip.core import enums
from kmip.pie.client import ProxyKmipClient

WRAP = {
    "cryptographic_algorithm": enums.CryptographicAlgorithm.AES,
    "block_cipher_mode": enums.BlockCipherMode.AES_KEY_WRAP_PADDING,
}


def main(argv):
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--host", default="127.0.0.1")
    p.add_argument("--port", type=int, default=5696)
    p.add_argument("--ca", default="data/certs/ca.crt")
    p.add_argument("--cert", default="data/certs/admin.crt")
    p.add_argument("--key", default="data/certs/admin.key")
    args = p.parse_args(argv)

    client = ProxyKmipClient(hostname=args.host, port=args.port, ca=args.ca, cert=args.cert, key=args.key,
                             ssl_version="PROTOCOL_TLSv1_2", config_file="/dev/null")
    client.open()
    try:
        # 1. The root key: generated in the server's HSM, it only ever leaves wrapped.
        root = client.create(enums.CryptographicAlgorithm.AES, 256,
                             cryptographic_usage_mask=[enums.CryptographicUsageMask.ENCRYPT,
                                                       enums.CryptographicUsageMask.DECRYPT])
        client.activate(root)

        # 2. A data key, made here.
        data_key = bytearray(os.urandom(32))

        # 3. Wrap it under the root key (RFC 5649): 32 bytes in, 40 bytes out.
        wrapped, _ = client.encrypt(bytes(data_key), uid=root, cryptographic_parameters=WRAP)

        # 4. Unwrap it again.
        unwrapped = client.decrypt(wrapped, uid=root, cryptographic_parameters=WRAP)

        ok = unwrapped == bytes(data_key) and wrapped != bytes(data_key)
        print("root key {0}: data key wrapped to {1} bytes, unwrapped {2}".format(
            root, len(wrapped), "equal" if ok else "DIFFERENT"))
        data_key[:] = bytes(len(data_key))  # forget the plaintext data key
        return 0 if ok else 1
    finally:
        client.close()


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
