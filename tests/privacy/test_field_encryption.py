"""Identification fields encrypted at rest: what the database holds, what the code still finds.

The tables are read with plain SQL: the e-mails, phones and street addresses must not be
there in clear, and every way of finding a person (search, API lookup, a later import of
the same e-mail) must still work. Then a key rotation, a retired key, a tampered value.
"""

from __future__ import annotations

import base64
import os
from io import StringIO
from pathlib import Path

import pytest
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from django.core.exceptions import FieldError
from django.core.management import call_command
from django.core.management.base import CommandError
from django.db import connection

from cordee.customers.models import Customer, SourceRecord
from cordee.customers.queries import Filters, customer_page
from cordee.customers.services import IncomingRecord, source_records_attach
from cordee.privacy import encryption
from cordee.privacy.access import Actor, customers_visible_to
from cordee.privacy.encryption import FieldKeyError, decrypt, encrypt, keyring
from cordee.privacy.models import StaffTOTP
from cordee.privacy.rotation import key_usage, reencrypt

FILE = (
    "Prénom;Nom;E-mail;Téléphone;Adresse;Code postal;Ville\r\n"
    "Élodie;Martin;elodie.martin@example.fr;06 12 34 56 78;12 rue des Lilas;74000;Annecy\r\n"
    "Hans;Müller;hans.mueller@example.de;+49 30 1234567;Hauptstraße 5;;Berlin\r\n"
)
SECRETS = (
    "elodie.martin@example.fr",
    "hans.mueller@example.de",
    "+33612345678",
    "612345678",
    "12 rue des Lilas",
    "Hauptstraße",
    "Hauptstra\\u00dfe",
)


@pytest.fixture(autouse=True)
def _own_keys():
    """Each test may add or retire keys: the key file is put back afterwards."""
    keyring()
    path = encryption.key_file()
    saved = path.read_bytes()
    yield
    path.write_bytes(saved)
    keyring.cache_clear()


def table_text(*tables: str) -> str:
    """Every value of these tables, as the database gives them back to plain SQL."""
    out = []
    with connection.cursor() as cur:
        for table in tables:
            cur.execute(f"SELECT * FROM {connection.ops.quote_name(table)}")  # noqa: S608
            out.extend(repr(row) for row in cur.fetchall())
    return "\n".join(out)


def column(table: str, name: str) -> list[str]:
    with connection.cursor() as cur:
        cur.execute(f"SELECT CAST({name} AS TEXT) FROM {table} ORDER BY id")  # noqa: S608
        return [row[0] for row in cur.fetchall()]


@pytest.fixture
def imported(import_file, destination):
    batch = import_file(FILE, partner=destination.hotel)
    assert batch.status == "done", batch.error
    return batch


def test_an_import_stores_ciphertext_and_reads_back_clear(imported):
    text = table_text("customers_customer", "customers_sourcerecord")
    for secret in SECRETS:
        assert secret not in text
    assert "Martin" in text and "Annecy" in text  # names and towns stay searchable
    assert all(v.startswith("enc:v1:") for v in column("customers_customer", "email"))
    elodie = Customer.objects.get(last_name="Martin")
    assert (elodie.email, elodie.phone) == ("elodie.martin@example.fr", "+33612345678")
    assert elodie.address_line1 == "12 rue des Lilas"
    record = SourceRecord.objects.get(customer=elodie)
    assert record.data["email"] == "elodie.martin@example.fr"
    assert record.raw["Adresse"] == "12 rue des Lilas"
    assert SourceRecord.objects.filter(customer=elodie).values_list("data__email", flat=True)[
        0
    ] == ("elodie.martin@example.fr")
    # The same through values(): what exports and the golden record read.
    row = Customer.objects.filter(pk=elodie.pk).values("email", "phone", "address_line1").get()
    assert row == {
        "email": "elodie.martin@example.fr",
        "phone": "+33612345678",
        "address_line1": "12 rue des Lilas",
    }


def test_lookups_by_email_and_phone_go_through_the_keyed_hash(imported, import_file, destination):
    assert Customer.objects.get(email="elodie.martin@example.fr").last_name == "Martin"
    assert Customer.objects.filter(phone="+33612345678").count() == 1
    assert Customer.objects.filter(email__in=["hans.mueller@example.de", "x@y.fr"]).count() == 1
    assert Customer.objects.filter(email="").count() == 0
    assert Customer.objects.exclude(phone_other="").count() == 0
    with pytest.raises(FieldError):
        list(Customer.objects.filter(email__icontains="elodie"))
    with pytest.raises(FieldError):
        list(Customer.objects.filter(phone_other="+33612345678"))
    # The search box: an e-mail or a phone typed by a person.
    visible = customers_visible_to(Actor.system("test"))
    for typed in ("Elodie.Martin@EXAMPLE.fr", "06 12 34 56 78"):
        page = customer_page(visible, Filters(q=typed))
        assert [c.last_name for c in page.customers] == ["Martin"]
    # A later file of another partner with the same e-mail joins the same customer.
    batch = import_file(
        "E-mail;Nom\r\nelodie.martin@example.fr;Martin-Roux\r\n",
        partner=destination.camping,
        name="camping.csv",
    )
    assert batch.status == "done", batch.error
    assert Customer.objects.count() == 2
    assert SourceRecord.objects.filter(customer__last_name__startswith="Martin").count() == 2


