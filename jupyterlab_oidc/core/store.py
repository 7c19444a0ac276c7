"""Where sessions live between requests: memory, or a file only the owner can read (optionally encrypted).

With encryption keys (``c.OIDCLogin.store_encryption_keys``, ``JUPYTERLAB_OIDC_CRYPT_KEY``)
the file holds ``{"version": 1, "fernet": "<token>"}``: the sessions document encrypted with
``cryptography``'s MultiFernet, written with the first key and read with any of them (rotation:
put the new key first, keep the old one until the store was written once).
"""

from __future__ import annotations

import base64
import binascii
import json
import os
import stat
import tempfile
import time
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any, Protocol

from ..errors import ConfigError, StoreError
from .sessions import Session

if TYPE_CHECKING:
    from cryptography.fernet import MultiFernet

STORE_VERSION = 1
#: Temporary files of ``FileStore.save``: ``{prefix}random{suffix}`` beside the store.
TEMP_PREFIX, TEMP_SUFFIX = ".sessions-", ".tmp"
#: A temporary file this old was left by a writer that died before its rename.
STALE_TEMP_SECONDS = 10.0


#: The setting that holds the keys, named in errors.
KEYS_SETTING = "c.OIDCLogin.store_encryption_keys"


def parse_keys(value: str | Sequence[str]) -> list[str]:
    """Keys from a ``;``-separated string (``JUPYTERLAB_OIDC_CRYPT_KEY``) or a list; blanks dropped."""
    items = value.split(";") if isinstance(value, str) else list(value)
    return [item.strip() for item in items if item and item.strip()]


def fernet_keys(keys: Sequence[str]) -> MultiFernet | None:
    """A MultiFernet of ``keys`` (None without keys). Each key is a Fernet key (urlsafe base64
    of 32 bytes, ``Fernet.generate_key()``) or 64 hex digits (``openssl rand -hex 32``); any
    other value is a ``ConfigError`` naming the setting (never the key)."""
    if not keys:
        return None
    from cryptography.fernet import Fernet, MultiFernet

    fernets = []
    for number, key in enumerate(keys, 1):
        raw = key.strip()
        if len(raw) == 64 and all(c in "0123456789abcdefABCDEF" for c in raw):
            raw = base64.urlsafe_b64encode(bytes.fromhex(raw)).decode("ascii")
        try:
            fernets.append(Fernet(raw))
        except (ValueError, binascii.Error, TypeError):
            raise ConfigError(
                f"{KEYS_SETTING}: key {number} of {len(keys)} is not a Fernet key (32 bytes, urlsafe "
                "base64, as Fernet.generate_key() makes, or 64 hex digits as openssl rand -hex 32 "
                "makes). Several keys are separated by ';'.",
                setting="store_encryption_keys",
            ) from None
    return MultiFernet(fernets)


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

    def __init__(self, path: str, encryption_keys: str | Sequence[str] = ()) -> None:
        self.path = os.path.abspath(os.path.expanduser(path))
        self.writable = True
        self.fernet = fernet_keys(parse_keys(encryption_keys))

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
            if isinstance(document, dict) and "fernet" in document:
                document = self._decrypt(document["fernet"])
            return {key: Session.from_record(record) for key, record in document["sessions"].items()}
        except StoreError:
            self.writable = False  # encrypted, and no key here opens it: leave it as it is
            raise
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
        if self.fernet is not None:
            token = self.fernet.encrypt(json.dumps(document).encode("utf-8")).decode("ascii")
            document = {"version": STORE_VERSION, "fernet": token}
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

    def _decrypt(self, token: Any) -> Any:
        """The sessions document inside an encrypted store; no key that opens it is a ``StoreError``."""
        if self.fernet is None:
            raise StoreError(
                f"The token store {self.path} is encrypted and no key is configured; it was not read "
                f"and will not be written (left as it is). Set {KEYS_SETTING} (or JUPYTERLAB_OIDC_CRYPT_KEY) "
                "to the key it was written with.",
                path=self.path,
            )
        from cryptography.fernet import InvalidToken

        try:
            plain = self.fernet.decrypt(str(token).encode("ascii"))
        except (InvalidToken, UnicodeEncodeError):
            raise StoreError(
                f"The token store {self.path} is encrypted with a key that is not among "
                f"{KEYS_SETTING}; it was not read and will not be written (left as it is). Add the "
                "key it was written with (keep it after the new one while rotating).",
                path=self.path,
            ) from None
        return json.loads(plain)

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
