"""The demo destination as data: the Val Combeyre, its tourist office, partners and users.

A fictional valley of the Savoie Alps with two resorts: Combeyre 1850 (skiing) and
Saint-Alban-du-Lac (a lake resort down the valley). Each partner exports its customers
in its own way; `FileStyle` says how, and `cordee.demo.files` renders it.
"""

from __future__ import annotations

from dataclasses import dataclass

VALLEY = "Val Combeyre"
SKI_RESORT = "Combeyre 1850"
LAKE_RESORT = "Saint-Alban-du-Lac"

# Public on purpose: the demo is for showing, its data is made up.
DEMO_PASSWORD = "cordee-demo"  # noqa: S105

PARTNER_KINDS = (
    "hub",
    "hotel",
    "campsite",
    "rental",
    "ski_school",
    "lift_operator",
    "restaurant",
    "activity",
    "shop",
    "other",
)
ROLES = ("hub_admin", "hub_marketer", "dpo", "partner_manager", "partner_staff")

# What a file column can hold; `FileStyle.columns` maps these to the partner's headers.
# "phone" is whatever number the customer gave; "mobile" and "landline" split it the way
# an older system with two phone columns does.
FIELDS = (
    "external_id",
    "civility",
    "gender",
    "first_name",
    "last_name",
    "email",
    "phone",
    "mobile",
    "landline",
    "birth_date",
    "address",
    "postcode",
    "city",
    "country",
    "language",
    "profession",
    "interests",
    "children",
    "preferred_season",
    "consent_newsletter",
    "consent_sms",
    "consent_partner_offers",
)


@dataclass(frozen=True, slots=True)
class FileStyle:
    """How one partner's customer export looks, down to its habits and its mistakes."""

    columns: tuple[tuple[str, str], ...]  # (field of FIELDS, the partner's header), in order
    id_prefix: str  # customer numbers look like "HDA-000123"
    delimiter: str = ";"
    encoding: str = "utf-8"  # "utf-8", "utf-8-sig" (with BOM) or "cp1252" (Excel, Windows)
    line_terminator: str = "\r\n"
    date_format: str = "dmy"  # "dmy" 14/03/1985, "iso" 1985-03-14, "dmy_short" 14/3/85, "dmy_dot"
    # The house habit first; the others turn up now and then, typed by other hands.
    phone_habits: tuple[str, ...] = ("spaced", "compact")
    name_case: str = "title"  # "title", "upper_last" (MARTIN Jean), "upper", "typed" (mixed)
    accents_dropped: float = 0.0  # share of rows typed on a keyboard without accents
    country_names: str = "fr"  # "fr" (Allemagne), "en" (Germany) or "iso2" (DE)
    france_blank: bool = True  # French customers' country left empty
    excel_numbers: bool = False  # went through Excel: postcodes and phones lost their 0
    yes_no: tuple[str, str] = ("oui", "non")
    civilities: tuple[str, str] = ("Mme", "M.")  # (female, male)
    genders: tuple[str, str] = ("F", "M")
    seasons: tuple[str, str, str] = ("Hiver", "Été", "Les deux")  # winter, summer, both
    language_upper: bool = False  # "FR" rather than "fr"
    duplicate_rate: float = 0.02  # share of customers the partner's system holds twice
    spreadsheet: bool = False  # the real export is an .xlsx; the demo writes it as CSV

    @property
    def headers(self) -> list[str]:
        return [header for _, header in self.columns]


@dataclass(frozen=True, slots=True)
class Partner:
    slug: str
    name: str
    kind: str  # one of PARTNER_KINDS
    resort: str
    file_style: FileStyle
    # How many visitors of each season are its customers, relative to the other partners.
    reach_winter: float
    reach_summer: float
    children: float = 1.0  # how much more than others it sees children (ski school: a lot)


@dataclass(frozen=True, slots=True)
class DemoUser:
    username: str
    first_name: str
    last_name: str
    partner_slug: str
    role: str  # one of ROLES


_FRENCH = (
    ("external_id", "N° client"),
    ("civility", "Civilité"),
    ("first_name", "Prénom"),
    ("last_name", "Nom"),
    ("email", "Email"),
    ("phone", "Téléphone"),
    ("birth_date", "Date de naissance"),
    ("address", "Adresse"),
    ("postcode", "CP"),
    ("city", "Ville"),
    ("country", "Pays"),
    ("language", "Langue"),
    ("consent_newsletter", "Newsletter"),
)

