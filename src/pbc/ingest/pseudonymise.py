"""Pseudonymisation: NHS numbers become keyed hashes; an encrypted copy lets a practice see its own patients.

The pseudonym is HMAC-SHA256 of the NHS number under the pseudonymisation key, truncated to 128 bits (32 hex
characters): the same patient gets the same pseudonym in every data set and every month, so records link, but
without the key nobody can get from a pseudonym back to a number or test a guessed number. The key is held outside
the warehouse (docs/adr/0003-pseudonymisation.md).

The encrypted copy is AES-256-GCM under a separate key, one record per patient (`identities`), with the pseudonym
as associated data so that a ciphertext cannot be moved to another patient. Only the web layer decrypts, for a
practice's own registered patients, and logs each view.

Both are computed once per distinct number (a month's extract repeats patients many times), which is what keeps
ingest fast.
"""

from __future__ import annotations

import hmac
import os

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

PSEUDONYM_HEX = 32
IDENTITIES = pa.schema([("PATIENT_ID", pa.string()), ("NONCE", pa.binary(12)), ("CIPHERTEXT", pa.binary())])


class _Cache:
    """Pseudonyms already computed, keyed by the NHS number as an integer, for vectorised lookup.

    A sorted array answers lookups with `searchsorted`; new entries wait in a dict and are merged in batches, so
    each patient is hashed once per process however many files mention them.
    """

    def __init__(self) -> None:
        self.keys = np.zeros(0, dtype=np.int64)
        self.values = np.zeros(0, dtype=f"S{PSEUDONYM_HEX}")
        self.pending: dict[int, bytes] = {}

    def lookup(self, numbers: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """(pseudonyms, found) for int64 numbers; pseudonyms are undefined where not found."""
        self._merge(force=False)
        position = np.minimum(np.searchsorted(self.keys, numbers), max(len(self.keys) - 1, 0))
        found = (self.keys[position] == numbers) if len(self.keys) else np.zeros(len(numbers), dtype=bool)
        values = self.values[position] if len(self.keys) else np.zeros(len(numbers), dtype=self.values.dtype)
        if self.pending:
            extra = [self.pending.get(int(n)) for n in numbers[~found]]
            hit = np.array([v is not None for v in extra], dtype=bool)
            missing = np.flatnonzero(~found)
            values[missing[hit]] = [v for v in extra if v is not None]
            found[missing[hit]] = True
        return values, found

    def add(self, number: int, pseudonym: bytes) -> None:
        self.pending[number] = pseudonym
        self._merge(force=False)

    def _merge(self, force: bool) -> None:
        if not self.pending or (not force and len(self.pending) < 20_000):
            return
        keys = np.fromiter(self.pending.keys(), dtype=np.int64, count=len(self.pending))
        values = np.array(list(self.pending.values()), dtype=self.values.dtype)
        keys, values = np.concatenate([self.keys, keys]), np.concatenate([self.values, values])
        order = np.argsort(keys, kind="stable")
        self.keys, self.values = keys[order], values[order]
        self.pending = {}


class Hasher:
    """Turns NHS numbers into pseudonyms, hashing each number once per process."""

    def __init__(self, pseudonymisation_key: bytes) -> None:
        self._key = pseudonymisation_key
        self._cache = _Cache()
        self._odd: dict[str, str] = {}  # values that are not ten digits: rare, kept apart

    def pseudonym(self, number: str) -> str:
        """The pseudonym of one NHS number."""
        return hmac.digest(self._key, number.encode(), "sha256").hex()[:PSEUDONYM_HEX]

    def _pseudonyms(self, distinct: pa.Array, remember: bool) -> tuple[np.ndarray, list[tuple[str, str]]]:
        """Pseudonyms of distinct numbers, and the (pseudonym, number) pairs first met now (when remembering)."""
        out = np.empty(len(distinct), dtype=object)
        digits = np.asarray(pc.and_(pc.equal(pc.utf8_length(distinct), 10), pc.utf8_is_digit(distinct)), dtype=bool)
        index = np.flatnonzero(digits)
        as_int = np.asarray(pc.cast(distinct.filter(pa.array(digits)), pa.int64()), dtype=np.int64)
        values, found = self._cache.lookup(as_int)
        out[index[found]] = values[found].astype(f"U{PSEUDONYM_HEX}")
        fresh: list[tuple[str, str]] = []
        plain = distinct.to_numpy(zero_copy_only=False)
        for i, number in zip(index[~found], as_int[~found], strict=True):
            pseudonym = self.pseudonym(plain[i])
            if remember:
                self._cache.add(int(number), pseudonym.encode())
                fresh.append((pseudonym, plain[i]))
            out[i] = pseudonym
        for i in np.flatnonzero(~digits):
            known = self._odd.get(plain[i])
            if known is None:
                known = self.pseudonym(plain[i])
                if remember:
                    self._odd[plain[i]] = known
                    fresh.append((known, plain[i]))
            out[i] = known
        return out, fresh

    def hash_only(self, numbers: pa.Array) -> pa.Array:
        """Pseudonyms for a column of NHS numbers, remembering nothing (for quarantined rows)."""
        distinct = pc.unique(pc.drop_null(numbers))
        hashed, _ = self._pseudonyms(distinct, remember=False)
        return pc.take(pa.array(hashed, pa.string()), pc.index_in(numbers, value_set=distinct))

    def hash_column(self, numbers: pa.Array) -> tuple[pa.Array, list[tuple[str, str]]]:
        """Pseudonyms for a column (null stays null), and the (pseudonym, number) pairs this hasher met first."""
        distinct = pc.unique(pc.drop_null(numbers))
        hashed, fresh = self._pseudonyms(distinct, remember=True)
        return pc.take(pa.array(hashed, pa.string()), pc.index_in(numbers, value_set=distinct)), fresh


class Encryptor:
    """Keeps one encrypted copy of each patient's number, whoever hashed it."""

    def __init__(self, encryption_key: bytes, known_identities: set[str] | None = None) -> None:
        if len(encryption_key) < 32:
            raise ValueError("the encryption key must be at least 32 bytes")
        self._aead = AESGCM(encryption_key[:32])
        self._encrypted: set[str] = set(known_identities or ())

    def identities(self, pairs: list[tuple[str, str]]) -> pa.Table:
        """Identity records for the (pseudonym, number) pairs of patients not encrypted before."""
        fresh = list(dict((p, n) for p, n in pairs if p not in self._encrypted).items())
        randomness = os.urandom(12 * len(fresh))  # one system call for all the nonces
        ids, nonces, texts = [], [], []
        for i, (patient, number) in enumerate(fresh):
            nonce = randomness[12 * i : 12 * i + 12]
            ids.append(patient)
            nonces.append(nonce)
            texts.append(self._aead.encrypt(nonce, number.encode(), patient.encode()))
            self._encrypted.add(patient)
        return pa.table(
            [pa.array(ids, pa.string()), pa.array(nonces, pa.binary(12)), pa.array(texts, pa.binary())],
            schema=IDENTITIES,
        )

    def forget(self, patients: set[str]) -> None:
        """Forget that these patients' identities were made (their rows were not stored, so neither are they)."""
        self._encrypted -= patients


class Pseudonymiser:
    """A hasher and an encryptor together: pseudonyms plus identities for patients not seen before."""

    def __init__(
        self, pseudonymisation_key: bytes, encryption_key: bytes, known_identities: set[str] | None = None
    ) -> None:
        self.hasher = Hasher(pseudonymisation_key)
        self.encryptor = Encryptor(encryption_key, known_identities)

    def hash_only(self, numbers: pa.Array) -> pa.Array:
        """Pseudonyms without identities (for quarantined rows)."""
        return self.hasher.hash_only(numbers)

    def pseudonymise(self, numbers: pa.Array) -> tuple[pa.Array, pa.Table]:
        """Pseudonyms for a column of NHS numbers (null stays null), and identities for patients not seen before."""
        pseudonyms, fresh = self.hasher.hash_column(numbers)
        return pseudonyms, self.encryptor.identities(fresh)

    def forget(self, patients: set[str]) -> None:
        """Forget identities made for patients whose rows were not stored."""
        self.encryptor.forget(patients)


def decrypt(encryption_key: bytes, patient_id: str, nonce: bytes, ciphertext: bytes) -> str:
    """The NHS number of an identity record (raises if the record was tampered with or moved to another patient)."""
    return AESGCM(encryption_key[:32]).decrypt(nonce, ciphertext, patient_id.encode()).decode()
