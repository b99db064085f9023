"""Built-in threat intel (versioned JSON under `intel/`) plus the analyst's `--ioc` files.

Indicator file format (`--ioc FILE`, repeatable): UTF-8 text parsed as CSV, one indicator per
line, `type,value[,note]`. Blank lines and lines starting with `#` are ignored; a value that
contains a comma (user agents) is written in double quotes, as in any CSV. Types:

- `ip`          an IPv4 or IPv6 address (`client_ip` equals it)
- `cidr`        a network such as `203.0.113.0/24` or `2001:db8::/32`
- `kid`         a signing key id; matches a token's `kid` or `x5t`
- `thumbprint`  a SHA-1 certificate thumbprint in hex (as in certificate stores); matches `x5t`/`kid`
- `app`         an application id (GUID); matches `app_id`, `client_app_id` or the token's `appid`
- `ua`          a user agent, matched exactly (surrounding spaces ignored)

Lines that cannot be read are skipped and reported in `Intel.notes`, never fatal.
"""

from __future__ import annotations

import base64
import csv
import ipaddress
import json
import re
import sys
from dataclasses import dataclass
from datetime import datetime
from functools import cache
from pathlib import Path

INTEL_DIR = Path(__file__).with_name("intel")
IOC_TYPES = ("ip", "cidr", "kid", "thumbprint", "app", "ua")


@dataclass(frozen=True)
class BadKey:
    """A signing key known to be compromised; tokens issued after `not_after` are forgeries."""

    kid: str
    x5t: str
    thumbprint_sha1: str
    not_before: datetime | None
    not_after: datetime | None
    issuer: str | None
    n: str | None
    e: str | None
    note: str


@dataclass(frozen=True, slots=True)  # slots: an --ioc file may name millions (issue 24's dense case)
class Ioc:
    """One indicator value with where it came from."""

    kind: str
    value: str
    note: str


@dataclass(frozen=True)
class Intel:
    """Everything the indicators match against: built-in data first, then `--ioc` files."""

    version: str
    consumer_tenant: str
    bad_keys: tuple[BadKey, ...]
    iocs: tuple[Ioc, ...]
    first_party_apps: tuple[tuple[str, str], ...]
    notes: tuple[str, ...] = ()

    def values(self, kind: str) -> tuple[Ioc, ...]:
        """The indicators of one type."""
        return tuple(i for i in self.iocs if i.kind == kind)


def thumbprint_to_x5t(thumbprint: str) -> str | None:
    """A hex SHA-1 thumbprint as the base64url `x5t` a JWT header carries."""
    text = thumbprint.replace(":", "").replace(" ", "").strip()
    try:
        raw = bytes.fromhex(text)
    except ValueError:
        return None
    if len(raw) != 20:
        return None
    return base64.urlsafe_b64encode(raw).decode("ascii").rstrip("=")


def _when(text: str | None) -> datetime | None:
    if not text:
        return None
    return datetime.fromisoformat(text.replace("Z", "+00:00")).replace(tzinfo=None)


@cache
def _builtin() -> tuple[str, str, tuple[BadKey, ...], tuple[Ioc, ...], tuple[tuple[str, str], ...]]:
    storm = json.loads((INTEL_DIR / "storm0558.json").read_text(encoding="utf-8"))
    apps = json.loads((INTEL_DIR / "first_party_apps.json").read_text(encoding="utf-8"))
    keys = tuple(
        BadKey(
            kid=k["kid"],
            x5t=k["x5t"],
            thumbprint_sha1=k["thumbprint_sha1"].lower(),
            not_before=_when(k.get("not_before")),
            not_after=_when(k.get("not_after")),
            issuer=k.get("issuer"),
            n=k.get("n"),
            e=k.get("e"),
            note=k.get("note", ""),
        )
        for k in storm["compromised_keys"]
    )
    iocs = tuple(Ioc("ip", i["value"], i["note"]) for i in storm["ips"])
    iocs += tuple(Ioc("ua", u["value"], u["note"]) for u in storm["user_agents"])
    iocs += tuple(Ioc("app", a["value"].lower(), a["note"]) for a in storm.get("apps", []))
    version = f"{storm['name']} v{storm['version']} ({storm['updated']})"
    first_party = tuple((a["value"], a["name"]) for a in apps["apps"])
    return version, storm["consumer_tenant"], keys, iocs, first_party


# A dotted-quad IPv4 address already in the form `ipaddress` gives back (no leading zeros, ASCII
# digits): taken as it is, without building an address object. 1.8M IOC lines: ipaddress was
# two thirds of a minute-long parse (bench/RESULTS.md, session 14).
_OCTET = "(?:25[0-5]|2[0-4][0-9]|1[0-9][0-9]|[1-9]?[0-9])"
_CANONICAL_IPV4 = re.compile(rf"{_OCTET}(?:\.{_OCTET}){{3}}")


def _normalise(kind: str, value: str) -> str:
    """The comparable form of an indicator value; raises ValueError when it is not one."""
    if kind == "ip":
        if _CANONICAL_IPV4.fullmatch(value):
            return value
        return str(ipaddress.ip_address(value))
    if kind == "cidr":
        return str(ipaddress.ip_network(value, strict=False))
    if kind == "thumbprint":
        if thumbprint_to_x5t(value) is None:
            raise ValueError("not a 40-hex-digit SHA-1 thumbprint")
        return value.replace(":", "").replace(" ", "").lower()
    if kind == "app":
        return value.lower()
    return value


def read_ioc_file(path: Path) -> tuple[tuple[Ioc, ...], tuple[str, ...]]:
    """Parse one `--ioc` file (format in the module docstring): the indicators and the skipped lines."""
    found: list[Ioc] = []
    notes: list[str] = []
    with path.open(encoding="utf-8-sig", newline="") as handle:
        for lineno, row in enumerate(csv.reader(handle), start=1):
            if not row or not "".join(row).strip() or row[0].lstrip().startswith("#"):
                continue
            kind = row[0].strip().lower()
            if kind not in IOC_TYPES or len(row) < 2 or len(row) > 3 or not row[1].strip():
                notes.append(
                    f"{path.name}:{lineno}: expected type,value[,note] with type in {'/'.join(IOC_TYPES)}"
                )
                continue
            try:
                value = _normalise(kind, row[1].strip())
            except ValueError as exc:
                notes.append(f"{path.name}:{lineno}: {kind} {row[1].strip()[:60]!r}: {exc}")
                continue
            # the same kind and note on many lines (a feed's name) are kept once
            note = sys.intern(row[2].strip()) if len(row) == 3 and row[2].strip() else f"{path.name}:{lineno}"
            found.append(Ioc(sys.intern(kind), value, note))
    return tuple(found), tuple(notes)


def load_intel(ioc_paths: tuple[Path, ...] = ()) -> Intel:
    """The built-in intel merged with every `--ioc` file given."""
    version, consumer, keys, iocs, first_party = _builtin()
    notes: list[str] = []
    extra: list[Ioc] = []
    for path in ioc_paths:
        found, skipped = read_ioc_file(Path(path))
        extra.extend(found)
        notes.extend(skipped)
    return Intel(
        version=version,
        consumer_tenant=consumer,
        bad_keys=keys,
        iocs=iocs + tuple(extra),
        first_party_apps=first_party,
        notes=tuple(notes),
    )
