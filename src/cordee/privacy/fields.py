"""Model fields stored encrypted (:mod:`cordee.privacy.encryption`), read in clear.

Values are encrypted on every save path of the ORM (save, create, update, bulk_create,
bulk_update) and decrypted on every read (instances, ``values()``, ``values_list()``). The
set-based writers of :mod:`cordee.core.bulk` call :meth:`stored` themselves.

An encrypted column cannot be compared in SQL with a clear value (each encryption has its own
nonce): only ``= ''`` and ``IS NULL`` are allowed, any other lookup raises ``FieldError``
at once instead of silently finding nothing. A field declared with ``lookup_hash`` (e-mail,
phone) turns ``filter(email=value)`` and ``email__in`` into the same comparison on its keyed
hash column (``email_hash = email_index(value)``), which is indexed.
"""

from __future__ import annotations

import json
from typing import Any

from django.core.exceptions import FieldError
from django.db import models
from django.db.models.lookups import Exact, In, IsNull

from cordee.privacy.crypto import email_index, phone_index
from cordee.privacy.encryption import (
    PREFIX,
    decrypt,
    decrypt_data,
    encrypt,
    encrypt_data,
)

_INDEXES = {"email_hash": email_index, "phone_hash": phone_index}


def _refused(name: str) -> FieldError:
    return FieldError(
        f"{name} est chiffré : cherchez par l'empreinte (email_hash, phone_hash), pas par la valeur"
    )


def _on_hash(lookup: Any, values: list[Any]) -> tuple[Any, list[Any]]:
    """The hash column of ``lookup``'s field and the keyed hashes of ``values``."""
    field = lookup.lhs.target
    hash_name = getattr(field, "lookup_hash", "")
    if not hash_name or not hasattr(lookup.lhs, "alias"):
        raise _refused(field.name)
    hash_field = field.model._meta.get_field(hash_name)
    index = _INDEXES[hash_name]
    return hash_field.get_col(lookup.lhs.alias), [index(str(v)) for v in values]


class _EncryptedExact(Exact):
    def as_sql(self, compiler: Any, connection: Any) -> Any:
        if self.rhs in ("", None) or hasattr(self.rhs, "as_sql"):
            return super().as_sql(compiler, connection)
        col, (hashed,) = _on_hash(self, [self.rhs])
        return Exact(col, hashed).as_sql(compiler, connection)


class _EncryptedIn(In):
    def as_sql(self, compiler: Any, connection: Any) -> Any:
        if hasattr(self.rhs, "as_sql"):
            raise _refused(self.lhs.target.name)
        values = [v for v in self.rhs if v not in ("", None)]
        col, hashed = _on_hash(self, values)
        if len(values) != len(list(self.rhs)):
            hashed.append("")
        return In(col, hashed).as_sql(compiler, connection)


class _EncryptedLookups:
    def get_lookup(self, lookup_name: str) -> Any:
        if lookup_name == "exact":
            return _EncryptedExact
        if lookup_name == "in":
            return _EncryptedIn
        if lookup_name == "isnull":
            return IsNull
        raise FieldError(
            f"{getattr(self, 'name', '?')} est chiffré : la recherche « {lookup_name} » est "
            "impossible en SQL (utilisez l'empreinte email_hash / phone_hash)"
        )

    def get_transform(self, lookup_name: str) -> Any:
        raise FieldError(f"{getattr(self, 'name', '?')} est chiffré : pas de « {lookup_name} »")


class EncryptedCharField(_EncryptedLookups, models.CharField):
    """A CharField whose ``max_length`` bounds the clear value; the column is text.

    ``lookup_hash``: the name of the model's keyed-hash column for this value, if any.
    """

    def __init__(self, *args: Any, lookup_hash: str = "", **kwargs: Any) -> None:
        self.lookup_hash = lookup_hash
        super().__init__(*args, **kwargs)

    def deconstruct(self) -> Any:
        name, path, args, kwargs = super().deconstruct()
        if self.lookup_hash:
            kwargs["lookup_hash"] = self.lookup_hash
        return name, path, args, kwargs

    def get_internal_type(self) -> str:
        return "TextField"

    def stored(self, value: Any) -> Any:
        return encrypt(value) if isinstance(value, str) and value else value

    def get_db_prep_save(self, value: Any, connection: Any) -> Any:
        return self.stored(super().get_db_prep_save(value, connection))

    def from_db_value(self, value: Any, expression: Any, connection: Any) -> Any:
        if value.__class__ is str and value.startswith(PREFIX):
            return decrypt(value)
        return value


