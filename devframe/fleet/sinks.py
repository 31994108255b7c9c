"""Event sinks: the transports an agent's CloudEvents go to, chosen by URL scheme.

Built in: ``nats://`` / ``tls://`` (NATS JetStream, :mod:`devframe.fleet.jetstream`,
needs ``devframe[nats]``) and ``file://`` (JSON lines appended to a local file).
Plugins add schemes through the collected hook ``devframe_register_event_sinks``
(``register("amqp", AmqpSink)``); a scheme already taken is refused and logged.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any
from urllib.parse import unquote, urlsplit

from devframe.core.errors import DevframeError
from devframe.core.log import get_logger
from devframe.fleet.cloudevents import encode

if TYPE_CHECKING:
    from devframe.core.hookspecs import EventSink
    from devframe.core.registry import Registry

__all__ = ["JsonLinesSink", "MemorySink", "SinkError", "open_sink", "sink_factories"]

SinkFactory = Callable[..., "EventSink"]


class SinkError(DevframeError):
    """A publish URL no sink handles, or a sink that cannot be opened."""


def _nats_sink(url: str, **options: Any) -> EventSink:
    from devframe.fleet.jetstream import NatsSink

    return NatsSink(url, **options)


def _file_sink(url: str, **options: Any) -> EventSink:
    return JsonLinesSink(unquote(urlsplit(url).path))


BUILTIN: dict[str, SinkFactory] = {"nats": _nats_sink, "tls": _nats_sink, "file": _file_sink}


def sink_factories(registry: Registry | None = None) -> dict[str, SinkFactory]:
    """Every scheme with its factory: the built-in ones, then those plugins register."""
    factories = dict(BUILTIN)
    if registry is None:
        return factories
    offered: list[tuple[Any, Any]] = []

    def register(scheme: str, factory: SinkFactory) -> None:
        offered.append((scheme, factory))

    registry.call_collected("devframe_register_event_sinks", register=register)
    log = get_logger()
    for scheme, factory in offered:
        if not isinstance(scheme, str) or not scheme or not callable(factory):
            log.error("event sink refused: needs a scheme and a factory", scheme=repr(scheme)[:100])
            continue
        name = scheme.lower()
        if name in factories:
            log.warning("event sink refused: scheme already taken", scheme=name)
            continue
        factories[name] = factory
    return factories


def open_sink(url: str, *, registry: Registry | None = None, **options: Any) -> EventSink:
    """The sink for a publish URL (``nats://127.0.0.1:4222``, ``file:///tmp/events.jsonl``)."""
    scheme = urlsplit(url).scheme.lower()
    factories = sink_factories(registry)
    factory = factories.get(scheme)
    if factory is None:
        raise SinkError(
            f"no event sink for {scheme or 'a URL without scheme'!r} in --publish {url!r} "
            f"(known: {', '.join(sorted(factories))})"
        )
    return factory(url, **options)


class JsonLinesSink:
    """Appends each event as one JSON line to a local file (debugging, tests, tail -f)."""

    def __init__(self, path: str | Path) -> None:
        if not str(path):
            raise SinkError("file:// sink needs a path (file:///var/log/devframe-events.jsonl)")
        self.path = Path(path)
        self._lock = threading.Lock()
        try:
            self._handle = open(self.path, "ab")
        except OSError as exc:
            raise SinkError(f"event file {self.path}: {exc.strerror or exc}") from None

    def publish(self, event: Mapping[str, Any]) -> bool:
        with self._lock:
            self._handle.write(encode(event) + b"\n")
            self._handle.flush()
        return True

    def publish_many(self, events: Sequence[Mapping[str, Any]]) -> int:
        """One guest's events: a line each (a file has no use for batches), one write."""
        with self._lock:
            self._handle.write(b"".join(encode(event) + b"\n" for event in events))
            self._handle.flush()
        return len(events)

    def accepting(self) -> bool:
        return True

    def close(self, timeout: float = 5.0) -> None:
        with self._lock:
            self._handle.close()


class MemorySink:
    """Keeps events in a list (tests, embedding); ``limit`` makes it refuse when full."""

    def __init__(self, limit: int | None = None) -> None:
        self.events: list[dict[str, Any]] = []
        #: the ids of each batch taken by publish_many
        self.batches: list[list[str]] = []
        self.limit = limit
        self.refused = 0
        self._lock = threading.Lock()

    def publish(self, event: Mapping[str, Any]) -> bool:
        with self._lock:
            if self.limit is not None and len(self.events) >= self.limit:
                self.refused += 1
                return False
            self.events.append(dict(event))
            return True

    def publish_many(self, events: Sequence[Mapping[str, Any]]) -> int:
        """One guest's events as one batch: kept one by one, and the batch in
        :attr:`batches` (all or none, like a spooling sink)."""
        with self._lock:
            if self.limit is not None and len(self.events) + len(events) > self.limit:
                self.refused += len(events)
                return 0
            self.events.extend(dict(event) for event in events)
            self.batches.append([str(event["id"]) for event in events])
            return len(events)

    def accepting(self) -> bool:
        return self.limit is None or len(self.events) < self.limit

    def close(self, timeout: float = 5.0) -> None:
        return None
