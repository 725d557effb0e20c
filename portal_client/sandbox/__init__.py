"""The FHIR sandbox: Medplum's open-source FHIR engine in a small Node server, for tests and the demo.

``Sandbox`` starts and stops it (launcher.py); ``seed`` fills it with the demo practice (seed.py).
See README.md here for what the engine does and what the kiosk relies on.
"""

from .launcher import (
    NodeModulesMissing,
    NodeNotFound,
    Sandbox,
    SandboxError,
    find_node,
    install_node_modules,
    node_modules_present,
    run_forever,
)

__all__ = [
    "NodeModulesMissing",
    "NodeNotFound",
    "Sandbox",
    "SandboxError",
    "find_node",
    "install_node_modules",
    "node_modules_present",
    "run_forever",
]
