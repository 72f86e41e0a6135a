"""oms: a multi-exchange crypto order management system with a Rust core.

The hot paths (risk checks, queues, shared-memory positions, exact numbers) run in
``oms._core`` (Rust, via PyO3); these Python modules are the public names:

* :mod:`oms.fixed` - exact fixed-point conversion (Decimal/str/int in, Decimal out)
* :mod:`oms.queues` - ``Queue`` (bounded lock-free MPMC) and ``ShmRing`` (SPSC between processes)
* :mod:`oms.positions` - ``PositionBook`` in ``/dev/shm`` (one writer, many readers)
* :mod:`oms.risk` - ``RiskEngine`` and ``RiskLimits``: pre-trade checks in microseconds
* :mod:`oms.affinity`, :mod:`oms.locked_memory` - CPU pinning, mlock'ed buffers
* :mod:`oms.errors` - the exception hierarchy; every error has a ``code``
"""

from oms._core import __version__

__all__ = ["__version__"]
