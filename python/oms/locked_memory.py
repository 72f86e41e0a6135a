"""``LockedBuffer``: bytes locked in RAM (mlock), kept out of core dumps, zeroed on
``close()``/garbage collection. Write with ``write()``; read in place through
``memoryview(buf)`` (copying out puts the bytes in ordinary memory: avoid it for
secrets). Errors: ``oms.errors.MemoryLockError`` when the OS refuses.
"""

from oms._core import LockedBuffer

__all__ = ["LockedBuffer"]
