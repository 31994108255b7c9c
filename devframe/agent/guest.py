"""Guest: one libvirt domain on a Host, with its devices kept as a dev_map.

Every operation on one Guest holds the Guest's lock, so concurrent callers (threads
hot-plugging devices at once) are serialized and none of their changes is lost. A
Guest keeps a *tracked* :class:`~devframe.Domain` (its :attr:`dev_map`): devices
attached through it are the caller's own objects, filled with libvirt's values.

When the Guest cannot know what libvirt did (the connection died during an attach or
detach, the daemon restarted and events may have been missed, the domain stopped or
started again), the tracked Domain is marked stale and re-read from libvirt before
its next use (:meth:`Guest.sync`), keeping the objects it already has.

A Guest knows its Host only through :class:`~devframe.agent.interfaces.GuestHost` and
the ``forget`` callback it was built with; this module does not import ``host.py``.
"""

from __future__ import annotations

import copy
import threading
import time
import uuid as uuidlib
from collections.abc import Callable
from typing import Any, Literal, TypeVar, overload

from lxml import etree

from devframe.agent.errors import (
    AgentError,
    DetachFailedError,
    DetachTimeoutError,
    DeviceMissingError,
    GuestGoneError,
    describe,
)
from devframe.agent.event_types import DEVICE_ADDED, DEVICE_REMOVAL_FAILED, DEVICE_REMOVED, Event
from devframe.agent.events import Subscription
from devframe.agent.interfaces import GuestHost
from devframe.agent.libvirt_api import libvirt_module
from devframe.agent.stats import STATS_GROUPS, GuestStats, read_stats
from devframe.agent.update import (
    BLOCK_RESIZE,
    MEDIA_CHANGE_ATTEMPTS,
    MEDIA_CHANGE_PAUSE,
    SAVE_METADATA,
    SET_BLOCK_IOTUNE,
    UPDATE_DEVICE,
    UpdatePlan,
    UpdateStep,
    plan_resize,
    plan_update,
    tray_closed_meanwhile,
)
from devframe.core.device import Device
from devframe.core.domain import DevMap, Domain, parse_domain
from devframe.core.errors import DevframeError
from devframe.core.identity import match_devices, user_alias
from devframe.core.log import get_logger, redact_text
from devframe.core.metadata import NS, PREFIX
from devframe.core.safexml import parse_trusted_xml, parse_xml
from devframe.core.xmledit import subtree_xml

__all__ = ["Guest"]

T = TypeVar("T")


