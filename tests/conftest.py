"""The seeded destination every test starts from, with named people at each access level.

The tourist office (hub) with Camille (admin), Marc (marketer) and Sophie (DPO); Hôtel des
Alpes with Hélène (manager); the École de ski with Lucas (staff); the Camping du Lac with
Nadia (manager), who has no business with the hotel's customers.
"""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

# The private CORDEE_HOME of a test run is set by the cordee.testing plugin (pyproject.toml).

PASSWORD = "mot-de-passe-de-test-2026"


@pytest.fixture(autouse=True)
def _fast_password_hashing(request, settings):
    """Argon2 is deliberately slow; tests that are not about hashing use a fast hasher."""
    if "argon2" not in request.keywords:
        settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


@pytest.fixture
def destination(db):
    from cordee.partners.models import Partner, PartnerKind, Role, User

    office = Partner.objects.create(
        slug="office", name="Office de tourisme de la Vallée", kind=PartnerKind.HUB
    )
    hotel = Partner.objects.create(
        slug="hotel-des-alpes", name="Hôtel des Alpes", kind=PartnerKind.HOTEL
    )
    ski = Partner.objects.create(
        slug="ecole-de-ski", name="École de ski", kind=PartnerKind.SKI_SCHOOL
    )
    camping = Partner.objects.create(
        slug="camping-du-lac", name="Camping du Lac", kind=PartnerKind.CAMPSITE
    )

    def person(username: str, partner: Partner, role: str) -> User:
        user = User(username=username, partner=partner, role=role, first_name=username.capitalize())
        user.set_password(PASSWORD)
        user.save()
        return user

    class Destination:
        pass

    d = Destination()
    d.office, d.hotel, d.ski, d.camping = office, hotel, ski, camping
    d.camille = person("camille", office, Role.HUB_ADMIN)
    d.marc = person("marc", office, Role.HUB_MARKETER)
    d.sophie = person("sophie", office, Role.DPO)
    d.helene = person("helene", hotel, Role.PARTNER_MANAGER)
    d.lucas = person("lucas", ski, Role.PARTNER_STAFF)
    d.nadia = person("nadia", camping, Role.PARTNER_MANAGER)
    return d


def write(path: Path, text: str, encoding: str = "utf-8") -> Path:
    path.write_bytes(text.encode(encoding))
    return path


@pytest.fixture
def import_file(tmp_path, destination):
    """Import a file's text for a partner through the real pipeline; returns the finished batch."""
    from cordee.collect.imports import import_batch_create, import_batch_run
    from cordee.privacy.access import Actor

    def run(
        text: str | bytes,
        *,
        partner=None,
        name: str = "clients.csv",
        encoding: str = "utf-8",
        dry_run=False,
        mapping=None,
    ):
        path = tmp_path / name
        path.write_bytes(text if isinstance(text, bytes) else text.encode(encoding))
        batch = import_batch_create(
            partner=partner or destination.hotel,
            source=path,
            filename=name,
            actor=Actor.system("test"),
            dry_run=dry_run,
            mapping=mapping,
        )
        return import_batch_run(batch_id=batch.pk)

    return run


@pytest.fixture(scope="session")
def trained_model(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Identity resolution's model, learned once per run on the demo valley's files."""
    from cordee.customers.matching import evaluate
    from cordee.customers.matching.features import build_features
    from cordee.customers.matching.model import save_model, train
    from cordee.demo.files import build_demo_files

    directory = tmp_path_factory.mktemp("demo")
    files = build_demo_files(directory, customers=800, seed=5)
    records = [
        record
        for file in files.files
        for record in evaluate.read_partner_file(file.path, file.partner)
    ]
    return save_model(train(build_features(records)), directory / "model.json")


@pytest.fixture
def model_home(settings, tmp_path: Path, trained_model: Path) -> Path:
    """A data directory holding that model, where resolution and the API look for it."""
    settings.CORDEE_HOME = tmp_path
    (tmp_path / "matching").mkdir()
    shutil.copy(trained_model, tmp_path / "matching" / "model.json")
    return tmp_path


@pytest.fixture(scope="module")
def chromium():
    """Debian's Chromium, one per test module (see tests/browser.py)."""
    from tests.browser import chromium_launched

    with chromium_launched() as browser:
        yield browser


@pytest.fixture
def visit(chromium, live_server, request):
    """A desktop tab on the live server; the story fails on any console error."""
    from tests.browser import Visit, tab

    context, page, errors = tab(chromium, viewport={"width": 1280, "height": 860})
    current = Visit(page=page, base_url=live_server.url, errors=errors)
    yield current
    context.close()
    assert current.errors == [], f"console errors in {request.node.name}: {current.errors}"
