"""devframe plugin for ``<controller>`` devices."""

from devframe_controller.device import CONTROLLER_TYPES, MODELS_BY_TYPE, PCI_MODEL_NAMES, Controller

__all__ = ["CONTROLLER_TYPES", "MODELS_BY_TYPE", "PCI_MODEL_NAMES", "Controller"]
