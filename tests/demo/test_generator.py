"""The demo generator: believable people, households, partner files and their ground truth.

Pure tests (no database): run with `pytest tests/demo -p no:django`.
"""

from __future__ import annotations

import csv
import datetime
import re
from collections import Counter, defaultdict
from collections.abc import Iterator
from itertools import islice
from pathlib import Path

import phonenumbers
import pytest

from cordee.demo import names
from cordee.demo.files import (
    BENCH_STYLE,
    DemoFiles,
    Noise,
    build_demo_files,
    load_truth,
    partner_rows,
    write_bench_file,
    write_partner_file,
)
from cordee.demo.people import FAMILY_SITUATIONS, SEASONS, Person, generate_people
from cordee.demo.places import DEPARTEMENT_POPULATION
from cordee.demo.render import DATE_FORMATS, PHONE_HABITS, format_phone
from cordee.demo.text import strip_accents
from cordee.demo.valley import (
    DEMO_USERS,
    FIELDS,
    OFFICE,
    PARTNER_KINDS,
    PARTNERS,
    PARTNERS_BY_SLUG,
    ROLES,
    FileStyle,
    Partner,
)

TODAY = datetime.date(2026, 11, 22)

# The headers the importer recognises (from the import brief) and the canonical names.
RECOGNISED_HEADERS = {
    "Prénom", "Nom", "E-mail", "Courriel", "Téléphone", "Portable", "Date de naissance",
    "Adresse", "CP", "Code postal", "Ville", "Pays", "Civilité", "Sexe", "Langue",
    "N° client", "Code client", "First name", "Last name", "Email", "Phone", "Mobile",
    "Birth date", "Date of birth", "Address", "Postcode", "Zip code", "City", "Country",
    "Title", "Gender", "Language", "Customer ID", "Profession", "Centres d'intérêt",
    "Enfants", "Saison préférée", "Newsletter", "consent_newsletter", "Opt-in SMS",
    "consent_partner_offers", "external_id", "first_name", "last_name", "email", "phone",
    "birth_date", "postal_code", "city", "country", "language", "interests",
    "preferred_season", "TEL", "PORTABLE",
}  # fmt: skip


def people(n: int, seed: int = 0) -> list[Person]:
    return list(generate_people(n, seed=seed, today=TODAY))


@pytest.fixture(scope="module")
def crowd() -> list[Person]:
    return people(20_000, seed=7)


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory) -> DemoFiles:
    directory = tmp_path_factory.mktemp("demo")
    return build_demo_files(directory, customers=4_000, seed=11, today=TODAY)


def read_file(path: Path, style: FileStyle) -> list[dict[str, str]]:
    with path.open(encoding=style.encoding, newline="") as handle:
        return list(csv.DictReader(handle, delimiter=style.delimiter))


def households(crowd: list[Person]) -> dict[int, list[Person]]:
    grouped: dict[int, list[Person]] = defaultdict(list)
    for person in crowd:
        grouped[person.household_id].append(person)
    return grouped


def age(person: Person) -> float:
    assert person.birth_date is not None
    return (TODAY - person.birth_date).days / 365.2425


# -- the valley -------------------------------------------------------------------------


def test_the_valley_has_a_hub_and_a_dozen_partners_of_known_kinds() -> None:
    assert OFFICE.kind == "hub"
    assert [p.kind for p in PARTNERS].count("hub") == 1
    assert len(PARTNERS) >= 12
    assert {p.kind for p in PARTNERS} <= set(PARTNER_KINDS)
    assert len(PARTNERS_BY_SLUG) == len(PARTNERS)
    assert PARTNERS_BY_SLUG["hotel-des-alpes"].name == "Hôtel des Alpes"
    assert PARTNERS_BY_SLUG["ecole-de-ski"].name == "École de ski"
    assert PARTNERS_BY_SLUG["remontees"].kind == "lift_operator"


def test_every_file_style_uses_known_fields_and_recognised_headers() -> None:
    for partner in PARTNERS:
        style = partner.file_style
        fields = [field for field, _ in style.columns]
        assert set(fields) <= set(FIELDS), partner.slug
        assert "external_id" in fields, partner.slug
        shouted = {strip_accents(header).upper() for header in RECOGNISED_HEADERS}
        assert set(style.headers) <= RECOGNISED_HEADERS | shouted, partner.slug
        assert style.date_format in DATE_FORMATS, partner.slug
        assert set(style.phone_habits) <= set(PHONE_HABITS), partner.slug
        assert style.encoding in ("utf-8", "utf-8-sig", "cp1252"), partner.slug
        assert style.delimiter in (";", ",", "\t"), partner.slug