def test_the_api_lookup_finds_an_encrypted_customer(imported, destination, client):
    from cordee.partners.apikeys import SCOPES, api_key_create

    _key, secret = api_key_create(
        partner=destination.hotel, scopes=list(SCOPES), actor=Actor.system("test")
    )
    found = client.get(
        "/api/v1/customers/lookup",
        {"email": "Elodie.Martin@example.fr"},
        headers={"authorization": f"Bearer {secret}"},
    )
    assert found.status_code == 200, found.content
    assert [c["email"] for c in found.json()["results"]] == ["elodie.martin@example.fr"]


def test_the_orm_write_paths_encrypt(destination):
    customer = Customer.objects.create(last_name="Nom", email="a@b.fr", phone_other="+33611")
    Customer.objects.filter(pk=customer.pk).update(address_line2="Bâtiment B")
    customer.refresh_from_db()
    customer.phone = "+33622"
    Customer.objects.bulk_update([customer], ["phone"])
    text = table_text("customers_customer")
    for clear in ("a@b.fr", "+33611", "+33622", "Bâtiment B", "B\\u00e2timent"):
        assert clear not in text
    customer.refresh_from_db()
    assert (customer.email, customer.phone, customer.phone_other, customer.address_line2) == (
        "a@b.fr",
        "+33622",
        "+33611",
        "Bâtiment B",
    )


def test_the_totp_secret_is_encrypted(destination):
    from cordee.privacy.mfa import new_secret

    secret = new_secret()
    device = StaffTOTP.objects.create(user=destination.camille, secret=secret)
    assert secret not in table_text("privacy_stafftotp")
    assert StaffTOTP.objects.get(pk=device.pk).secret == secret


@pytest.mark.parametrize(
    "value",
    [
        "x" * 200,
        "enc:v1:deadbeef:AAAA",  # looks like ciphertext: stored encrypted like any other text
        "\ud800 lone surrogate",
        "😀" * 50 + "\x00\t\n\\'\"",
        "'); DROP TABLE customers_customer; --",
    ],
)
def test_hostile_values_round_trip_encrypted(destination, value):
    value = value.replace("\x00", "")  # PostgreSQL text holds no NUL byte
    if connection.vendor == "postgresql" and "\ud800" in value:
        pytest.skip("PostgreSQL text is valid UTF-8 only")
    customer = Customer.objects.create(last_name="H", address_line1=value)
    assert column("customers_customer", "address_line1")[-1].startswith("enc:v1:")
    assert Customer.objects.get(pk=customer.pk).address_line1 == value
    records = [IncomingRecord(raw={"a": value}, data={"last_name": "H", "address_line1": value})]
    source_records_attach(partner=destination.hotel, channel="import", records=records)
    record = SourceRecord.objects.latest("pk")
    assert (record.raw, record.data["address_line1"]) == ({"a": value}, value)


def test_a_huge_value_is_encrypted_whole(destination):
    value = "é" * 100_000
    stored = encrypt(value)
    assert len(stored) < 300_000 and decrypt(stored) == value
    records = [IncomingRecord(raw={"note": value}, data={"last_name": "L"})]
    source_records_attach(partner=destination.hotel, channel="import", records=records)
    assert SourceRecord.objects.get().raw == {"note": value}


def test_a_tampered_value_is_a_clear_error_not_a_wrong_answer(imported):
    stored = column("customers_customer", "email")[0]
    head, _, body = stored.rpartition(":")
    # A character in the middle (the last ones may only carry base64 padding bits).
    flipped = body[:20] + ("A" if body[20] != "A" else "B") + body[21:]
    with connection.cursor() as cur:
        cur.execute(
            "UPDATE customers_customer SET email = %s WHERE email = %s",
            [f"{head}:{flipped}", stored],
        )
    with pytest.raises(FieldKeyError, match="altérée"):
        list(Customer.objects.values_list("email", flat=True))
    for broken in (f"{head}:%%%", f"{head}:", "enc:v1:nokey:AAAA", "enc:v1:"):
        with pytest.raises(FieldKeyError):
            decrypt(broken)