class Guest:
    """One domain of a :class:`~devframe.agent.Host`. Get it from the Host
    (``create_guest``, ``guests``, ``guest``), not by constructing it.

    ``host``: the Host (:attr:`host`). ``dom``: the virDomain. ``forget()``: called
    once the domain is gone for good (undefined, or libvirt no longer knows it), so the
    Host does not hand this Guest out again.
    """

    def __init__(self, host: GuestHost, dom: Any, *, forget: Callable[[], None] | None = None) -> None:
        #: the Host this Guest belongs to
        self.host = host
        self._forget = forget
        self.name: str = dom.name()
        self.uuid: str = dom.UUIDString()
        self._dom = dom
        self._generation = host.generation
        self._lock = threading.RLock()
        self._tracked: Domain | None = None
        #: the connection generation and domain id the tracked Domain was read under
        self._tracked_generation = -1
        self._tracked_id: str | None = None
        #: why the tracked Domain must be re-read before its next use (None: it is current)
        self._stale: str | None = None
        #: devices whose attach may or may not have happened, by alias (see sync)
        self._pending: dict[str, Device] = {}
        #: aliases this Guest is attaching or detaching: their device events are expected
        self._expected: set[str] = set()
        #: device events nobody here expected (another client, a late unplug), counted by
        #: libvirt's event loop; the tracked Domain is re-read when it read fewer
        self._external = 0
        self._synced_external = 0
        self._log = get_logger(uri=host.uri, domain=self.name)

    # -- plumbing ----------------------------------------------------------------------

    def _virdom(self, conn: Any) -> Any:
        # A virDomain belongs to one connection: after a reconnect, look it up again
        # (a failure is wrapped by Host.call with the operation that needed it).
        generation = self.host.generation
        if self._generation != generation:
            self._dom = conn.lookupByUUIDString(self.uuid)
            self._generation = generation
        return self._dom

    def _call(self, operation: str, fn: Callable[[Any], T], *, device: str | None = None, retry: bool = True) -> T:
        """``fn(virDomain)`` through :meth:`Host.call`."""
        return self._call_conn(operation, lambda conn: fn(self._virdom(conn)), device=device, retry=retry)

    def _call_conn(self, operation: str, fn: Callable[[Any], T], *, device: str | None = None, retry: bool = True) -> T:
        """``fn(virConnect)`` through :meth:`Host.call`; a vanished domain is forgotten by the Host."""
        libvirt = libvirt_module()
        try:
            return self.host.call(operation, fn, domain=self.name, device=device, retry=retry)
        except GuestGoneError as exc:
            if exc.code == libvirt.VIR_ERR_NO_DOMAIN:
                self._gone()
            raise

    def _gone(self) -> None:
        # Gone for good: the Host must not hand this Guest out again.
        if self._forget is not None:
            self._forget()

    @property
    def _source(self) -> str:
        # Where XML read from libvirt came from, for error messages.
        return f"{self.host.uri} domain {self.name}"

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
        return parse_domain(self.xml(inactive=inactive), registry=self.host.registry, source=self._source)

    @property
    def tracked(self) -> Domain:
        """The Domain this Guest keeps in step (from the live XML on first use).

        Re-read from libvirt first when it is stale (see :meth:`sync`); that read's
        errors (:class:`GuestGoneError`, :class:`HostUnavailableError`) reach the caller.
        """
        with self._lock:
            tracked = self._tracked
            if (
                tracked is None
                or self._stale is not None
                or self._tracked_generation != self.host.generation
                or self._synced_external != self._external
            ):
                return self.sync()
            return tracked

    @property
    def dev_map(self) -> DevMap:
        """The Guest's devices, ``{dev_type: [dev_object]}``; attach/detach keep it current."""
        return self.tracked.dev_map

    def refresh(self) -> Domain:
        """Re-read the live XML into a new tracked Domain (drops the old objects)."""
        with self._lock:
            self._tracked = None
            return self.sync()

    def sync(self) -> Domain:
        """Make the tracked Domain hold exactly the devices libvirt reports, and return it.

        Reads the live XML (the definition when the domain is not running). Devices
        still there keep their objects, updated with libvirt's values; devices libvirt
        no longer has leave :attr:`dev_map`; devices it has that were not tracked join
        it (a device whose attach failed half-way joins as the caller's own object).
        Runs by itself when the tracked Domain may be out of step: after a reconnect,
        after an attach or detach that failed once libvirt was asked to act, and when
        the domain was stopped or started since it was read.
        """
        with self._lock:
            reason = self._stale or ("first use" if self._tracked is None else "reconnected or changed elsewhere")
            external = self._external  # before the read: an event after it asks for another
            reported = self.domain()
            tracked = self._tracked
            if tracked is None:
                self._tracked = tracked = reported
                pending = self._pending
                self._pending = {}
                for live in reported.devices:
                    mine = pending.get(live.alias) if live.alias else None
                    if mine is not None and mine.dev_type == live.dev_type:
                        _merge_element(mine.element, live.element)
                        reported.replace(live, mine)
            else:
                added, removed = self._reconcile(tracked, reported)
                self._log.info(
                    "tracked devices re-read from libvirt",
                    reason=reason,
                    added=[d.alias or d.dev_type for d in added],
                    removed=[d.alias or d.dev_type for d in removed],
                )
            self._tracked_generation = self.host.generation
            self._tracked_id = reported.root.get("id")
            self._stale = None
            self._synced_external = external
            return tracked

    def _reconcile(self, tracked: Domain, reported: Domain) -> tuple[list[Device], list[Device]]:
        """Edit ``tracked`` in place to hold ``reported``'s devices, in its order.

        A tracked device stays (merged with what libvirt reports) when the identity rules
        pair it with a reported one (:func:`devframe.core.identity.match_devices`).
        """
        unmatched = tracked.devices
        live_devices = reported.devices
        matching = match_devices(unmatched, live_devices, content=_xml_of)
        partner = {found: index for index, found in matching.pairs}
        taken = set(partner.values())
        order: list[Device] = []
        added: list[Device] = []
        pending = self._pending
        self._pending = {}
        for position, live in enumerate(live_devices):
            found = partner.get(position)
            if found is not None:
                mine = unmatched[found]
                _merge_element(mine.element, live.element)
                order.append(mine)
                continue
            pending_device = pending.get(live.alias) if live.alias else None
            if pending_device is not None and pending_device.dev_type == live.dev_type:
                _merge_element(pending_device.element, live.element)
                new = pending_device
            else:
                reported.remove(live)  # its element moves to the tracked Domain
                new = live
            added.append(new)
            order.append(new)
        removed = [device for index, device in enumerate(unmatched) if index not in taken]
        for device in removed:
            tracked.remove(device)
        for device in added:
            tracked.add(device)
        tracked.reorder(order)
        return added, removed

    def _check_current(self, dom_id: int) -> None:
        """Mark the tracked Domain stale when the domain stopped or (re)started since it was read."""
        if self._tracked is None:
            return
        now = str(dom_id) if dom_id >= 0 else None
        if now != self._tracked_id:
            self._stale = "the domain was stopped or started"

    # -- hotplug -----------------------------------------------------------------------

    def _flags(self, operation: str) -> tuple[int, bool]:
        libvirt = libvirt_module()

        def state(conn: Any) -> tuple[int, bool]:
            # A fresh lookup: a virDomain caches its id, the lookup tells whether (and in
            # which run) the domain runs now.
            dom = conn.lookupByUUIDString(self.uuid)
            self._dom, self._generation = dom, self.host.generation
            return int(dom.ID()), bool(dom.isPersistent())

        dom_id, persistent = self._call_conn(f"{operation}: query state", state)
        active = dom_id != -1
        self._check_current(dom_id)
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
                device.alias = user_alias(str(uuidlib.uuid4()))
            alias = device.alias
            what = device.describe()
            log = self._log.bind(dev_type=device.dev_type, alias=alias)
            flags, active = self._flags("attach device")
            tracked = self.tracked
            if any(d is device for d in tracked.devices):
                raise DevframeError(f"attach to domain {self.name!r}: {what} is already attached")
            tracked._check_free(device)  # a device of another Domain: refused before libvirt acts
            # Its device-added event is ours until the device is in the dev_map.
            self._expected.add(alias)
            try:
                self._attach(device, tracked, flags, active)
            finally:
                self._expected.discard(alias)
            log.info("device attached", address=device.address, live=active)
            return device

    def _attach(self, device: Device, tracked: Domain, flags: int, active: bool) -> None:
        alias, what = device.alias, device.describe()
        xml = device.to_xml()
        try:
            self._call("attach device", lambda d: d.attachDeviceFlags(xml, flags), device=what, retry=False)
            reported = self.domain(inactive=not active)
        except BaseException as exc:
            # libvirt may have attached it before the failure (the daemon died
            # under the call): re-read before the dev_map is used again.
            self._unsure(f"attach of {what} failed: {exc}", device)
            raise
        live = _find_reported(reported, device)
        if live is None:
            self._unsure(f"attach of {what} not found in the XML", device)
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

    def _unsure(self, reason: str, device: Device | None = None) -> None:
        """libvirt may or may not have acted: re-read the tracked Domain before its next use."""
        self._stale = reason
        if device is not None and device.alias:
            self._pending[device.alias] = device
        self._log.warning("tracked devices may be out of step with libvirt; re-reading on next use", reason=reason)

    def detach(self, device: Device, timeout: float, *, attempts: int = 1) -> None:
        """Hot-unplug ``device``, waiting for libvirt's device-removed event.

        The retry policy: libvirt is asked ``attempts`` times at most, each request
        followed by a wait of up to ``timeout`` seconds for the event (so the whole
        detach takes at most ``attempts * timeout`` seconds). A guest can miss one
        request (an ACPI unplug during boot, before its OS listens), so agents ask
        again, as Nova does; a request libvirt answers with "no such device" means
        an earlier one completed. A device that is gone from the live XML although
        no event came counts as removed.

        A guest that never releases the device (no guest OS, or one that refuses)
        gives :class:`DetachTimeoutError` after the last attempt; the device then
        stays attached, in the persistent definition and in :attr:`dev_map` (should
        the guest release it later, the dev_map follows on its next use).
        libvirt's device-removal-failed event gives :class:`DetachFailedError`.
        """
        if isinstance(attempts, bool) or not isinstance(attempts, int) or attempts < 1:
            raise DevframeError(f"detach from domain {self.name!r}: attempts must be an int >= 1, got {attempts!r}")
        with self._lock:
            alias = device.alias
            what = device.describe()
            if not alias:
                raise DevframeError(f"detach from domain {self.name!r}: {what} has no alias; libvirt cannot find it")
            log = self._log.bind(dev_type=device.dev_type, alias=alias)
            flags, active = self._flags("detach device")
            self._expected.add(alias)
            try:
                self._detach(device, alias, what, flags, active, (timeout, attempts), log)
            except (DetachTimeoutError, DetachFailedError):
                raise  # the guest kept the device: libvirt and the dev_map both still have it
            except BaseException as exc:
                self._unsure(f"detach of {what} failed: {exc}")
                raise
            finally:
                self._expected.discard(alias)

    def _request_unplug(self, alias: str, what: str, attempt: int) -> bool:
        """Ask libvirt to unplug; False when it no longer has the device (a retry after
        an earlier request completed unseen)."""
        libvirt = libvirt_module()
        live_flag = libvirt.VIR_DOMAIN_AFFECT_LIVE
        try:
            # detachDeviceAlias only asks the guest; completion is the event.
            self._call("detach device", lambda d: d.detachDeviceAlias(alias, live_flag), device=what, retry=False)
        except AgentError as exc:
            if attempt > 1 and exc.code == libvirt.VIR_ERR_DEVICE_MISSING:
                return False
            raise
        return True

    def _wait_unplugged(self, alias: str, what: str, policy: tuple[float, int], log: Any) -> Event | None:
        """Request the unplug up to ``attempts`` times; the final event, or None once gone."""
        timeout, attempts = policy
        for attempt in range(1, attempts + 1):
            with self.host.waiter((DEVICE_REMOVED, DEVICE_REMOVAL_FAILED), uuid=self.uuid, alias=alias) as waiter:
                if attempt > 1:
                    log.info("detach requested again", attempt=attempt, attempts=attempts)
                if not self._request_unplug(alias, what, attempt):
                    return None
                event = waiter.wait(timeout)
            if event is not None:
                return event
            if not self._live_alias(alias):
                return None  # released, the event lost (a reconnect in between)
        log.warning("guest did not release the device", timeout=timeout, attempts=attempts)
        asked = f"{attempts} requests, {timeout}s each" if attempts > 1 else f"{timeout}s"
        raise DetachTimeoutError(
            f"detach device (host {self.host.uri!r}, domain {self.name!r}, device {what}): the guest did "
            f"not release it ({asked}); it is still attached",
            operation="detach device",
            uri=self.host.uri,
            domain=self.name,
            device=what,
        )

    def _detach(
        self, device: Device, alias: str, what: str, flags: int, active: bool, policy: tuple[float, int], log: Any
    ) -> None:
        libvirt = libvirt_module()
        if active:
            event = self._wait_unplugged(alias, what, policy, log)
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

    # -- live update -------------------------------------------------------------------

    def _scope(self, operation: str, live: bool | None, config: bool | None) -> tuple[bool, bool]:
        """Which of the running domain and its definition an operation changes: by
        default both that exist (as attach does); asking for one that does not exist
        is an error."""
        libvirt = libvirt_module()
        flags, active = self._flags(operation)
        persistent = bool(flags & libvirt.VIR_DOMAIN_AFFECT_CONFIG)
        for asked, there, what in ((live, active, "running"), (config, persistent, "persistent")):
            if asked and not there:
                raise GuestGoneError(
                    f"{operation} (host {self.host.uri!r}, domain {self.name!r}): the domain is not {what}",
                    operation=operation,
                    uri=self.host.uri,
                    domain=self.name,
                )
        scope = (active if live is None else live, persistent if config is None else config)
        if not any(scope):
            raise DevframeError(f"{operation} (domain {self.name!r}): neither live nor config asked for")
        return scope

    def _secure_domain(self, *, inactive: bool) -> Domain:
        # With secrets (a graphics password): an update sent without the password the
        # device has would remove it. Parsed, never logged, never kept.
        libvirt = libvirt_module()
        flags = libvirt.VIR_DOMAIN_XML_SECURE | (libvirt.VIR_DOMAIN_XML_INACTIVE if inactive else 0)
        operation = "read inactive XML" if inactive else "read live XML"
        xml = str(self._call(operation, lambda d: d.XMLDesc(flags)))
        return parse_domain(xml, registry=self.host.registry, source=self._source)

    def _running_device(self, reported: Domain, device: Device, operation: str) -> Device:
        found = reported.find_device(device)
        if found is None:
            what = device.describe()
            raise DeviceMissingError(
                f"{operation} ({describe(host=self.host.uri, domain=self.name, device=what)}): the domain has no "
                f"such {device.dev_type} (by alias or identity)",
                operation=operation,
                uri=self.host.uri,
                domain=self.name,
                device=what,
            )
        return found

    def plan_update(self, device: Device, *, live: bool | None = None, config: bool | None = None) -> UpdatePlan:
        """What :meth:`update` would do, asking libvirt nothing but to read (the dry run)."""
        with self._lock:
            return self._plan_update(device, live, config)

    def _plan_update(self, device: Device, live: bool | None, config: bool | None) -> UpdatePlan:
        if not isinstance(device, Device):
            raise DevframeError(
                f"update in domain {self.name!r}: expected a devframe Device, got {type(device).__name__}"
            )
        live_on, config_on = self._scope("update device", live, config)
        # Compared with what libvirt runs (its live XML; the definition when only the
        # definition changes), not with the tracked object, which the caller may have edited.
        reported = self.domain(inactive=not live_on)
        running = self._running_device(reported, device, "update device")
        live_base = self._secure_domain(inactive=False).find_device(running) if live_on else None
        config_base = self._secure_domain(inactive=True).find_device(running) if config_on else None
        return plan_update(
            uri=self.host.uri,
            domain=self.name,
            running=running,
            wanted=device,
            live_base=live_base,
            config_base=config_base,
            live=live_on,
            config=config_on,
        )

    @overload
    def update(
        self, device: Device, *, live: bool | None = ..., config: bool | None = ..., dry_run: Literal[False] = ...
    ) -> Device: ...
    @overload
    def update(
        self, device: Device, *, live: bool | None = ..., config: bool | None = ..., dry_run: Literal[True]
    ) -> UpdatePlan: ...
    def update(
        self, device: Device, *, live: bool | None = None, config: bool | None = None, dry_run: bool = False
    ) -> Device | UpdatePlan:
        """Make the running device that is ``device`` (by alias, else identity) hold
        ``device``'s values, with the smallest libvirt operations; return the dev_map's
        device (the same object as before: events and statistics keep naming it).

        ``device`` is the whole wanted device (``d.to_spec(secrets=True)``, edited, through
        ``device_from_spec``: a spec carries a device's secrets only when asked; or the
        dev_map's own object, edited). Its fields are
        compared with libvirt's: a changed field its class does not declare ``live``
        is an :class:`UpdateRefusedError` naming it, before anything is changed; a
        field it leaves out that cannot change live stays as libvirt has it. See
        :mod:`devframe.agent.update` for the operations.

        ``live`` / ``config``: change the running domain / its persistent definition
        (default: each that exists, as :meth:`attach` does). ``dry_run=True`` returns
        the :class:`~devframe.agent.UpdatePlan` and changes nothing.

        Afterwards the dev_map's device and ``device`` hold libvirt's live element (a
        password is not kept: libvirt's XML does not show it), and the dev_map's device
        the metadata ``device`` brings. When an operation fails half-way the dev_map is
        re-read from libvirt before its next use.
        """
        with self._lock:
            try:
                plan = self._plan_update(device, live, config)
            except DevframeError as exc:
                if self._tracked is not None and any(d is device for d in self._tracked.devices):
                    # The caller edited the dev_map's own object: libvirt's values come back.
                    self._stale = f"update of {device.describe()} not made: {type(exc).__name__}"
                raise
            if dry_run:
                return plan
            what = device.describe()
            log = self._log.bind(dev_type=device.dev_type, alias=device.alias)
            for step in plan.steps:
                if step.operation != SAVE_METADATA:
                    self._run_step(step, what)
            updated = self._follow(device, plan)
            if any(step.operation == SAVE_METADATA for step in plan.steps):
                self._run_metadata_step(what)
            log.info("device updated", plan=[str(step) for step in plan.steps], kept=[c.name for c in plan.kept])
            return updated

    @overload
    def resize_disk(self, device: Device, size: int, *, dry_run: Literal[False] = ...) -> Device: ...
    @overload
    def resize_disk(self, device: Device, size: int, *, dry_run: Literal[True]) -> UpdatePlan: ...
    def resize_disk(self, device: Device, size: int, *, dry_run: bool = False) -> Device | UpdatePlan:
        """Grow (or, where the image format allows, shrink) a running disk to ``size``
        bytes (libvirt's block resize); return the dev_map's disk (``dry_run``: the plan).

        The size is not part of the disk's XML: libvirt's block info (``capacity``)
        and :meth:`device_stats` report it.
        """
        if isinstance(size, bool) or not isinstance(size, int) or size <= 0:
            raise DevframeError(f"resize disk in domain {self.name!r}: size must be an int > 0 (bytes), got {size!r}")
        if device.dev_type != "disk":
            raise DevframeError(f"resize disk in domain {self.name!r}: {device.describe()} is not a disk")
        with self._lock:
            self._scope("resize disk", True, False)
            running = self._running_device(self.domain(), device, "resize disk")
            plan = plan_resize(uri=self.host.uri, domain=self.name, running=running, size=size)
            if dry_run:
                return plan
            self._run_step(plan.steps[0], running.describe())
            self._log.info("disk resized", alias=running.alias, target=plan.steps[0].target, size=size)
            tracked = self.tracked.find_device(running)
            return tracked if tracked is not None else running

    def _run_step(self, step: UpdateStep, what: str) -> None:
        libvirt = libvirt_module()
        flags = (libvirt.VIR_DOMAIN_AFFECT_LIVE if "live" in step.scope else 0) | (
            libvirt.VIR_DOMAIN_AFFECT_CONFIG if "config" in step.scope else 0
        )
        operation = f"{step.operation} ({'+'.join(step.scope)})"
        try:
            if step.operation == UPDATE_DEVICE:
                self._update_device(step, flags, operation, what)
            elif step.operation == SET_BLOCK_IOTUNE:
                params = dict(step.params or {})
                target = step.target
                self._call(operation, lambda d: d.setBlockIoTune(target, params, flags), device=what, retry=False)
            elif step.operation == BLOCK_RESIZE:
                size, target = step.size, step.target
                resize = libvirt.VIR_DOMAIN_BLOCK_RESIZE_BYTES
                self._call(operation, lambda d: d.blockResize(target, size, resize), device=what, retry=False)
            else:  # pragma: no cover - plans hold the operations above only
                raise DevframeError(f"unknown update step {step.operation!r}")
        except AgentError as exc:
            # libvirt may have acted before the failure: re-read before the dev_map is used.
            self._unsure(f"{operation} of {what} failed: {redact_text(str(exc))}")
            # libvirt's message could quote the XML sent: a password must not leave in it.
            exc.args = (redact_text(str(exc)),)
            raise
        except BaseException as exc:
            self._unsure(f"{operation} of {what} failed: {type(exc).__name__}")
            raise

    def _update_device(self, step: UpdateStep, flags: int, operation: str, what: str) -> None:
        xml = step.xml
        pause = MEDIA_CHANGE_PAUSE
        for attempt in range(1, MEDIA_CHANGE_ATTEMPTS + 1):
            try:
                self._call(operation, lambda d: d.updateDeviceFlags(xml, flags), device=what, retry=False)
                return
            except AgentError as exc:
                # A guest may close its tray between libvirt opening it and taking the
                # medium out; QEMU then refuses and nothing changed, so send it again.
                if attempt == MEDIA_CHANGE_ATTEMPTS or "live" not in step.scope or not tray_closed_meanwhile(str(exc)):
                    raise
                self._log.warning("tray closed by the guest during a media change; again", device=what, attempt=attempt)
                time.sleep(pause)
                pause *= 2

    def _follow(self, device: Device, plan: UpdatePlan) -> Device:
        """Make the dev_map follow libvirt after an update and return its device.

        The dev_map keeps its own object (events, statistics and callers holding it
        still name the same device), filled with libvirt's element and the metadata
        ``device`` brings; ``device`` gets libvirt's element too.
        """
        try:
            reported = self.domain(inactive=not plan.live)
            tracked = self.tracked
        except BaseException as exc:
            self._unsure(f"re-reading after the update of {device.describe()} failed: {exc}")
            raise
        live = reported.find_device(device)
        mine = tracked.find_device(device)
        if live is None or mine is None:
            self._unsure(f"updated {device.describe()} not found again")
            return device
        if mine is not device:
            brought = device.metadata_if_any()
            if brought:
                for key, value in brought.to_dict().items():
                    mine.metadata[key] = value
            _merge_element(device.element, live.element)
            device.touch()
        _merge_element(mine.element, live.element)
        mine.touch()
        return mine

    def _run_metadata_step(self, what: str) -> None:
        try:
            self.save_metadata()
        except BaseException as exc:
            self._unsure(f"saving the metadata of {what} failed: {exc}")
            raise

    # -- events and statistics ---------------------------------------------------------

    def subscribe(self, callback: Callable[[Event], Any], kinds: str | tuple[str, ...] | None = None) -> Subscription:
        """Call ``callback(event)`` for this guest's events (see :meth:`Host.subscribe`).

        Reads the devices first, so the events' ``device`` is resolved from the start.
        """
        _ = self.tracked
        return self.host.subscribe(callback, kinds, uuid=self.uuid)

    def peek_tracked(self) -> Domain | None:
        """The tracked Domain as it stands, without locking or reading libvirt (None
        before the first read): what libvirt's event loop may look at."""
        return self._tracked

    def note_event(self, event: Event) -> Device | None:
        """Called on libvirt's event loop for each event of this guest (never blocks):
        the device the event is about, from the tracked Domain; a device added or
        removed by someone else makes the dev_map re-read on its next use."""
        tracked = self._tracked
        if tracked is None:
            return None
        try:
            found = event.locate(tracked)
        except Exception:  # noqa: BLE001 - a dev_map edited under our feet: resolved later, if asked
            return None
        if event.kind in (DEVICE_ADDED, DEVICE_REMOVED) and event.alias not in self._expected:
            # Not this Guest's own attach or detach: re-read when the dev_map disagrees.
            if (found is None) == (event.kind == DEVICE_ADDED):
                self._external += 1
        return found

    def virdomain(self, conn: Any) -> Any:
        """This guest's virDomain on ``conn`` (for the bulk calls a Host makes)."""
        return self._virdom(conn)

    def device_stats(self) -> GuestStats:
        """This guest's per-device statistics (one libvirt call; :meth:`Host.device_stats`
        polls every guest of a host in one)."""
        libvirt = libvirt_module()
        groups = 0
        for name in STATS_GROUPS:
            groups |= getattr(libvirt, name)
        with self._lock:
            records = self._call_conn("get domain stats", lambda c: c.domainListGetStats([self._virdom(c)], groups, 0))
            tracked = self.tracked
        record = records[0][1] if records else {}
        return read_stats(self, tracked, record)

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
        document = parse_trusted_xml(self.xml(inactive=inactive), source=self._source).getroot()
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
            document = parse_trusted_xml(tracked.to_xml(), source=f"tracked domain {self.name}").getroot()
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
            self._gone()
            self._log.info("guest destroyed")

    def __repr__(self) -> str:
        return f"<Guest {self.name} {self.uuid} on {self.host.uri}>"


def _find_reported(reported: Domain, device: Device) -> Device | None:
    """The device of ``reported`` that is ``device`` (by alias, else by identity)."""
    return reported.find_device(device)


def _xml_of(device: Device) -> bytes:
    return subtree_xml(device.element, as_bytes=True)


def _for_set_metadata(xml: str, uri: str) -> str:
    """The element as libvirt's setMetadata wants it.

    libvirt puts the root in ``uri`` under its prefix itself and refuses a root that
    already declares that prefix; the children keep their namespace by declaring it
    themselves.
    """
    # The caller's XML: the safe parser with the usual limits (XMLError when refused).
    element = parse_xml(xml, source="set metadata").getroot()
    qname = etree.QName(element)
    if qname.namespace not in (None, uri):
        raise DevframeError(f"set metadata: element {element.tag!r} is not in namespace {uri!r}")
    bare = etree.Element(qname.localname)
    for key, value in element.attrib.items():
        bare.set(key, value)
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
