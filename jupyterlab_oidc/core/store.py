"""Where sessions live between requests: memory, or a file only the owner can read."""

from __future__ import annotations

import json
import os
import stat
import tempfile
import time
from typing import Any, Protocol

from ..errors import StoreError
from .sessions import Session

STORE_VERSION = 1
#: Temporary files of ``FileStore.save``: ``{prefix}random{suffix}`` beside the store.
TEMP_PREFIX, TEMP_SUFFIX = ".sessions-", ".tmp"
#: A temporary file this old was left by a writer that died before its rename.
STALE_TEMP_SECONDS = 10.0


class SessionStore(Protocol):
    """Loads and saves every session at once (there are a handful, never thousands)."""

    def load(self) -> dict[str, Session]: ...

    def save(self, sessions: dict[str, Session]) -> None: ...


class MemoryStore:
    """Sessions live as long as the server process."""

    def load(self) -> dict[str, Session]:
        return {}

    def save(self, sessions: dict[str, Session]) -> None:
        pass


class FileStore:
    """A JSON file, mode 0600, replaced atomically so a crash never leaves half a file."""

    def __init__(self, path: str) -> None:
        self.path = os.path.abspath(os.path.expanduser(path))
        self.writable = True

    def load(self) -> dict[str, Session]:
        """Read the file; an unusable file raises ``StoreError`` and is never overwritten blindly."""
        self._check_directory()
        self._remove_stale_temporaries()
        try:
            info = os.stat(self.path)
        except FileNotFoundError:
            return {}
        except OSError as e:
            raise StoreError(f"Cannot read the token store {self.path}: {e.strerror}.", path=self.path) from None
        if info.st_uid != os.getuid():
            self.writable = False
            raise StoreError(
                f"The token store {self.path} belongs to another user (uid {info.st_uid}); it was "
                "not read and will not be written. Remove it or set c.OIDCLogin.store_path.",
                path=self.path,
            )
        if stat.S_IMODE(info.st_mode) & 0o077:
            self.writable = False
            raise StoreError(
                f"The token store {self.path} can be read by other users "
                f"(mode {stat.S_IMODE(info.st_mode):04o}); it was not read. Run: chmod 600 {self.path}",
                path=self.path,
            )
        try:
            with open(self.path, encoding="utf-8") as f:
                document = json.load(f)
            return {key: Session.from_record(record) for key, record in document["sessions"].items()}
        except (ValueError, KeyError, TypeError, AttributeError) as e:
            aside = self._move_aside()
            raise StoreError(
                f"The token store {self.path} was corrupt ({type(e).__name__}) and was moved to "
                f"{aside}; sign in again.",
                path=self.path,
            ) from None

    def save(self, sessions: dict[str, Session]) -> None:
        """Write to a 0600 temporary file in the same directory, fsync, then rename over."""
        if not self.writable:
            return
        directory = os.path.dirname(self.path)
        os.makedirs(directory, mode=0o700, exist_ok=True)
        self._check_directory()
        document: dict[str, Any] = {
            "version": STORE_VERSION,
            "sessions": {key: s.to_record() for key, s in sessions.items()},
        }
        fd, tmp = tempfile.mkstemp(prefix=TEMP_PREFIX, suffix=TEMP_SUFFIX, dir=directory)
        try:
            os.fchmod(fd, 0o600)
            with os.fdopen(fd, "w", encoding="utf-8") as f:
                json.dump(document, f)
                f.flush()
                os.fsync(f.fileno())
            os.replace(tmp, self.path)
        except BaseException:
            try:
                os.unlink(tmp)
            except OSError:
                pass
            raise
        dir_fd = os.open(directory, os.O_RDONLY)
        try:
            os.fsync(dir_fd)
        finally:
            os.close(dir_fd)

    def _check_directory(self) -> None:
        """The store's directory must be this user's and writable by nobody else: whoever can
        write there can swap the file (or its temporaries) for one of their own. A directory
        that fails is left as it is, the store neither read nor written."""
        directory = os.path.dirname(self.path)
        try:
            info = os.stat(directory)
        except FileNotFoundError:
            return  # save() creates it, 0700
        except OSError as e:
            self.writable = False
            raise StoreError(
                f"Cannot use the token store directory {directory}: {e.strerror}.", path=self.path
            ) from None
        mode = stat.S_IMODE(info.st_mode)
        if info.st_uid != os.getuid():
            problem = f"belongs to another user (uid {info.st_uid})"
            fix = "Set c.OIDCLogin.store_path to a file in a directory of your own (mode 700)."
        elif mode & 0o022:
            who = {0o020: "its group", 0o002: "other users"}.get(mode & 0o022, "its group and other users")
            problem = f"can be written by {who} (mode {mode:04o})"
            fix = f"Run: chmod 700 {directory}"
        else:
            return
        self.writable = False
        raise StoreError(
            f"The token store directory {directory} {problem}, so someone else could replace the "
            f"store; it was not read and will not be written (files left as they are). {fix}",
            path=self.path,
            directory=directory,
        )

    def _remove_stale_temporaries(self) -> None:
        """A writer killed between writing its temporary file and the rename leaves it behind,
        with every refresh token in it (possibly a newer one than the store's). Remove ours."""
        directory = os.path.dirname(self.path)
        try:
            names = os.listdir(directory)
        except OSError:
            return
        for name in names:
            if not (name.startswith(TEMP_PREFIX) and name.endswith(TEMP_SUFFIX)):
                continue
            path = os.path.join(directory, name)
            try:
                info = os.lstat(path)
                stale = time.time() - info.st_mtime > STALE_TEMP_SECONDS
                if stat.S_ISREG(info.st_mode) and info.st_uid == os.getuid() and stale:
                    os.unlink(path)
            except OSError:
                pass

    def _move_aside(self) -> str:
        aside = f"{self.path}.corrupt-{int(time.time())}"
        try:
            os.replace(self.path, aside)
        except OSError:
            self.writable = False
            return "(could not be moved; it was left in place)"
        return aside