PARTNERS: tuple[Partner, ...] = (
    Partner(
        "office",
        f"Office de tourisme du {VALLEY}",
        "hub",
        "",
        # The newsletter and contest sign-ups of the office's website: canonical names.
        FileStyle(
            columns=(
                ("external_id", "external_id"),
                ("first_name", "first_name"),
                ("last_name", "last_name"),
                ("email", "email"),
                ("phone", "phone"),
                ("birth_date", "birth_date"),
                ("postcode", "postal_code"),
                ("city", "city"),
                ("country", "country"),
                ("language", "language"),
                ("interests", "interests"),
                ("preferred_season", "preferred_season"),
                ("consent_newsletter", "consent_newsletter"),
                ("consent_partner_offers", "consent_partner_offers"),
            ),
            id_prefix="OT",
            delimiter=",",
            line_terminator="\n",
            date_format="iso",
            phone_habits=("e164", "spaced", "compact"),
            country_names="iso2",
            france_blank=False,
            yes_no=("true", "false"),
            seasons=("winter", "summer", "both"),
            duplicate_rate=0.05,  # people enter each contest again
        ),
        reach_winter=3,
        reach_summer=3,
    ),
    Partner(
        "hotel-des-alpes",
        "Hôtel des Alpes",
        "hotel",
        SKI_RESORT,
        FileStyle(
            columns=_FRENCH,
            id_prefix="HDA",
            encoding="cp1252",
            phone_habits=("spaced", "compact", "intl_spaced"),
        ),
        reach_winter=4,
        reach_summer=2,
    ),
    Partner(
        "camping-du-lac",
        "Camping du Lac",
        "campsite",
        LAKE_RESORT,
        FileStyle(
            columns=(
                ("external_id", "Customer ID"),
                ("civility", "Title"),
                ("first_name", "First name"),
                ("last_name", "Last name"),
                ("email", "Email"),
                ("phone", "Phone"),
                ("birth_date", "Date of birth"),
                ("address", "Address"),
                ("postcode", "Postcode"),
                ("city", "City"),
                ("country", "Country"),
                ("language", "Language"),
                ("consent_newsletter", "Newsletter"),
            ),
            id_prefix="CDL",
            delimiter=",",
            line_terminator="\n",
            date_format="iso",
            phone_habits=("intl_spaced", "compact", "e164"),
            country_names="en",
            france_blank=False,
            yes_no=("yes", "no"),
            civilities=("Mrs", "Mr"),
        ),
        reach_winter=0,
        reach_summer=5,
        children=1.3,
    ),
    Partner(
        "combeyre-locations",
        "Combeyre Locations",
        "rental",
        SKI_RESORT,
        # An old rental-agency system, exported through Excel on a French Windows PC.
        FileStyle(
            columns=(
                ("external_id", "CODE CLIENT"),
                ("last_name", "NOM"),
                ("first_name", "PRENOM"),
                ("landline", "TEL"),
                ("mobile", "PORTABLE"),
                ("email", "EMAIL"),
                ("birth_date", "DATE DE NAISSANCE"),
                ("address", "ADRESSE"),
                ("postcode", "CP"),
                ("city", "VILLE"),
                ("country", "PAYS"),
                ("consent_sms", "OPT-IN SMS"),
            ),
            id_prefix="LOC",
            encoding="cp1252",
            date_format="dmy_short",
            phone_habits=("excel", "spaced"),
            name_case="upper",
            accents_dropped=1.0,
            excel_numbers=True,
            yes_no=("x", ""),
            duplicate_rate=0.04,
            spreadsheet=True,
        ),
        reach_winter=4,
        reach_summer=3,
    ),
    Partner(
        "ecole-de-ski",
        "École de ski",
        "ski_school",
        SKI_RESORT,
        FileStyle(
            columns=(
                ("external_id", "Code client"),
                ("last_name", "Nom"),
                ("first_name", "Prénom"),
                ("birth_date", "Date de naissance"),
                ("gender", "Sexe"),
                ("email", "Courriel"),
                ("mobile", "Portable"),
                ("postcode", "Code postal"),
                ("city", "Ville"),
                ("country", "Pays"),
                ("consent_newsletter", "Newsletter"),
            ),
            id_prefix="EDS",
            encoding="utf-8-sig",
            date_format="dmy_dot",
            phone_habits=("dotted", "spaced"),
            name_case="upper_last",
            accents_dropped=0.3,
        ),
        reach_winter=5,
        reach_summer=0,
        children=4,
    ),
    Partner(
        "remontees",
        "Remontées mécaniques",
        "lift_operator",
        SKI_RESORT,
        FileStyle(
            columns=(
                ("external_id", "Customer ID"),
                ("first_name", "First name"),
                ("last_name", "Last name"),
                ("email", "Email"),
                ("mobile", "Mobile"),
                ("birth_date", "Birth date"),
                ("postcode", "Zip code"),
                ("country", "Country"),
                ("consent_sms", "Opt-in SMS"),
            ),
            id_prefix="RM",
            delimiter="\t",
            line_terminator="\n",
            date_format="iso",
            phone_habits=("intl_00", "intl_spaced"),
            country_names="iso2",
            france_blank=False,
            yes_no=("1", "0"),
        ),
        reach_winter=8,
        reach_summer=0.5,
        children=1.5,
    ),
    Partner(
        "table-du-lac",
        "La Table du Lac",
        "restaurant",
        LAKE_RESORT,
        # Bookings typed by whoever answered the phone.
        FileStyle(
            columns=(
                ("external_id", "Code client"),
                ("last_name", "Nom"),
                ("first_name", "Prénom"),
                ("email", "E-mail"),
                ("phone", "Téléphone"),
                ("consent_newsletter", "Newsletter"),
            ),
            id_prefix="TDL",
            line_terminator="\n",
            phone_habits=("compact", "spaced", "dotted"),
            name_case="typed",
            accents_dropped=0.4,
            yes_no=("x", ""),
            duplicate_rate=0.06,
        ),
        reach_winter=1,
        reach_summer=3,
        children=0.3,
    ),
    Partner(
        "ecole-de-voile",
        "École de voile et de paddle du lac",
        "activity",
        LAKE_RESORT,
        FileStyle(
            columns=(
                ("external_id", "N° client"),
                ("first_name", "Prénom"),
                ("last_name", "Nom"),
                ("birth_date", "Date de naissance"),
                ("email", "E-mail"),
                ("phone", "Téléphone"),
                ("city", "Ville"),
                ("postcode", "Code postal"),
                ("country", "Pays"),
                ("consent_newsletter", "Newsletter"),
            ),
            id_prefix="EVP",
            delimiter=",",
            encoding="utf-8-sig",
            phone_habits=("compact", "spaced"),
        ),
        reach_winter=0,
        reach_summer=4,
        children=2.5,
    ),
    Partner(
        "bureau-des-guides",
        "Bureau des guides",
        "activity",
        SKI_RESORT,
        FileStyle(
            columns=(
                ("external_id", "Customer ID"),
                ("gender", "Gender"),
                ("first_name", "First name"),
                ("last_name", "Last name"),
                ("birth_date", "Date of birth"),
                ("email", "Email"),
                ("phone", "Phone"),
                ("address", "Address"),
                ("postcode", "Zip code"),
                ("city", "City"),
                ("country", "Country"),
                ("language", "Language"),
                ("consent_partner_offers", "consent_partner_offers"),
            ),
            id_prefix="BDG",
            phone_habits=("intl_paren", "spaced"),
            country_names="en",
            yes_no=("yes", "no"),
            genders=("Female", "Male"),
            language_upper=True,
        ),
        reach_winter=1.5,
        reach_summer=2,
        children=0.5,
    ),
    Partner(
        "combeyre-sports",
        "Combeyre Sports",
        "shop",
        SKI_RESORT,
        FileStyle(
            columns=(
                ("external_id", "Code client"),
                ("civility", "Civilité"),
                ("last_name", "Nom"),
                ("first_name", "Prénom"),
                ("phone", "Téléphone"),
                ("email", "E-mail"),
                ("postcode", "Code postal"),
                ("city", "Ville"),
                ("country", "Pays"),
                ("consent_newsletter", "Newsletter"),
            ),
            id_prefix="CS",
            delimiter="\t",
            phone_habits=("spaced", "intl_spaced", "compact"),
            name_case="upper_last",
            country_names="iso2",
            yes_no=("1", "0"),
            civilities=("Madame", "Monsieur"),
        ),
        reach_winter=4,
        reach_summer=1,
    ),
    Partner(
        "spa-des-cretes",
        "Spa des Crêtes",
        "other",
        SKI_RESORT,
        FileStyle(
            columns=(
                ("external_id", "N° client"),
                ("civility", "Civilité"),
                ("first_name", "Prénom"),
                ("last_name", "Nom"),
                ("birth_date", "Date de naissance"),
                ("email", "Courriel"),
                ("mobile", "Portable"),
                ("city", "Ville"),
                ("profession", "Profession"),
                ("consent_newsletter", "Newsletter"),
                ("consent_partner_offers", "consent_partner_offers"),
            ),
            id_prefix="SPA",
            encoding="cp1252",
            date_format="dmy_dot",
            phone_habits=("intl_spaced", "spaced"),
            civilities=("Madame", "Monsieur"),
        ),
        reach_winter=2,
        reach_summer=1,
        children=0.1,
    ),
    Partner(
        "envol-parapente",
        "Envol Parapente",
        "activity",
        LAKE_RESORT,
        FileStyle(
            columns=(
                ("first_name", "First name"),
                ("last_name", "Last name"),
                ("email", "E-mail"),
                ("phone", "Phone"),
                ("birth_date", "Date of birth"),
                ("country", "Country"),
                ("external_id", "Customer ID"),
            ),
            id_prefix="EP",
            delimiter=",",
            line_terminator="\n",
            date_format="iso",
            phone_habits=("intl_00", "compact"),
            name_case="typed",
            country_names="en",
            duplicate_rate=0.03,
        ),
        reach_winter=0.3,
        reach_summer=2,
        children=0.2,
    ),
    Partner(
        "golf-du-lac",
        "Golf du Lac",
        "activity",
        LAKE_RESORT,
        FileStyle(
            columns=(
                ("external_id", "Customer ID"),
                ("civility", "Title"),
                ("last_name", "Last name"),
                ("first_name", "First name"),
                ("email", "Email"),
                ("phone", "Phone"),
                ("birth_date", "Birth date"),
                ("address", "Address"),
                ("postcode", "Postcode"),
                ("city", "City"),
                ("country", "Country"),
                ("profession", "Profession"),
                ("children", "Enfants"),
                ("preferred_season", "Saison préférée"),
            ),
            id_prefix="GDL",
            delimiter=",",
            encoding="utf-8-sig",
            line_terminator="\n",
            date_format="iso",
            phone_habits=("intl_spaced", "spaced"),
            country_names="en",
            civilities=("Mrs", "Mr"),
        ),
        reach_winter=0,
        reach_summer=1.5,
        children=0.1,
    ),
)