def test_demo_users_cover_every_role_two_or_three_times() -> None:
    roles = Counter(user.role for user in DEMO_USERS)
    assert set(roles) == set(ROLES)
    assert all(2 <= count <= 3 for count in roles.values())
    assert all(user.partner_slug in PARTNERS_BY_SLUG for user in DEMO_USERS)
    hub_roles = {"hub_admin", "hub_marketer", "dpo"}
    for user in DEMO_USERS:
        assert (user.partner_slug == "office") == (user.role in hub_roles), user.username
    assert len({user.username for user in DEMO_USERS}) == len(DEMO_USERS)


# -- people -----------------------------------------------------------------------------


def test_people_are_the_same_for_the_same_seed() -> None:
    assert people(2_000, seed=3) == people(2_000, seed=3)
    assert people(200, seed=3) != people(200, seed=4)


def test_the_first_people_do_not_depend_on_how_many_are_asked() -> None:
    assert people(700, seed=5) == people(3_000, seed=5)[:700]
    assert len(people(1)) == 1
    assert people(0) == []


def test_ids_are_sequential_and_households_contiguous(crowd: list[Person]) -> None:
    assert [p.person_id for p in crowd] == list(range(1, len(crowd) + 1))
    household_ids = [p.household_id for p in crowd]
    assert household_ids == sorted(household_ids)


def test_values_stay_in_their_vocabularies(crowd: list[Person]) -> None:
    interests = set(names.INTERESTS)
    for person in crowd:
        assert person.civility == ("MME" if person.gender == "F" else "M")
        assert person.preferred_season in SEASONS
        assert person.family_situation in FAMILY_SITUATIONS
        assert set(person.interests) <= interests and 1 <= len(person.interests) <= 4
        assert re.fullmatch(r"[a-z]{2}", person.language)
        assert re.fullmatch(r"[A-Z]{2}", person.country)
        assert person.children >= 0


def test_about_half_of_people_live_in_households_of_two_to_five(crowd: list[Person]) -> None:
    sizes = Counter(len(members) for members in households(crowd).values())
    assert max(sizes) <= 5
    in_households = sum(size * count for size, count in sizes.items() if size >= 2)
    assert 0.48 < in_households / len(crowd) < 0.62


def test_a_household_shares_one_address(crowd: list[Person]) -> None:
    for members in households(crowd).values():
        addresses = {(p.address_line1, p.postal_code, p.city, p.country) for p in members}
        assert len(addresses) == 1


def test_children_are_minors_carrying_a_parents_surname(crowd: list[Person]) -> None:
    children = 0
    for members in households(crowd).values():
        adults = [p for p in members if p.birth_date is None or age(p) >= 18]
        for child in (p for p in members if p.birth_date and age(p) < 18):
            children += 1
            assert child.email is None or child.email in {a.email for a in adults}
            parent_names = {a.last_name for a in adults}
            assert child.last_name in parent_names or any(
                child.last_name.startswith(f"{name}-") for name in parent_names
            )
    assert children > 0.1 * len(crowd)


def test_the_hard_cases_of_identity_resolution_are_there(crowd: list[Person]) -> None:
    twins = namesakes_at_home = family_mailboxes = 0
    for members in households(crowd).values():
        births = Counter((p.birth_date, p.last_name) for p in members if p.birth_date)
        twins += any(count >= 2 for count in births.values())
        full_names = Counter((p.first_name, p.last_name) for p in members)
        namesakes_at_home += any(count >= 2 for count in full_names.values())
        family_mailboxes += any(p.email and p.email.startswith("famille.") for p in members)
    assert twins >= 10
    assert namesakes_at_home >= 10
    assert family_mailboxes >= 10


def test_namesakes_happen_between_strangers(crowd: list[Person]) -> None:
    by_name: dict[tuple[str, str], set[int]] = defaultdict(set)
    for person in crowd:
        by_name[person.first_name, person.last_name].add(person.household_id)
    strangers = sum(1 for households_ in by_name.values() if len(households_) >= 2)
    assert strangers > 100


