"""devframe plugin for ``<disk>`` devices (disks, cdroms, floppies, luns)."""

from devframe_drive.device import BUS_PREFIXES, Drive, Host, drive_index, drive_name, index_to_letters, letters_to_index

__all__ = ["BUS_PREFIXES", "Drive", "Host", "drive_index", "drive_name", "index_to_letters", "letters_to_index"]