class EncryptedJSONField(models.JSONField):
    """A JSON value stored whole as one encrypted JSON string (no key look-ups in SQL)."""

    def stored(self, value: Any) -> Any:
        """The column's text for ``value``; a str is taken as that text already (see core.bulk)."""
        if value is None or isinstance(value, str):
            return value
        return json.dumps(encrypt(json.dumps(value, ensure_ascii=False, cls=self.encoder)))

    def get_db_prep_save(self, value: Any, connection: Any) -> Any:
        if value is None or hasattr(value, "as_sql"):
            return super().get_db_prep_save(value, connection)
        text = encrypt(json.dumps(value, ensure_ascii=False, cls=self.encoder))
        return super().get_db_prep_save(text, connection)

    def from_db_value(self, value: Any, expression: Any, connection: Any) -> Any:
        value = super().from_db_value(value, expression, connection)
        if value.__class__ is str and value.startswith(PREFIX):
            return json.loads(decrypt(value), cls=self.decoder)
        return value

    def get_transform(self, lookup_name: str) -> Any:
        raise FieldError(f"{self.name} est chiffré en entier : pas de « {lookup_name} »")


class EncryptedJSONTextField(models.TextField):
    """A JSON value stored whole, encrypted, in a text column.

    The stored text is the ciphertext of the value's JSON, or that JSON in clear when it was
    written before encryption (or decrypted by ``privacy rotate-key``). Unlike a ``jsonb``
    column holding the ciphertext as a JSON string, the database does not parse it on each
    write: it never reads inside it anyway (a source record's raw content, a million rows per
    import).
    """

    # What the model attribute holds for type checking (django-stubs): the JSON value.
    _pyi_private_set_type: Any
    _pyi_private_get_type: Any

    def stored(self, value: Any) -> Any:
        """The column's text for ``value``; a str is taken as that text already (see core.bulk)."""
        if value is None or isinstance(value, str):
            return value
        return encrypt(json.dumps(value, ensure_ascii=False))

    def get_db_prep_save(self, value: Any, connection: Any) -> Any:
        if value is None or hasattr(value, "as_sql"):
            return value
        return encrypt(json.dumps(value, ensure_ascii=False))

    def from_db_value(self, value: Any, expression: Any, connection: Any) -> Any:
        if value is None:
            return None
        if value.startswith(PREFIX):
            return json.loads(decrypt(value))
        return json.loads(value)

    def to_python(self, value: Any) -> Any:
        return value

    def value_to_string(self, obj: Any) -> str:
        return json.dumps(self.value_from_object(obj), ensure_ascii=False)

    def get_transform(self, lookup_name: str) -> Any:
        raise FieldError(f"{self.name} est chiffré en entier : pas de « {lookup_name} »")


class EncryptedKeysJSONField(models.JSONField):
    """A record's normalised data: the identifying keys (encryption.DATA_KEYS) encrypted
    inside, the others in clear so that SQL may still read them (``data__last_name``)."""

    def stored(self, value: Any) -> Any:
        if value is None or isinstance(value, str):
            return value
        if isinstance(value, dict):
            value = encrypt_data(value)
        return json.dumps(value, ensure_ascii=False, cls=self.encoder)

    def get_db_prep_save(self, value: Any, connection: Any) -> Any:
        if isinstance(value, dict):
            value = encrypt_data(value)
        return super().get_db_prep_save(value, connection)

    def from_db_value(self, value: Any, expression: Any, connection: Any) -> Any:
        value = super().from_db_value(value, expression, connection)
        if isinstance(value, dict):
            return decrypt_data(value)
        if value.__class__ is str and value.startswith(PREFIX):  # data__email
            return decrypt(value)
        return value


ENCRYPTED_FIELDS = (
    EncryptedCharField,
    EncryptedJSONField,
    EncryptedJSONTextField,
    EncryptedKeysJSONField,
)


def encrypted_fields(model: type[models.Model]) -> list[models.Field[Any, Any]]:
    return [f for f in model._meta.concrete_fields if isinstance(f, ENCRYPTED_FIELDS)]
