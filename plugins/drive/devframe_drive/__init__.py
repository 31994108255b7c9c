"""devframe plugin for ``<disk>`` devices (disks, cdroms, floppies, luns)."""

from devframe_drive.device import Drive
from devframe_drive.names import BUS_PREFIXES, drive_index, drive_name, index_to_letters, letters_to_index
from devframe_drive.source import BackingLayer, Host, Mirror

__all__ = [
    "BUS_PREFIXES",
    "BackingLayer",
    "Drive",
    "Host",
    "Mirror",
    "drive_index",
    "drive_name",
    "index_to_letters",
    "letters_to_index",
]
