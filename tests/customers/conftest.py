"""Identity resolution's tests share one model, learned once on the demo valley's files."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest


@pytest.fixture(scope="session")
def trained_model(tmp_path_factory: pytest.TempPathFactory) -> Path:
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
    settings.CORDEE_HOME = tmp_path
    (tmp_path / "matching").mkdir()
    shutil.copy(trained_model, tmp_path / "matching" / "model.json")
    return tmp_path