def test_a_missing_key_is_a_clear_error_on_the_command_line(imported, monkeypatch):
    monkeypatch.setenv("CORDEE_FIELD_KEYS", "other:" + "A" * 43 + "=")
    keyring.cache_clear()
    with pytest.raises(CommandError, match="chiffrement des coordonnées.*absente"):
        call_command("privacy", "export", "--email", "elodie.martin@example.fr")


@pytest.mark.parametrize(
    "setting",
    ["k1", "k1:notbase64!", "k1:" + "QUJD", "K!:" + "A" * 43 + "=", ","],
)
def test_a_malformed_key_setting_is_refused_with_its_reason(monkeypatch, setting):
    monkeypatch.setenv("CORDEE_FIELD_KEYS", setting)
    keyring.cache_clear()
    with pytest.raises(FieldKeyError, match="CORDEE_FIELD_KEYS"):
        encrypt("x")


def test_keys_from_the_environment_first_is_current(monkeypatch):
    one, two = encryption.new_key(), encryption.new_key()
    b64 = base64.b64encode
    monkeypatch.setenv("CORDEE_FIELD_KEYS", f"new1:{b64(two).decode()},old1:{b64(one).decode()}")
    keyring.cache_clear()
    assert encryption.key_id_of(encrypt("x")) == "new1"
    with pytest.raises(CommandError, match="CORDEE_FIELD_KEYS"):
        call_command("privacy", "rotate-key", "--quiet", stdout=StringIO())
    printed = StringIO()
    call_command("privacy", "rotate-key", "--print-key", stdout=printed)
    key_id, _, key = printed.getvalue().strip().partition(":")
    assert len(base64.b64decode(key)) == 32 and key_id


def test_rotation_reencrypts_everything_then_the_old_key_retires(imported, destination):
    StaffTOTP.objects.create(user=destination.camille, secret="JBSWY3DPEHPK3PXP")
    old = keyring().current
    before = column("customers_customer", "email")
    out = StringIO()
    call_command("privacy", "rotate-key", "--quiet", stdout=out)
    new = keyring().current
    assert new != old and set(keyring().keys) == {new, old}
    assert "customers_customer : 2" in out.getvalue()
    after = column("customers_customer", "email")
    assert after != before and all(encryption.key_id_of(v) == new for v in after)
    assert key_usage(old) == {}
    for raw in column("customers_sourcerecord", "raw"):
        assert raw.startswith(f"enc:v1:{new}:")
    assert StaffTOTP.objects.get().secret == "JBSWY3DPEHPK3PXP"
    assert Customer.objects.get(email="hans.mueller@example.de").first_name == "Hans"
    call_command("privacy", "rotate-key", "--retire", old, stdout=StringIO())
    assert set(keyring().keys) == {new}
    assert Customer.objects.get(last_name="Martin").phone == "+33612345678"
    with pytest.raises(CommandError, match="courante"):
        call_command("privacy", "rotate-key", "--retire", new, stdout=StringIO())
    with pytest.raises(CommandError, match="inconnue"):
        call_command("privacy", "rotate-key", "--retire", "nope", stdout=StringIO())


def test_a_key_still_in_use_is_not_retired(imported):
    from cordee.privacy.rotation import key_add

    old = keyring().current
    key_add()
    with pytest.raises(
        CommandError, match=r"chiffre encore des valeurs.*customers_customer\.email"
    ):
        call_command("privacy", "rotate-key", "--retire", old, stdout=StringIO())
    assert old in keyring().keys
    status = StringIO()
    call_command("privacy", "rotate-key", "--status", stdout=status)
    assert f"clé {old} :" in status.getvalue()
    # --resume finishes the work (an interrupted rotation is resumed the same way).
    call_command("privacy", "rotate-key", "--resume", "--quiet", stdout=StringIO())
    assert key_usage(old) == {}
    call_command("privacy", "rotate-key", "--retire", old, stdout=StringIO())


def test_the_migration_encrypts_rows_written_in_clear_and_can_undo_it(imported):
    from cordee.privacy.rotation import MIGRATION_TARGETS, clear_values

    reencrypt(MIGRATION_TARGETS, mode="decrypt", batch=1)
    assert "elodie.martin@example.fr" in table_text("customers_customer", "customers_sourcerecord")
    assert clear_values()["customers_customer.email"] == 2
    # Rows in clear are still read (before the migration has run).
    assert Customer.objects.get(last_name="Martin").email == "elodie.martin@example.fr"
    counts = reencrypt(MIGRATION_TARGETS, batch=1)
    assert counts["customers_customer"] == 2 and counts["customers_sourcerecord"] == 2
    text = table_text("customers_customer", "customers_sourcerecord")
    for secret in SECRETS:
        assert secret not in text
    assert clear_values() == {}
    assert reencrypt(MIGRATION_TARGETS)["customers_customer"] == 0  # a rerun finds nothing