def test_name_lists_are_large_enough() -> None:
    surnames = {s for group in names.SURNAMES.values() for s in group}
    firsts = set(names.FR_FEMALE_OLDER + names.FR_FEMALE_YOUNGER)
    firsts |= set(names.FR_MALE_OLDER + names.FR_MALE_YOUNGER)
    for female, male in names.FIRST_NAMES.values():
        firsts |= set(female) | set(male)
    assert len(surnames) >= 300 and len(firsts) >= 200
    for wanted in ("Élodie", "Jean-Luc", "Hélène", "Anaïs", "François", "Zoé"):
        assert wanted in firsts
    for wanted in ("Lefèvre", "de La Fontaine", "N'Diaye", "Le Goff", "Gauthier"):
        assert wanted in surnames


def test_emails_are_unique_except_a_familys(crowd: list[Person]) -> None:
    owners: dict[str, set[int]] = defaultdict(set)
    for person in crowd:
        if person.email:
            owners[person.email].add(person.household_id)
            assert re.fullmatch(r"[a-z0-9._'-]+@[a-z0-9.-]+\.[a-z]{2,}", person.email)
    assert all(len(households_) == 1 for households_ in owners.values())


def test_about_one_in_ten_has_no_email_and_fewer_than_one_in_five_no_phone(
    crowd: list[Person],
) -> None:
    without_email = sum(p.email is None for p in crowd) / len(crowd)
    without_phone = sum(p.phone is None for p in crowd) / len(crowd)
    assert 0.06 < without_email < 0.16
    assert 0.08 < without_phone < 0.20


def test_phones_are_valid_numbers_of_the_visitors_country(crowd: list[Person]) -> None:
    phones = [p for p in crowd if p.phone][:3_000]
    for person in phones:
        parsed = phonenumbers.parse(person.phone)
        assert phonenumbers.is_valid_number(parsed), person.phone
        assert phonenumbers.region_code_for_number(parsed) == person.country, person.phone


def test_phones_are_not_shared_outside_a_household(crowd: list[Person]) -> None:
    owners: dict[str, set[int]] = defaultdict(set)
    for person in crowd:
        if person.phone:
            owners[person.phone].add(person.household_id)
    assert all(len(households_) == 1 for households_ in owners.values())


def test_seven_in_ten_visitors_are_french_many_from_paris_and_the_alps(
    crowd: list[Person],
) -> None:
    countries = Counter(p.country for p in crowd)
    assert 0.64 < countries["FR"] / len(crowd) < 0.76
    assert {"BE", "CH", "DE", "NL", "GB", "IT", "ES", "US"} <= set(countries)
    french = [p for p in crowd if p.country == "FR"]
    departements = Counter(p.postal_code[:2] for p in french)
    paris_region = sum(departements[d] for d in ("75", "77", "78", "91", "92", "93", "94", "95"))
    alps = sum(departements[d] for d in ("01", "07", "26", "38", "42", "69", "73", "74"))
    assert 0.15 < paris_region / len(french) < 0.35
    assert 0.12 < alps / len(french) < 0.30
    assert len({p.city for p in french}) > 1_000
    assert set(departements) <= set(DEPARTEMENT_POPULATION) | {"20"}  # Corsica: 20xxx


# -- partner files ----------------------------------------------------------------------


def test_phone_habits_are_written_as_people_write_them() -> None:
    mobile = "+33612345678"
    assert format_phone(mobile, "spaced") == "06 12 34 56 78"
    assert format_phone(mobile, "dotted") == "06.12.34.56.78"
    assert format_phone(mobile, "compact") == "0612345678"
    assert format_phone(mobile, "intl_spaced") == "+33 6 12 34 56 78"
    assert format_phone(mobile, "intl_paren") == "+33 (0)6 12 34 56 78"
    assert format_phone(mobile, "intl_00") == "0033612345678"
    assert format_phone(mobile, "excel") == "612345678"
    assert format_phone(mobile, "e164") == mobile
    assert format_phone("+41791234567", "intl_00") == "0041791234567"
    assert format_phone("+12125550123", "e164") == "+12125550123"


def test_every_person_is_a_customer_of_one_to_four_partners(demo: DemoFiles) -> None:
    partners: dict[int, set[str]] = defaultdict(set)
    for partner, _, person_id, _ in demo.truth.rows():
        partners[person_id].add(partner)
    assert len(partners) == demo.people
    counts = Counter(len(known) for known in partners.values())
    assert set(counts) <= {1, 2, 3, 4}
    assert counts[2] + counts[3] + counts[4] > 0.4 * demo.people


