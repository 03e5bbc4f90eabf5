"""spimguard in a Synapse homeserver's send path.

``homeserver.yaml``::

    modules:
      - module: spimguard.interfaces.synapse.SpimguardModule
        config: {mode: embedded, data_dir: /var/lib/spimguard}

The module class is imported lazily: ``config`` and ``events`` are plain
Python (tested without Synapse), while ``module`` needs Synapse itself.
"""

from __future__ import annotations

from typing import Any

__all__ = ["SpimguardModule"]


def __getattr__(name: str) -> Any:
    if name == "SpimguardModule":
        from spimguard.interfaces.synapse.module import SpimguardModule

        return SpimguardModule
    raise AttributeError(name)
