"""Array libraries: one file each (detection, device, host views; for GPU libraries also
pointers, contiguity, allocation, streams and device ordinals), and the registry of them.

Nothing here imports an array library until an array of it arrives.
"""

from .base import Backend, dtype_name, weak_float
from .context import Context, array_device, array_namespace, namespace, resolve
from .registry import BACKENDS, array_key, backend_of, device_type, installed_backends
from .transfer import to_backend

__all__ = [
    "BACKENDS",
    "Backend",
    "Context",
    "array_device",
    "array_key",
    "array_namespace",
    "backend_of",
    "device_type",
    "dtype_name",
    "weak_float",
    "installed_backends",
    "namespace",
    "resolve",
    "to_backend",
]