def test_every_file_reads_back_in_its_own_encoding_and_dialect(demo: DemoFiles) -> None:
    assert [file.partner for file in demo.files] == [p.slug for p in PARTNERS]
    for file in demo.files:
        style = PARTNERS_BY_SLUG[file.partner].file_style
        raw = file.path.read_bytes()
        assert raw.startswith(b"\xef\xbb\xbf") == (style.encoding == "utf-8-sig"), file.partner
        assert (b"\r\n" in raw) == (style.line_terminator == "\r\n"), file.partner
        rows = read_file(file.path, style)
        assert len(rows) == file.lines > 0, file.partner
        with file.path.open(encoding=style.encoding, newline="") as handle:
            assert next(csv.reader(handle, delimiter=style.delimiter)) == style.headers


def test_the_ground_truth_names_every_row_and_reads_back_from_its_csv(
    demo: DemoFiles,
) -> None:
    crowd = {p.person_id: p for p in people(demo.people, seed=11)}
    total = 0
    for file in demo.files:
        style = PARTNERS_BY_SLUG[file.partner].file_style
        id_header = dict(style.columns)["external_id"]
        for row in read_file(file.path, style):
            person_id = demo.truth[file.partner, row[id_header]]
            assert demo.truth.household_id(person_id) == crowd[person_id].household_id
            total += 1
    assert total == len(demo.truth) == sum(file.lines for file in demo.files)
    reloaded = load_truth(demo.truth_path)
    assert len(reloaded) == len(demo.truth)
    assert sorted(reloaded.rows()) == sorted(demo.truth.rows())
    with pytest.raises(KeyError):
        demo.truth["hotel-des-alpes", "HDA-999999"]


def test_a_person_keeps_one_id_per_partner_unless_entered_twice(demo: DemoFiles) -> None:
    ids: dict[tuple[str, int], list[str]] = defaultdict(list)
    for partner, external, person_id, _ in demo.truth.rows():
        ids[partner, person_id].append(external)
    entered_twice = sum(1 for known in ids.values() if len(known) > 1)
    assert 0 < entered_twice < 0.1 * len(ids)
    assert len(set(demo.truth)) == len(demo.truth)  # no id is given twice


def test_one_person_is_written_differently_in_different_files(demo: DemoFiles) -> None:
    spellings: dict[int, set[tuple[str, str]]] = defaultdict(set)
    emails: dict[int, set[str]] = defaultdict(set)
    for file in demo.files:
        style = PARTNERS_BY_SLUG[file.partner].file_style
        headers = dict(style.columns)
        for row in read_file(file.path, style):
            person_id = demo.truth[file.partner, row[headers["external_id"]]]
            spellings[person_id].add((row[headers["first_name"]], row[headers["last_name"]]))
            if "email" in headers and row[headers["email"]]:
                emails[person_id].add(row[headers["email"]])
    varied = sum(1 for names_ in spellings.values() if len(names_) > 1)
    assert varied > 0.2 * len(spellings)
    assert any(len(addresses) > 1 for addresses in emails.values())


def test_excel_styles_lose_leading_zeros_and_accents(demo: DemoFiles) -> None:
    rentals = next(f for f in demo.files if f.partner == "combeyre-locations")
    rows = read_file(rentals.path, PARTNERS_BY_SLUG["combeyre-locations"].file_style)
    assert any(len(row["CP"]) == 4 and row["CP"].isdigit() for row in rows)
    assert any(re.fullmatch(r"[67]\d{8}", row["PORTABLE"]) for row in rows)
    assert all(row["NOM"] == strip_accents(row["NOM"]).upper() for row in rows)
    assert any(re.fullmatch(r"\d{1,2}/\d{1,2}/\d\d", row["DATE DE NAISSANCE"]) for row in rows)


def _rows_against_people(
    partner: Partner, noise: Noise, n: int = 6_000
) -> Iterator[tuple[dict[str, str], Person]]:
    crowd = people(n, seed=2)
    by_id = {p.person_id: p for p in crowd}
    for row, truth in partner_rows(crowd, partner, seed=2, noise=noise, today=TODAY):
        yield row, by_id[truth.person_id]


EVERYTHING = Partner(
    "everything",
    "Tout",
    "other",
    "",
    FileStyle(
        columns=tuple((field, field) for field in FIELDS),
        id_prefix="T",
        date_format="iso",
        duplicate_rate=0,
    ),
    1,
    1,
)


