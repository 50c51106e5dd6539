"""The secret keys pbc needs: one to pseudonymise NHS numbers, one to encrypt them for their own practice.

Keys live outside the warehouse (by default in `PBC_HOME/keys`, readable by the owner only) so that the warehouse
can be copied or shared without them. The demo generates them; in production they are provided by the
commissioner's key management and named by `PBC_PSEUDONYMISATION_KEY_FILE` and `PBC_ENCRYPTION_KEY_FILE`.
Keys are never committed: `var/` is ignored by git.
"""

from __future__ import annotations

import os
import secrets
from pathlib import Path
from typing import Literal

from pbc.errors import SettingsError
from pbc.settings import Settings

Purpose = Literal["pseudonymisation", "encryption"]
PURPOSES: tuple[Purpose, ...] = ("pseudonymisation", "encryption")
KEY_BYTES = 32


def ensure_keys(settings: Settings) -> dict[str, Path]:
    """Create any missing key with fresh random bytes (mode 0600); existing keys are never replaced."""
    made: dict[str, Path] = {}
    for purpose in PURPOSES:
        path = settings.key_file(purpose)
        if path.exists():
            continue
        path.parent.mkdir(parents=True, exist_ok=True)
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "w") as handle:
            handle.write(secrets.token_hex(KEY_BYTES) + "\n")
        made[purpose] = path
    return made


def load_key(settings: Settings, purpose: Purpose) -> bytes:
    """Read a key, or say exactly how to provide one."""
    path = settings.key_file(purpose)
    env = f"PBC_{purpose.upper()}_KEY_FILE"
    if not path.exists():
        raise SettingsError(
            f"no {purpose} key at {path}: run `pbc keys init` to generate one (for a demo or a new "
            f"installation), or set {env} to the key file your organisation holds"
        )
    text = path.read_text().strip()
    try:
        key = bytes.fromhex(text)
    except ValueError:
        raise SettingsError(f"the {purpose} key at {path} is not hexadecimal text; set {env} to a valid key") from None
    if len(key) < KEY_BYTES:
        raise SettingsError(f"the {purpose} key at {path} is {len(key)} bytes; pbc needs at least {KEY_BYTES}")
    return key
