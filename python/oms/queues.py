"""Queues of the core.

``Queue``: bounded lock-free MPMC queue of Python objects for threads in one process;
same method names and blocking semantics as ``queue.Queue`` (``put``/``get`` with
``block``/``timeout``, ``*_nowait``), plus batch ``put_many``/``get_many`` and
``close``. Full and empty raise ``oms.errors.QueueFull``/``QueueEmpty``, which are
also ``queue.Full``/``queue.Empty``. Waiting releases the GIL.

``ShmRing``: single-producer single-consumer ring of byte messages in a ``/dev/shm``
file, for two processes. One side ``create``s it, the other ``attach``es; each
takes a role (``"producer"`` or ``"consumer"``) that no other handle can hold at
the same time. No syscall on the fast path; a waiter spins ~50 us, then sleeps on
a futex. The creator removes the file on ``close()``.
"""

from oms._core import Queue, ShmRing

__all__ = ["Queue", "ShmRing"]
