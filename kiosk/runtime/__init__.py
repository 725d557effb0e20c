"""The kiosk's object graph without Kivy: settings → devices, back-end, outbox, sync, flow."""

from kiosk.runtime.worker import FlowWorker

__all__ = ["FlowWorker", "Runtime", "build_runtime"]


def __getattr__(name: str) -> object:  # lazy: importing the worker must not import every device
    if name in ("Runtime", "build_runtime"):
        from kiosk.runtime import build

        return getattr(build, name)
    raise AttributeError(name)
