"""Pin threads and processes to CPU cores (errors: ``oms.errors.AffinityError``)."""

from oms._core import current_thread_affinity, pin_current_thread, pin_process

__all__ = ["current_thread_affinity", "pin_current_thread", "pin_process"]