def test_key_file_is_private(settings):
    path = Path(settings.CORDEE_HOME) / "field_keys"
    assert path.exists() and path.stat().st_mode & 0o077 == 0


def test_the_migration_covers_every_encrypted_column():
    from cordee.privacy.rotation import MIGRATION_TARGETS, encrypted_targets

    assert {(t.table, t.columns) for t in MIGRATION_TARGETS} == {
        (t.table, t.columns) for t in encrypted_targets()
    }


def test_the_system_check_names_a_malformed_key_setting(monkeypatch):
    from django.core.checks import registry

    from cordee.privacy.apps import _field_keys_check

    assert _field_keys_check in registry.registry.registered_checks
    assert _field_keys_check() == []
    monkeypatch.setenv("CORDEE_FIELD_KEYS", "k1:c2hvcnQ=")
    keyring.cache_clear()
    (error,) = _field_keys_check()
    assert error.id == "cordee.E001" and "32 octets" in error.msg


def test_a_running_process_picks_up_a_key_another_process_added(monkeypatch):
    import time

    from cordee.privacy.encryption import key_line, new_key

    old = keyring()
    stored_before = encrypt("x@y.fr")
    # Another process (cordee privacy rotate-key) rewrites the key file; this one's cache is old.
    path = encryption.key_file()
    path.write_text(key_line("fresh1", new_key()) + "\n" + path.read_text())
    stat = path.stat()
    os.utime(path, ns=(stat.st_atime_ns, stat.st_mtime_ns + 1_000_000_000))
    assert keyring() is old  # still cached
    monkeypatch.setattr(encryption, "_checked", [0.0])  # the next check is due
    stored = encrypt("a@b.fr")
    assert encryption.key_id_of(stored) == "fresh1"
    assert decrypt(stored) == "a@b.fr" and decrypt(stored_before) == "x@y.fr"
    # A value under a key this process has never seen, before its next check: read again.
    key = new_key()
    path.write_text(key_line("fresh2", key) + "\n" + path.read_text())
    monkeypatch.setattr(encryption, "_checked", [time.monotonic()])
    sealed = AESGCM(key).encrypt(b"\0" * 12, b"lu", None)
    assert decrypt("enc:v1:fresh2:" + base64.b64encode(b"\0" * 12 + sealed).decode()) == "lu"


def test_a_child_process_given_keys_setting_reads_what_this_one_wrote(monkeypatch):
    from cordee.privacy.encryption import keys_setting

    stored = encrypt("p0@example.org")
    monkeypatch.setenv("CORDEE_FIELD_KEYS", keys_setting())
    keyring.cache_clear()
    assert keyring().source == "env" and decrypt(stored) == "p0@example.org"


@pytest.mark.parametrize("value", ["a@b.fr", "", "é\u2028\x00\ud800 x", "y" * 100_000])
def test_a_sealer_writes_what_encrypt_writes_with_a_fresh_nonce_each_time(value):
    from cordee.privacy.encryption import sealer

    seal = sealer()
    first, second = seal(value), seal(value)
    if not value:
        assert first == second == ""
        return
    assert first != second  # a fresh nonce per value, as encrypt
    assert encryption.key_id_of(first) == keyring().current
    assert decrypt(first) == decrypt(second) == decrypt(encrypt(value)) == value
    assert len(first) == len(encrypt(value))


def test_a_sealer_taken_after_a_rotation_uses_the_new_key(monkeypatch):
    from cordee.privacy.encryption import encrypt_data, key_line, new_key, sealer

    before = sealer()
    path = encryption.key_file()
    path.write_text(key_line("fresh3", new_key()) + "\n" + path.read_text())
    stat = path.stat()
    os.utime(path, ns=(stat.st_atime_ns, stat.st_mtime_ns + 1_000_000_000))
    monkeypatch.setattr(encryption, "_checked", [0.0])
    after = sealer()
    assert encryption.key_id_of(after("x")) == "fresh3"
    # One taken before still writes with its own key, which stays readable.
    assert decrypt(before("x")) == "x"
    stored = encrypt_data({"email": "a@b.fr", "last_name": "Dupont", "phone": ""}, after)
    assert encryption.key_id_of(stored["email"]) == "fresh3"
    assert stored["last_name"] == "Dupont" and stored["phone"] == ""
