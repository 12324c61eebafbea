"""Tenant resolution from the Host header, and tenant administration (national admin only)."""

from __future__ import annotations

import ipaddress
import re
import threading
import time
from dataclasses import dataclass

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from app.core.errors import N_, Conflict, Invalid, NotFound
from app.core.settings import Settings
from app.core.text import nfc
from app.tenancy.models import NATIONAL_SLUG, Tenant, TenantContext

_SLUG = re.compile(r"^[a-z][a-z0-9-]{1,62}$")
_COLOUR = re.compile(r"^#[0-9a-fA-F]{6}$")
RESERVED_SLUGS = frozenset({"www", "api", "static", "admin", "mail", NATIONAL_SLUG})
IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address


def split_host(host: str | None) -> tuple[str, int | None]:
    """`Haiphong.localhost:8000` → (`haiphong.localhost`, 8000); `[::1]:8000` → (`::1`, 8000)."""
    name = (host or "").strip().lower()
    port = ""
    if name.startswith("["):  # IPv6 literal
        name, bracket, rest = name[1:].partition("]")
        if not bracket or (rest and not rest.startswith(":")):
            return "", None
        port = rest[1:]
    elif name.count(":") == 1:
        name, port = name.split(":")
    name = name.rstrip(".")
    return name, int(port) if port.isascii() and port.isdigit() and len(port) <= 5 else None


def ip_literal(name: str) -> IPAddress | None:
    try:
        return ipaddress.ip_address(name)
    except ValueError:
        return None


def _slug_under(name: str, base: str) -> str | None:
    """The portal of `name` when portals live under `base`: the bare base and `www.` are national."""
    if name in (base, f"www.{base}"):
        return NATIONAL_SLUG
    suffix = "." + base
    if name.endswith(suffix):
        label = name[: -len(suffix)]
        if label and "." not in label and label != NATIONAL_SLUG:
            return label
    return None


def _dashed(ip: IPAddress) -> str:
    """The address as one DNS label, as wildcard DNS services spell it: 192.168.1.5 → 192-168-1-5."""
    return str(ip).replace(".", "-").replace(":", "-")


def _lan_base(name: str, lan_dns: str) -> str | None:
    """`haiphong.192-168-1-5.sslip.io` → `192-168-1-5.sslip.io`: the national portal's name on the LAN."""
    dns = lan_dns.lower().strip(".")
    if not dns or not name.endswith("." + dns):
        return None
    label = name[: -len(dns) - 1].rsplit(".", 1)[-1]
    for literal in (label.replace("-", "."), label.replace("-", ":")):
        ip = ip_literal(literal)
        if ip is not None and _dashed(ip) == label:
            return f"{label}.{dns}"
    return None


def slug_from_host(
    host: str | None, base_domain: str, *, development: bool = False, lan_dns: str = ""
) -> str | None:
    """`haiphong.example.vn` → `haiphong`; the bare domain and `www.` → `national`; anything else → None.

    In development also: an IP literal (`127.0.0.1`, `[::1]`, a LAN address) is the national portal, and
    under the LAN wildcard DNS `haiphong.192-168-1-5.sslip.io` is Hải Phòng (`192-168-1-5.sslip.io` national).
    """
    name, _ = split_host(host)
    if not name:
        return None
    if development:
        if ip_literal(name) is not None:
            return NATIONAL_SLUG
        lan_base = _lan_base(name, lan_dns)
        if lan_base is not None:
            return _slug_under(name, lan_base)
    return _slug_under(name, base_domain.lower().strip("."))


def resolve_slug(host: str | None, settings: Settings) -> str | None:
    """The portal a request's Host names, by the deployment's rules (IP hosts only in development)."""
    return slug_from_host(
        host,
        settings.base_domain,
        development=not settings.is_production,
        lan_dns=settings.lan_wildcard_dns,
    )


def is_ip_host(host: str | None) -> bool:
    return ip_literal(split_host(host)[0]) is not None


def portal_host(slug: str, base: str) -> str:
    """The host name of a portal when portals live under `base`: the bare base for the national portal."""
    return base if slug == NATIONAL_SLUG else f"{slug}.{base}"


_DEFAULT_PORTS = {"http": 80, "https": 443}


@dataclass(frozen=True)
class PortalAddresses:
    """Where one browser reaches each portal: `{scheme}://{slug}.{base}[:port]` (the bare base: national).

    `lan`: the LAN wildcard DNS service the names go through (a public service: the device needs Internet
    access), or "".
    """

    scheme: str
    base: str
    port: int | None = None
    lan: str = ""

    def url(self, slug: str) -> str:
        port = "" if self.port in (None, _DEFAULT_PORTS.get(self.scheme)) else f":{self.port}"
        return f"{self.scheme}://{portal_host(slug, self.base)}{port}"


def addresses_seen_from(host: str | None, scheme: str, settings: Settings) -> PortalAddresses:
    """The portals' addresses as the browser that asked for `host` can open them.

    Production: the canonical `https://{slug}.{BASE_DOMAIN}` (a proxy serves the standard port). Development:
    the scheme and port that browser used, under the domain it can resolve: BASE_DOMAIN on the computer itself
    (a loopback address, or any name), `{address}.{LAN_WILDCARD_DNS}` from another device on the network.
    """
    if settings.is_production:
        return PortalAddresses("https", settings.base_domain)
    name, port = split_host(host)
    dns = settings.lan_wildcard_dns.lower().strip(".")
    lan_base = _lan_base(name, dns)
    ip = ip_literal(name)
    if lan_base is None and ip is not None and dns and not (ip.is_loopback or ip.is_unspecified):
        lan_base = f"{_dashed(ip)}.{dns}"
    if lan_base is not None:
        return PortalAddresses(scheme, lan_base, port, lan=dns)
    return PortalAddresses(scheme, settings.base_domain, port)


