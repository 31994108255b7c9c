"""The redir plugin: registers the ``<redirdev>`` and ``<redirfilter>`` classes.

Everything about each kind lives in its class (:mod:`devframe_redir.device`). There is
no legacy conf rule: these kinds come as dev_specs or domain XML.
"""

from devframe import DeviceTypeRegister, hookimpl
from devframe_redir.device import Redirdev, Redirfilter


@hookimpl
def devframe_register_device_types(register: DeviceTypeRegister) -> None:
    register(Redirdev)
    register(Redirfilter)
