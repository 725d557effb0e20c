"""One exception tree for devices, split by phase (set-up / operation / timeout)."""

from __future__ import annotations


class DeviceError(Exception):
    """Base of device errors."""


class DeviceSetupError(DeviceError):
    """A configured backend cannot load or open (missing library, unknown backend, bad option)."""


class DeviceOperationError(DeviceError):
    """The device failed while working (unplugged, out of paper)."""


class DeviceTimeout(DeviceError):
    """The device did not answer in time."""