@dataclass(frozen=True)
class PortalLink:
    slug: str
    name: str
    url: str


@dataclass(frozen=True)
class PortalDirectory:
    """Links to portals, for the unknown-portal page and the development banner of an IP address."""

    links: list[PortalLink]
    national_url: str
    lan: str = ""  # the wildcard DNS service the links go through, if any


def portal_directory(
    portals: list[tuple[str, str]], addresses: PortalAddresses, *, provinces_only: bool = False
) -> PortalDirectory:
    links = [
        PortalLink(slug, name, addresses.url(slug))
        for slug, name in portals
        if not (provinces_only and slug == NATIONAL_SLUG)
    ]
    return PortalDirectory(links, addresses.url(NATIONAL_SLUG), addresses.lan)


def get_by_slug(session: Session, slug: str) -> Tenant | None:
    return session.scalars(select(Tenant).where(Tenant.slug == slug)).first()


def national_tenant_id(session: Session) -> int | None:
    return session.scalar(select(Tenant.id).where(Tenant.slug == NATIONAL_SLUG))


def active_portals(session: Session) -> list[tuple[str, str]]:
    """(slug, display name) of every active portal: the national one first, then by slug."""
    rows = session.execute(select(Tenant.slug, Tenant.display_name).where(Tenant.is_active.is_(True)))
    return sorted(((slug, name) for slug, name in rows), key=lambda row: (row[0] != NATIONAL_SLUG, row[0]))


def list_tenants(session: Session, *, limit: int = 100, offset: int = 0) -> tuple[list[Tenant], int]:
    total = session.scalar(select(func.count()).select_from(Tenant)) or 0
    rows = session.scalars(select(Tenant).order_by(Tenant.slug).limit(limit).offset(offset))
    return list(rows), total


def create_tenant(
    session: Session,
    *,
    slug: str,
    display_name: str,
    colour: str = "#0b5394",
    default_language: str = "vi",
    self_registration: bool = False,
    is_active: bool = True,
) -> Tenant:
    slug = slug.strip().lower()
    if slug != NATIONAL_SLUG and (not _SLUG.match(slug) or slug in RESERVED_SLUGS):
        raise Invalid(N_("A portal address may use lower-case letters, digits and dashes only."), code="slug")
    if not _COLOUR.match(colour):
        raise Invalid(N_("The colour must look like #0b5394."), code="colour")
    if default_language not in ("vi", "en"):
        raise Invalid(N_("Unknown language."), code="language")
    display_name = nfc(display_name)
    if not display_name:
        raise Invalid(N_("The display name is required."), code="display_name")
    if get_by_slug(session, slug) is not None:
        raise Conflict(N_("A portal with this address already exists."), code="slug_taken")
    tenant = Tenant(
        slug=slug,
        display_name=display_name,
        colour=colour,
        default_language=default_language,
        self_registration=self_registration,
        is_active=is_active,
    )
    session.add(tenant)
    session.flush()
    return tenant


def update_tenant(session: Session, slug: str, **changes: object) -> Tenant:
    tenant = get_by_slug(session, slug)
    if tenant is None:
        raise NotFound(N_("Portal not found."))
    for key, value in changes.items():
        if value is None:
            continue
        if key == "display_name":
            value = nfc(str(value))
        if key == "colour" and not _COLOUR.match(str(value)):
            raise Invalid(N_("The colour must look like #0b5394."), code="colour")
        if key == "is_active" and tenant.is_national and value is False:
            raise Invalid(N_("The national portal cannot be deactivated."))
        setattr(tenant, key, value)
    session.flush()
    return tenant


class TenantCache:
    """Host → tenant snapshots, kept for a few seconds so a page view costs no tenant query.

    Per process: a change made on one worker is seen by the others within `ttl` seconds (the worker that made
    it clears its own cache at once).
    """

    def __init__(self, ttl: float = 30.0) -> None:
        self.ttl = ttl
        self._entries: dict[str, tuple[float, TenantContext, int | None]] = {}
        self._portals: tuple[float, list[tuple[str, str]]] | None = None
        self._lock = threading.Lock()

    def peek(self, slug: str) -> tuple[TenantContext, int | None] | None:
        """The cached snapshot, if fresh; never touches the database."""
        entry = self._entries.get(slug)
        if entry is not None and entry[0] > time.monotonic():
            return entry[1], entry[2]
        return None

    def lookup(self, session: Session, slug: str) -> tuple[TenantContext, int | None] | None:
        now = time.monotonic()
        entry = self._entries.get(slug)
        if entry is not None and entry[0] > now:
            return entry[1], entry[2]
        tenant = get_by_slug(session, slug)
        if tenant is None or not tenant.is_active:
            with self._lock:
                self._entries.pop(slug, None)
            return None
        context = TenantContext.of(tenant)
        national_id = national_tenant_id(session)
        with self._lock:
            self._entries[slug] = (now + self.ttl, context, national_id)
        return context, national_id

    def portals(self, session: Session) -> list[tuple[str, str]]:
        """`active_portals`, kept like the snapshots (the links between portals in development)."""
        cached = self._portals
        if cached is not None and cached[0] > time.monotonic():
            return cached[1]
        portals = active_portals(session)
        with self._lock:
            self._portals = (time.monotonic() + self.ttl, portals)
        return portals

    def clear(self) -> None:
        with self._lock:
            self._entries.clear()
            self._portals = None
