"""Screenshots decoded off the GUI thread, only when asked for, kept in a small LRU cache."""

from __future__ import annotations

import contextlib
import threading
from collections import OrderedDict
from pathlib import Path

from PySide6.QtCore import QObject, QThreadPool, Signal
from PySide6.QtGui import QImage, QImageReader

CACHE_SIZE = 6  # a 1920x1080 frame is 8 MB decoded


class FrameLoader(QObject):
    """`request(path)` answers from the cache, or decodes in a worker and emits `loaded`."""

    loaded = Signal(str, QImage)  # path, image (a null image when it could not be read)

    def __init__(self, parent: QObject | None = None, cache_size: int = CACHE_SIZE) -> None:
        super().__init__(parent)
        self._cache: OrderedDict[str, QImage] = OrderedDict()
        self._cache_size = cache_size
        self._pending: set[str] = set()
        self._pool = QThreadPool(self)
        self._pool.setMaxThreadCount(2)
        self._lock = threading.Lock()
        self.decoded = 0  # how many frames were decoded so far (tests look at it)
        self.loaded.connect(self._store)

    def cached(self, path: Path) -> QImage | None:
        key = str(path)
        image = self._cache.get(key)
        if image is not None:
            self._cache.move_to_end(key)
        return image

    def request(self, path: Path) -> QImage | None:
        """The image if it is cached; else None, and `loaded` follows once it is decoded."""
        image = self.cached(path)
        if image is not None:
            return image
        key = str(path)
        if key not in self._pending:
            self._pending.add(key)
            self._pool.start(lambda: self._decode(key))
        return None

    def wait(self, milliseconds: int = 5000) -> bool:
        return self._pool.waitForDone(milliseconds)

    def _decode(self, key: str) -> None:
        reader = QImageReader(key)
        image = reader.read()
        with self._lock:
            self.decoded += 1
        with contextlib.suppress(RuntimeError):  # the viewer closed while this was decoded
            self.loaded.emit(key, image)

    def _store(self, key: str, image: QImage) -> None:
        self._pending.discard(key)
        if image.isNull():
            return
        self._cache[key] = image
        self._cache.move_to_end(key)
        while len(self._cache) > self._cache_size:
            self._cache.popitem(last=False)

    @property
    def cache_keys(self) -> list[str]:
        return list(self._cache)
