"""Guest: one libvirt domain on a Host, with its devices kept as a dev_map.

Every operation on one Guest holds the Guest's lock, so concurrent callers (threads
hot-plugging devices at once) are serialized and none of their changes is lost. A
Guest keeps a *tracked* :class:`~devframe.Domain` (its :attr:`dev_map`): devices
attached through it are the caller's own objects, filled with libvirt's values.
"""

from __future__ import annotations

import copy
import threading
import time
import uuid as uuidlib
from typing import TYPE_CHECKING, Any, TypeVar

from lxml import etree

from devframe.agent.errors import AgentError, DetachFailedError, DetachTimeoutError, GuestGoneError
from devframe.agent.events import DEVICE_REMOVAL_FAILED, DEVICE_REMOVED
from devframe.agent.host import libvirt_module
from devframe.core.device import USER_ALIAS_PREFIX, Device
from devframe.core.domain import DevMap, Domain, parse_domain
from devframe.core.errors import DevframeError
from devframe.core.log import get_logger
from devframe.core.metadata import NS, PREFIX

if TYPE_CHECKING:
    from collections.abc import Callable

    from devframe.agent.host import Host

__all__ = ["Guest"]

T = TypeVar("T")


class Guest:
    """One domain of a :class:`~devframe.agent.Host`. Get it from the Host
    (``create_guest``, ``guests``, ``guest``), not by constructing it."""

    def __init__(self, host: Host, dom: Any) -> None:
        self.host = host
        self.name: str = dom.name()
        self.uuid: str = dom.UUIDString()
        self._dom = dom
        self._generation = host.generation
        self._lock = threading.RLock()
        self._tracked: Domain | None = None
        self._log = get_logger(uri=host.uri, domain=self.name)

    # -- plumbing ----------------------------------------------------------------------

    def _virdom(self) -> Any:
        # A virDomain belongs to one connection: after a reconnect, look it up again.
        if self._generation != self.host.generation:
            conn = self.host.connection()
            libvirt = libvirt_module()
            try:
                self._dom = conn.lookupByUUIDString(self.uuid)
            except libvirt.libvirtError as exc:
                raise self.host.wrap(exc, "look up domain after reconnect", domain=self.name) from None
            self._generation = self.host.generation
        return self._dom

    def _call(self, operation: str, fn: Callable[[Any], T], *, device: str | None = None, retry: bool = True) -> T:
        return self.host.call(operation, lambda _conn: fn(self._virdom()), domain=self.name, device=device, retry=retry)

    # -- state -------------------------------------------------------------------------

    def is_active(self) -> bool:
        return bool(self._call("query state", lambda d: d.isActive()))

    def is_persistent(self) -> bool:
        return bool(self._call("query persistence", lambda d: d.isPersistent()))

    def wait_running(self, timeout: float) -> None:
        """Return once libvirt reports the domain running; GuestGoneError after ``timeout``."""
        libvirt = libvirt_module()
        deadline = time.monotonic() + timeout
        while True:
            state = self._call("query state", lambda d: d.state()[0])
            if state == libvirt.VIR_DOMAIN_RUNNING:
                return
            if time.monotonic() >= deadline:
                raise GuestGoneError(
                    f"domain {self.name!r} on {self.host.uri!r} is not running after {timeout}s (state {state})",
                    operation="wait until running",
                    uri=self.host.uri,
                    domain=self.name,
                )
            time.sleep(0.05)

    def xml(self, *, inactive: bool = False) -> str:
        """The live domain XML, or the persistent (inactive) definition."""
        libvirt = libvirt_module()
        flags = libvirt.VIR_DOMAIN_XML_INACTIVE if inactive else 0
        return str(self._call("read inactive XML" if inactive else "read live XML", lambda d: d.XMLDesc(flags)))

    def live_xml(self) -> str:
        return self.xml()

    def inactive_xml(self) -> str:
        return self.xml(inactive=True)

    def domain(self, *, inactive: bool = False) -> Domain:
        """A new :class:`~devframe.Domain` parsed from the live XML, metadata bound."""
        return parse_domain(
            self.xml(inactive=inactive),
            registry=self.host.registry,
            source=f"{self.host.uri} domain {self.name}",
        )

    @property
    def tracked(self) -> Domain:
        """The Domain this Guest keeps in step (from the live XML on first use)."""
        with self._lock:
            if self._tracked is None:
                self._tracked = self.domain()
            return self._tracked

    @property
    def dev_map(self) -> DevMap:
        """The Guest's devices, ``{dev_type: [dev_object]}``; attach/detach keep it current."""
        return self.tracked.dev_map

    def refresh(self) -> Domain:
        """Re-read the live XML into a new tracked Domain (drops the old objects)."""
        with self._lock:
            self._tracked = self.domain()
            return self._tracked

    # -- hotplug -----------------------------------------------------------------------

    def _flags(self, operation: str) -> tuple[int, bool]:
        libvirt = libvirt_module()
        active, persistent = self.is_active(), self.is_persistent()
        flags = (libvirt.VIR_DOMAIN_AFFECT_LIVE if active else 0) | (
            libvirt.VIR_DOMAIN_AFFECT_CONFIG if persistent else 0
        )
        if not flags:
            raise GuestGoneError(
                f"{operation} (host {self.host.uri!r}, domain {self.name!r}): the domain is neither running "
                "nor defined",
                operation=operation,
                uri=self.host.uri,
                domain=self.name,
            )
        return flags, active

    def attach(self, device: Device) -> Device:
        """Hot-plug ``device`` and return it, filled with libvirt's alias, address, ....

        The device gets a user alias ``ua-<uuid4>`` when it has none (libvirt keeps
        ``ua-`` aliases, so the live device is found again by it). It is attached
        live when the domain runs and to the persistent definition when there is one,
        then its element is replaced by libvirt's live element and the device added to
        :attr:`dev_map`.
        """
        if not isinstance(device, Device):
            raise DevframeError(
                f"attach to domain {self.name!r}: expected a devframe Device, got {type(device).__name__}"
            )
        with self._lock:
            if device.alias is None:
                device.alias = f"{USER_ALIAS_PREFIX}{uuidlib.uuid4()}"
            alias = device.alias
            what = device.describe()
            log = self._log.bind(dev_type=device.dev_type, alias=alias)
            tracked = self.tracked
            if any(d is device for d in tracked.devices):
                raise DevframeError(f"attach to domain {self.name!r}: {what} is already attached")
            xml = device.to_xml()
            flags, active = self._flags("attach device")
            self._call("attach device", lambda d: d.attachDeviceFlags(xml, flags), device=what, retry=False)
            reported = self.domain(inactive=not active)
            live = _find_reported(reported, device)
            if live is None:
                raise AgentError(
                    f"attach device (host {self.host.uri!r}, domain {self.name!r}, device {what}): libvirt accepted "
                    f"the device but its {'live' if active else 'inactive'} XML has no {device.dev_type} "
                    f"with alias {alias!r}",
                    operation="attach device",
                    uri=self.host.uri,
                    domain=self.name,
                    device=what,
                )
            _merge_element(device.element, live.element)
            tracked.add(device)
            log.info("device attached", address=device.address, live=active)
            return device

    def detach(self, device: Device, timeout: float) -> None:
        """Hot-unplug ``device``, waiting up to ``timeout`` s for libvirt's device-removed event.

        A guest that never releases the device (no guest OS, or one that refuses)
        gives :class:`DetachTimeoutError`; the device then stays attached, in the
        persistent definition and in :attr:`dev_map`. libvirt's device-removal-failed
        event gives :class:`DetachFailedError`.
        """
        libvirt = libvirt_module()
        with self._lock:
            alias = device.alias
            what = device.describe()
            if not alias:
                raise DevframeError(f"detach from domain {self.name!r}: {what} has no alias; libvirt cannot find it")
            log = self._log.bind(dev_type=device.dev_type, alias=alias)
            flags, active = self._flags("detach device")
            if active:
                live_flag = libvirt.VIR_DOMAIN_AFFECT_LIVE
                with self.host.waiter((DEVICE_REMOVED, DEVICE_REMOVAL_FAILED), uuid=self.uuid, alias=alias) as waiter:
                    # detachDeviceAlias only asks the guest; completion is the event.
                    self._call(
                        "detach device", lambda d: d.detachDeviceAlias(alias, live_flag), device=what, retry=False
                    )
                    event = waiter.wait(timeout)
                if event is None and self._live_alias(alias):
                    log.warning("guest did not release the device", timeout=timeout)
                    raise DetachTimeoutError(
                        f"detach device (host {self.host.uri!r}, domain {self.name!r}, device {what}): the guest did "
                        f"not release it within {timeout}s; it is still attached",
                        operation="detach device",
                        uri=self.host.uri,
                        domain=self.name,
                        device=what,
                    )
                if event is not None and event.kind == DEVICE_REMOVAL_FAILED:
                    raise DetachFailedError(
                        f"detach device (host {self.host.uri!r}, domain {self.name!r}, device {what}): the guest "
                        "refused to release it; it is still attached",
                        operation="detach device",
                        uri=self.host.uri,
                        domain=self.name,
                        device=what,
                    )
            if flags & libvirt.VIR_DOMAIN_AFFECT_CONFIG:
                self._detach_config(alias, what)
            tracked = self.tracked
            for candidate in tracked.devices:
                if candidate is device or (candidate.alias == alias and candidate.dev_type == device.dev_type):
                    tracked.remove(candidate)
            log.info("device detached", live=active)

    def _detach_config(self, alias: str, what: str) -> None:
        libvirt = libvirt_module()
        config = libvirt.VIR_DOMAIN_AFFECT_CONFIG
        try:
            self._call(
                "detach device from config", lambda d: d.detachDeviceAlias(alias, config), device=what, retry=False
            )
        except AgentError as exc:
            # Attached live only (transient attach): nothing to remove from the definition.
            if exc.code != libvirt.VIR_ERR_DEVICE_MISSING:
                raise

    def _live_alias(self, alias: str) -> bool:
        return bool(self.domain().find(alias=alias))

    # -- metadata ----------------------------------------------------------------------

    def set_metadata(self, xml: str, *, uri: str = NS, prefix: str = PREFIX) -> None:
        """Store one metadata element of namespace ``uri`` through libvirt's metadata API,
        live and in the persistent definition (replacing the previous one)."""
        libvirt = libvirt_module()
        payload = _for_set_metadata(xml, uri)
        with self._lock:
            flags, _active = self._flags("set metadata")
            self._call(
                "set metadata",
                lambda d: d.setMetadata(libvirt.VIR_DOMAIN_METADATA_ELEMENT, payload, prefix, uri, flags),
                retry=False,
            )

    def get_metadata(self, *, uri: str = NS, inactive: bool = False) -> str | None:
        """The metadata element of namespace ``uri``, namespaces intact, or None.

        Read from the domain XML: libvirt's metadata getter drops the namespaces of
        the element's children.
        """
        document = etree.fromstring(
            self.xml(inactive=inactive).encode("utf-8"), etree.XMLParser(resolve_entities=False)
        )
        for element in document.iterfind("metadata/*"):
            if isinstance(element.tag, str) and etree.QName(element).namespace == uri:
                copied = copy.deepcopy(element)
                etree.cleanup_namespaces(copied)
                return str(etree.tostring(copied, encoding="unicode", with_tail=False))
        return None

    def save_metadata(self) -> None:
        """Write the tracked Domain's metadata (VM values and every device's) to libvirt."""
        with self._lock:
            tracked = self.tracked
            document = etree.fromstring(tracked.to_xml().encode("utf-8"), etree.XMLParser(resolve_entities=False))
            vm = document.find(f"metadata/{{{NS}}}vm")
            if vm is None:
                self._log.info("no devframe metadata to save")
                return
            self.set_metadata(etree.tostring(vm, encoding="unicode", with_tail=False))
            self._log.info("metadata saved", devices=len(vm.findall(f"{{{NS}}}device")))

    # -- lifecycle ---------------------------------------------------------------------

    def destroy(self) -> None:
        """Stop the domain (when running) and undefine it (when persistent)."""
        libvirt = libvirt_module()
        with self._lock:
            if self.is_active():
                self._call("destroy domain", lambda d: d.destroy(), retry=False)
            if self._call("query persistence", lambda d: d.isPersistent()):
                flags = libvirt.VIR_DOMAIN_UNDEFINE_MANAGED_SAVE | libvirt.VIR_DOMAIN_UNDEFINE_SNAPSHOTS_METADATA
                self._call("undefine domain", lambda d: d.undefineFlags(flags), retry=False)
            self.host._forget(self.uuid)
            self._log.info("guest destroyed")

    def __repr__(self) -> str:
        return f"<Guest {self.name} {self.uuid} on {self.host.uri}>"


