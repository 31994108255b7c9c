"""The fleet: device events from many hosts to an engine, over a messaging system.

Above the agent (it watches :class:`~devframe.agent.Host`\\ s), below the CLI; the core
never imports it. An agent's :class:`FleetAgent` turns device changes (from
:func:`~devframe.agent.correlate`) and libvirt events into CloudEvents 1.0
(:mod:`devframe.fleet.cloudevents`, the format in docs/fleet.md) and hands them to
event sinks chosen by URL (:func:`open_sink`; NATS JetStream built in, others through
the ``devframe_register_event_sinks`` hook). The engine side keeps a
:class:`FleetView` of every host's VMs and devices, fed by
:class:`~devframe.fleet.jetstream.NatsFleetReader`.

The NATS pieces need nats-py (``pip install 'devframe[nats]'``), imported only when a
NATS sink or reader is made.
"""

from __future__ import annotations

from devframe.fleet.agent import FleetAgent, GuestReport, host_name
from devframe.fleet.cloudevents import (
    ADDED,
    CHANGED,
    DATASCHEMA,
    FORMAT_VERSION,
    GUEST_GONE,
    GUEST_SYNCED,
    HOST_SYNCED,
    REMOVED,
    EventFactory,
    FleetMessageError,
    decode,
    encode,
)
from devframe.fleet.sinks import JsonLinesSink, MemorySink, SinkError, open_sink, sink_factories
from devframe.fleet.spool import Spool, SpoolError
from devframe.fleet.view import FleetView, HistoryError, VmView

__all__ = [
    "ADDED",
    "CHANGED",
    "DATASCHEMA",
    "FORMAT_VERSION",
    "GUEST_GONE",
    "GUEST_SYNCED",
    "HOST_SYNCED",
    "REMOVED",
    "EventFactory",
    "FleetAgent",
    "FleetMessageError",
    "FleetView",
    "GuestReport",
    "HistoryError",
    "JsonLinesSink",
    "MemorySink",
    "SinkError",
    "Spool",
    "SpoolError",
    "VmView",
    "decode",
    "encode",
    "host_name",
    "open_sink",
    "sink_factories",
]
