from __future__ import annotations

import os
import shutil
from typing import Any

from django.conf import settings
from django.core.management import call_command
from django.core.management.base import CommandError, CommandParser
from django.db import transaction
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

from cordee.collect.imports import import_batch_create, import_batch_run
from cordee.core.commands import CordeeCommand
from cordee.core.management.commands.serve import serve
from cordee.partners.models import Partner, User
from cordee.privacy.access import Actor


class Command(CordeeCommand):
    help = (
        "Crée une destination de démonstration (partenaires, comptes, fichiers clients et "
        "d'activités importés, doublons, segments, campagne) puis la sert."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--customers", type=int, default=3000, help="nombre de personnes à générer"
        )
        parser.add_argument("--seed", type=int, default=2026)
        parser.add_argument(
            "--no-serve", action="store_true", help="préparer la démo sans lancer le serveur"
        )
        parser.add_argument("--port", type=int, default=int(os.environ.get("CORDEE_PORT", "8000")))
        parser.add_argument("--reset", action="store_true", help="repartir d'une base vide")

    def handle(self, *args: Any, **options: Any) -> None:
        if options["customers"] < 0:
            raise CommandError("--customers : un nombre de personnes positif ou nul est attendu.")
        if options["reset"]:
            call_command("flush", interactive=False, verbosity=0)
        call_command("migrate", verbosity=0)
        if Partner.objects.filter(kind="hub").exists():
            self.stdout.write(
                "La destination de démonstration existe déjà (--reset pour la recréer)."
            )
        else:
            self._seed(customers=options["customers"], seed=options["seed"])
        if not options["no_serve"]:
            self.stdout.write(
                "Connectez-vous avec camille / cordee-demo (administratrice de l'office)."
            )
            serve(
                host="127.0.0.1",
                port=options["port"],
                workers=2,
                with_worker=True,
                stdout=self.stdout,
            )

    def _seed(self, *, customers: int, seed: int) -> None:
        from cordee.demo import valley
        from cordee.demo.files import build_demo_files

        actor = Actor.system("demo")
        with transaction.atomic():
            partners = {}
            for p in valley.PARTNERS:
                partners[p.slug] = Partner.objects.create(
                    slug=p.slug, name=p.name, kind=p.kind, resort=p.resort
                )
            for u in valley.DEMO_USERS:
                user = User(
                    username=u.username,
                    first_name=u.first_name,
                    last_name=u.last_name,
                    partner=partners[u.partner_slug],
                    role=u.role,
                )
                user.set_password(valley.DEMO_PASSWORD)
                user.save()
        folder = settings.CORDEE_HOME / "demo"
        shutil.rmtree(folder, ignore_errors=True)
        self.stdout.write(
            f"Génération de {customers} visiteurs et des fichiers de {len(partners)} partenaires…"
        )
        demo = build_demo_files(folder, customers=customers, seed=seed)
        columns = [
            TextColumn("{task.description}"),
            BarColumn(),
            MofNCompleteColumn(),
            TimeElapsedColumn(),
        ]
        with Progress(*columns, disable=not self.stdout.isatty()) as bar:
            task = bar.add_task("Import des fichiers", total=len(demo.files))
            for demo_file in demo.files:
                bar.update(task, description=f"Import {demo_file.partner}")
                batch = import_batch_create(
                    partner=partners[demo_file.partner],
                    source=demo_file.path,
                    filename=demo_file.path.name,
                    actor=actor,
                )
                batch = import_batch_run(batch_id=batch.pk)
                self.stdout.write(
                    f"  {demo_file.partner:<24} {batch.lines_read:>6} lignes, "
                    f"{batch.customers_created:>6} clients créés, {batch.customers_matched:>6} rapprochés, "
                    f"{batch.rejected:>4} rejetées"
                )
                bar.advance(task)
        from cordee.demo.seed import demo_seed_after_customers

        demo_seed_after_customers(
            folder, demo=demo, seed=seed, partners=partners, actor=actor, out=self.stdout.write
        )