def _find_reported(reported: Domain, device: Device) -> Device | None:
    """The device of ``reported`` that is ``device``: by alias, else by identity."""
    alias = device.alias
    if alias:
        found = reported.find(alias=alias, dev_type=device.dev_type)
        if found:
            return found[0]
    identity = device.identity()
    if identity is None:
        return None
    for candidate in reported.dev_map.get_list(device.dev_type):
        if candidate.identity() == identity:
            return candidate
    return None


def _for_set_metadata(xml: str, uri: str) -> str:
    """The element as libvirt's setMetadata wants it.

    libvirt puts the root in ``uri`` under its prefix itself and refuses a root that
    already declares that prefix; the children keep their namespace by declaring it
    themselves.
    """
    try:
        element = etree.fromstring(xml.encode("utf-8"), etree.XMLParser(resolve_entities=False, no_network=True))
    except etree.XMLSyntaxError as exc:
        raise DevframeError(f"set metadata: not well-formed XML: {exc}") from None
    qname = etree.QName(element)
    if qname.namespace not in (None, uri):
        raise DevframeError(f"set metadata: element {element.tag!r} is not in namespace {uri!r}")
    bare = etree.Element(qname.localname, {k: v for k, v in element.attrib.items()})
    for child in element:
        bare.append(copy.deepcopy(child))
    return str(etree.tostring(bare, encoding="unicode"))


def _merge_element(target: etree._Element, live: etree._Element) -> None:
    """Make ``target`` hold what ``live`` holds, keeping ``target`` (and its tail)."""
    target.attrib.clear()
    for key, value in live.attrib.items():
        target.set(key, value)
    target.text = live.text
    for child in list(target):
        target.remove(child)
    for child in live:
        target.append(copy.deepcopy(child))
