"""Deterministic RSA signing keys for the synthetic incident: same seed, byte-identical JWKS and tokens."""

from __future__ import annotations

import base64
import hashlib
import random
from dataclasses import dataclass

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa

CONSUMER_TID = "9188040d-6c67-4c5b-b112-36a304b66dad"
CONSUMER_ISSUER = f"https://login.microsoftonline.com/{CONSUMER_TID}/v2.0"
ENTERPRISE_ISSUER = "https://login.microsoftonline.com/{tenantid}/v2.0"
STOLEN_KID = "1LTMzakihiRla_8z2BEJVXeWMqo"
E = 65537

_SMALL_PRIMES = [p for p in range(3, 2000) if all(p % d for d in range(2, int(p**0.5) + 1))]


def _probably_prime(n: int, rng: random.Random, rounds: int = 40) -> bool:
    """Miller–Rabin; the witnesses come from the seeded stream so the result is reproducible."""
    if n < 2:
        return False
    for p in _SMALL_PRIMES:
        if n % p == 0:
            return n == p
    d, s = n - 1, 0
    while d % 2 == 0:
        d //= 2
        s += 1
    for _ in range(rounds):
        x = pow(rng.randrange(2, n - 2), d, n)
        if x in (1, n - 1):
            continue
        for _ in range(s - 1):
            x = pow(x, 2, n)
            if x == n - 1:
                break
        else:
            return False
    return True


def seeded_prime(rng: random.Random, bits: int) -> int:
    """A `bits`-bit prime p with gcd(p-1, e) = 1, drawn only from `rng` (no OS randomness)."""
    while True:
        candidate = rng.getrandbits(bits) | (0b11 << (bits - 2)) | 1
        if (candidate - 1) % E and _probably_prime(candidate, rng):
            return candidate


def seeded_rsa_key(rng: random.Random, bits: int = 2048) -> rsa.RSAPrivateKey:
    """An RSA key built from two seeded primes (top bits set, so n has exactly `bits` bits)."""
    p = seeded_prime(rng, bits // 2)
    q = seeded_prime(rng, bits // 2)
    while q == p:
        q = seeded_prime(rng, bits // 2)
    if p < q:
        p, q = q, p
    d = pow(E, -1, (p - 1) * (q - 1))
    numbers = rsa.RSAPrivateNumbers(
        p=p,
        q=q,
        d=d,
        dmp1=d % (p - 1),
        dmq1=d % (q - 1),
        iqmp=pow(q, -1, p),
        public_numbers=rsa.RSAPublicNumbers(E, p * q),
    )
    return numbers.private_key()


def b64url_uint(value: int) -> str:
    """JWK encoding of a big unsigned integer."""
    raw = value.to_bytes((value.bit_length() + 7) // 8, "big")
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode()


def thumbprint_kid(key: rsa.RSAPrivateKey) -> str:
    """A 27-char kid shaped like Microsoft's (base64url SHA-1), derived from the public key."""
    der = key.public_key().public_bytes(
        serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo
    )
    return base64.urlsafe_b64encode(hashlib.sha1(der).digest()).rstrip(b"=").decode()


@dataclass(frozen=True)
class SigningKey:
    """One key of the key list, with the role it plays in the story."""

    name: str  # enterprise-1, enterprise-2, msa-stolen, msa-2, msa-3
    kid: str
    issuer: str
    scope: str  # "enterprise" or "consumer"
    private: rsa.RSAPrivateKey

    def jwk(self) -> dict[str, str]:
        """The public JWK as Microsoft publishes it (kid = x5t, with the `issuer` extension)."""
        pub = self.private.public_key().public_numbers()
        return {
            "kty": "RSA",
            "use": "sig",
            "kid": self.kid,
            "x5t": self.kid,
            "n": b64url_uint(pub.n),
            "e": b64url_uint(pub.e),
            "issuer": self.issuer,
        }


def build_keys(seed: int) -> dict[str, SigningKey]:
    """The tenant's two enterprise keys (rotated mid-period) and three consumer keys, one the stolen one."""
    rng = random.Random(f"triage-sample:{seed}:keys")
    out: dict[str, SigningKey] = {}
    for name, scope in (
        ("enterprise-1", "enterprise"),
        ("enterprise-2", "enterprise"),
        ("msa-stolen", "consumer"),
        ("msa-2", "consumer"),
        ("msa-3", "consumer"),
    ):
        key = seeded_rsa_key(rng)
        kid = STOLEN_KID if name == "msa-stolen" else thumbprint_kid(key)
        issuer = ENTERPRISE_ISSUER if scope == "enterprise" else CONSUMER_ISSUER
        out[name] = SigningKey(name, kid, issuer, scope, key)
    return out
