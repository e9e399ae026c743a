#!/usr/bin/python3
"""ocisign - sign HTTP requests the way the OCI SDKs do (HTTP Signature,
rsa-sha256, keyId "<tenancy>/<user>/<fingerprint>").

As a library:   headers = sign(method, url, headers, body, key_id, key_pem)
From the shell: ocisign.py --key KEY.pem --key-id ID [curl arguments...]
  runs curl with Date, x-content-sha256, content-length and Authorization
  added; the method comes from -X (default GET, POST with -d/--data-binary),
  the body from -d/--data/--data-binary ('@file' reads a file). Example:
    ocisign.py --key ~/.oci/key.pem --key-id "$TENANCY/$USER/$FP" \\
      --cacert var/tls/cert.pem -X POST -H 'content-type: application/json' \\
      --data-binary @mail.json https://127.0.0.1:8443/20220926/actions/submitEmail

Signing uses python3-cryptography when present, else the openssl command.
"""
import base64
import email.utils
import hashlib
import os
import subprocess
import sys
import tempfile
from urllib.parse import urlsplit

BODY_METHODS = ("POST", "PUT", "PATCH")


_KEYS = {}


def _rsa_sign(key_pem, data):
    try:
        from cryptography.hazmat.primitives import hashes, serialization
        from cryptography.hazmat.primitives.asymmetric import padding
        key = _KEYS.get(key_pem)
        if key is None:     # loading checks the key: slow, so once per key
            key = _KEYS[key_pem] = serialization.load_pem_private_key(key_pem, password=None)
        return key.sign(data, padding.PKCS1v15(), hashes.SHA256())
    except ImportError:
        with tempfile.NamedTemporaryFile() as kf:
            kf.write(key_pem)
            kf.flush()
            return subprocess.run(["openssl", "dgst", "-sha256", "-sign", kf.name],
                                  input=data, capture_output=True, check=True).stdout


def sign(method, url, headers, body, key_id, key_pem, signed=None, date=None,
         sign_body=None):
    """Return HEADERS (a dict, lowercase names) with the signature headers added.
    SIGNED overrides the list of signed headers; DATE the Date header value;
    SIGN_BODY (default: POST/PUT/PATCH) adds the body headers."""
    method = method.upper()
    if isinstance(key_pem, str):
        key_pem = key_pem.encode()
    body = body or b""
    if isinstance(body, str):
        body = body.encode()
    h = {k.lower(): v for k, v in (headers or {}).items()}
    parts = urlsplit(url)
    target = parts.path + ("?" + parts.query if parts.query else "")
    h.setdefault("host", parts.netloc)
    h.setdefault("date", date or email.utils.formatdate(usegmt=True))
    if sign_body is None:
        sign_body = method in BODY_METHODS
    names = ["date", "(request-target)", "host"]
    if sign_body:
        h.setdefault("content-type", "application/json")
        h.setdefault("content-length", str(len(body)))
        h.setdefault("x-content-sha256",
                     base64.b64encode(hashlib.sha256(body).digest()).decode())
        names += ["content-length", "content-type", "x-content-sha256"]
    if signed is not None:
        names = signed
    lines = []
    for n in names:
        if n == "(request-target)":
            lines.append("(request-target): %s %s" % (method.lower(), target))
        else:
            lines.append("%s: %s" % (n, h[n]))
    sig = base64.b64encode(_rsa_sign(key_pem, "\n".join(lines).encode())).decode()
    h["authorization"] = ('Signature version="1",keyId="%s",algorithm="rsa-sha256",'
                          'headers="%s",signature="%s"' % (key_id, " ".join(names), sig))
    return h


def _curl(argv):
    key = key_id = None
    rest, method, body, url, hdrs = [], None, None, None, {}
    i = 0
    while i < len(argv):
        a = argv[i]
        if a in ("--key", "--key-id"):
            if a == "--key":
                key = argv[i + 1]
            else:
                key_id = argv[i + 1]
            i += 2
            continue
        if a in ("-X", "--request"):
            method = argv[i + 1]
        elif a in ("-d", "--data", "--data-binary"):
            v = argv[i + 1]
            body = open(v[1:], "rb").read() if v.startswith("@") else v.encode()
            i += 2
            continue
        elif a in ("-H", "--header"):
            k, _, v = argv[i + 1].partition(":")
            hdrs[k.strip().lower()] = v.strip()
            i += 2
            continue
        elif a.startswith("https://") or a.startswith("http://"):
            url = a
        rest.append(a)
        i += 1
    if not key or not key_id or not url:
        sys.exit("usage: ocisign.py --key KEY.pem --key-id ID [curl args] URL")
    method = method or ("POST" if body is not None else "GET")
    with open(key, "rb") as f:
        h = sign(method, url, hdrs, body, key_id, f.read(),
                 sign_body=body is not None and method.upper() in BODY_METHODS)
    args = ["curl", "-sS"] + rest
    for k, v in h.items():
        args += ["-H", "%s: %s" % (k, v)]
    if body is not None:
        with tempfile.NamedTemporaryFile(delete=False) as bf:
            bf.write(body)
        args += ["--data-binary", "@" + bf.name]
        try:
            return subprocess.call(args)
        finally:
            os.unlink(bf.name)
    return subprocess.call(args)


if __name__ == "__main__":
    sys.exit(_curl(sys.argv[1:]))