def test_missing_fields_and_typos_come_at_the_configured_rates() -> None:
    noise = Noise(missing=0.10, typo=0.03, swapped_names=0.01)
    rows = list(_rows_against_people(EVERYTHING, noise))
    assert len(rows) == 6_000  # a partner outside the valley knows everyone
    with_email = [(row, p) for row, p in rows if p.email]
    missing = sum(row["email"] == "" for row, _ in with_email) / len(with_email)
    assert 0.08 < missing < 0.12
    cities = sum(row["city"] == "" for row, _ in rows) / len(rows)
    assert 0.08 < cities < 0.12
    swapped = sum(
        (row["first_name"], row["last_name"]) == (p.last_name, p.first_name)
        and p.first_name != p.last_name
        for row, p in rows
    )
    typos = sum(
        {row["first_name"], row["last_name"]} != {p.first_name, p.last_name} for row, p in rows
    )
    assert 0.005 < swapped / len(rows) < 0.02
    assert 0.02 < typos / len(rows) < 0.04


def test_broken_values_appear_when_asked_for() -> None:
    noise = Noise(impossible_date=0.2, invalid_email=0.2)
    rows = list(islice(_rows_against_people(EVERYTHING, noise, 2_000), 2_000))
    emails = [row["email"] for row, p in rows if row["email"]]
    broken = [e for e in emails if not re.fullmatch(r"\s*[^@\s]+@[^@\s]+\.[a-z]+\s*", e, re.I)]
    assert 0.12 < len(broken) / len(emails) < 0.28
    dates = [row["birth_date"] for row, _ in rows if row["birth_date"]]
    impossible = 0
    for text in dates:
        try:
            datetime.date.fromisoformat(text)
        except ValueError:
            impossible += 1
    assert 0.12 < impossible / len(dates) < 0.28


def test_a_share_of_the_customers_makes_a_smaller_export() -> None:
    crowd = people(3_000, seed=9)
    hotel = PARTNERS_BY_SLUG["hotel-des-alpes"]
    full = list(partner_rows(crowd, hotel, seed=9, share=1.0, today=TODAY))
    half = list(partner_rows(crowd, hotel, seed=9, share=0.5, today=TODAY))
    assert 0.4 < len(half) / len(full) < 0.6
    assert {t.person_id for _, t in half} <= {t.person_id for _, t in full}
    assert list(full[0][0]) == hotel.file_style.headers


def test_windows_1252_files_replace_what_they_cannot_hold(tmp_path: Path) -> None:
    style = PARTNERS_BY_SLUG["hotel-des-alpes"].file_style
    assert style.encoding == "cp1252"
    path = tmp_path / "hotel.csv"
    rows = [{"Nom": "Erdős", "Prénom": "Zoé 😀", "Ville": "Œuilly"}]
    assert write_partner_file(path, rows, style=style) == 1
    (row,) = read_file(path, style)
    assert (row["Nom"], row["Prénom"], row["Ville"]) == ("Erdos", "Zoé ?", "Œuilly")


def test_the_spreadsheet_partner_can_be_written_as_xlsx(tmp_path: Path) -> None:
    openpyxl = pytest.importorskip("openpyxl")
    partner = next(p for p in PARTNERS if p.file_style.spreadsheet)
    rows = [row for row, _ in partner_rows(people(500), partner, seed=0, today=TODAY)]
    book = openpyxl.Workbook()
    sheet = book.active
    sheet.append(partner.file_style.headers)
    for row in rows:
        sheet.append([row[header] for header in partner.file_style.headers])
    book.save(tmp_path / "export.xlsx")
    back = openpyxl.load_workbook(tmp_path / "export.xlsx", read_only=True).active
    values = [[cell or "" for cell in line] for line in back.iter_rows(values_only=True)]
    assert values[0] == partner.file_style.headers
    assert values[1:] == [list(row.values()) for row in rows]


def test_the_bench_file_has_the_lines_asked_for_a_fifth_of_them_repeats(
    tmp_path: Path,
) -> None:
    path = write_bench_file(tmp_path / "bench.csv", lines=5_000, seed=1)
    rows = read_file(path, BENCH_STYLE)
    assert len(rows) == 5_000
    truth = load_truth(tmp_path / "bench.truth.csv")
    seen: set[int] = set()
    repeats = 0
    for row in rows:
        person_id = truth["bench", row["N° client"]]
        repeats += person_id in seen
        seen.add(person_id)
    assert 0.17 < repeats / len(rows) < 0.23
    assert any(row["N° client"].startswith("WEB-") for row in rows)