PARTNERS_BY_SLUG: dict[str, Partner] = {partner.slug: partner for partner in PARTNERS}
OFFICE = PARTNERS_BY_SLUG["office"]

DEMO_USERS: tuple[DemoUser, ...] = (
    DemoUser("camille", "Camille", "Perrin", "office", "hub_admin"),
    DemoUser("thomas", "Thomas", "Favre", "office", "hub_admin"),
    DemoUser("marc", "Marc", "Dunand", "office", "hub_marketer"),
    DemoUser("julie", "Julie", "Mugnier", "office", "hub_marketer"),
    DemoUser("sophie", "Sophie", "Bernard", "office", "dpo"),
    DemoUser("karim", "Karim", "Benali", "office", "dpo"),
    DemoUser("helene", "Hélène", "Perrillat", "hotel-des-alpes", "partner_manager"),
    DemoUser("nadia", "Nadia", "Chappaz", "camping-du-lac", "partner_manager"),
    DemoUser("pierre", "Pierre", "Jacquier", "ecole-de-ski", "partner_manager"),
    DemoUser("lucas", "Lucas", "Pollet", "ecole-de-ski", "partner_staff"),
    DemoUser("emma", "Emma", "Baud", "hotel-des-alpes", "partner_staff"),
    DemoUser("hugo", "Hugo", "Mermillod", "remontees", "partner_staff"),
)
