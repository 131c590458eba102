"""Build the commune list shipped with Cordée from the npm package `codes-postaux`.

Usage (the package is fetched once by hand, nothing downloads at run time):

    cd "$(mktemp -d)" && npm pack codes-postaux && tar xzf codes-postaux-*.tgz
    .venv/bin/python scripts/build_communes.py "$PWD/package"

Writes src/cordee/collect/normalise/data/communes.csv.gz (insee, name, postcode,
departement, label) and the attribution file beside it. ``label`` is La Poste's
delivery name ("libellé d'acheminement", e.g. 'ROCHE SUR YON (LA)'), kept only when it
does not already match the commune's name: people copy it from envelopes.
"""

from __future__ import annotations

import argparse
import csv
import gzip
import io
import json
import re
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "src"))

from cordee.collect.normalise.text import lookup_key  # noqa: E402 (needs the path above)

DATA = ROOT / "src" / "cordee" / "collect" / "normalise" / "data"
FIVE_CHARS = re.compile(r"[0-9][0-9AB][0-9]{3}")

ATTRIBUTION = """\
communes.csv.gz is derived from the npm package codes-postaux {version}
({homepage}),
file codes-postaux.json, converted by scripts/build_communes.py (columns kept: commune
code, commune name, postcode, delivery name; département derived from the commune code).

Its data is produced from INSEE's Code officiel géographique and DGFiP's FIMOCT file,
both published on data.gouv.fr under the Licence Ouverte / Open Licence (Etalab):
https://www.etalab.gouv.fr/licence-ouverte-open-licence/
(sources as stated in the package README and in the maintainers' pull request
https://github.com/BaseAdresseNationale/codes-postaux/pull/23).

The package itself declares the MIT licence (package.json "license": "{license}");
its LICENSE file, reproduced as shipped:

{mit}"""


def departement(insee: str) -> str:
    # Overseas départements have three-character codes (971 Guadeloupe ... 976 Mayotte).
    return insee[:3] if insee.startswith("97") else insee[:2]


def rows(records: list[dict[str, str]]) -> list[tuple[str, str, str, str, str]]:
    out = set()
    for record in records:
        insee, postcode = record["codeCommune"], record["codePostal"]
        name, delivery = record["nomCommune"].strip(), record["libelleAcheminement"].strip()
        if not (FIVE_CHARS.fullmatch(insee) and postcode.isdigit() and len(postcode) == 5):
            raise SystemExit(f"unexpected record: {record}")
        label = delivery if lookup_key(delivery) != lookup_key(name) else ""
        out.add((insee, name, postcode, departement(insee), label))
    return sorted(out, key=lambda row: (row[2], row[0]))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("package", type=Path, help="the unpacked npm package directory")
    args = parser.parse_args()
    meta = json.loads((args.package / "package.json").read_text(encoding="utf-8"))
    records = json.loads((args.package / "codes-postaux.json").read_text(encoding="utf-8"))
    table = rows(records)

    text = io.StringIO()
    writer = csv.writer(text, lineterminator="\n")
    writer.writerow(["insee", "name", "postcode", "departement", "label"])
    writer.writerows(table)
    DATA.mkdir(parents=True, exist_ok=True)
    # mtime=0: the same input gives the same bytes, so git sees no spurious change.
    with gzip.GzipFile(DATA / "communes.csv.gz", "wb", compresslevel=9, mtime=0) as fh:
        fh.write(text.getvalue().encode("utf-8"))
    (DATA / "LICENCE-codes-postaux.txt").write_text(
        ATTRIBUTION.format(
            version=meta["version"],
            homepage=meta["homepage"],
            license=meta["license"],
            mit=(args.package / "LICENSE").read_text(encoding="utf-8").strip() + "\n",
        ),
        encoding="utf-8",
    )
    print(f"{len(table)} (commune, postcode) rows from codes-postaux {meta['version']}")


if __name__ == "__main__":
    main()
