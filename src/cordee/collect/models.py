from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from cordee.partners.models import Partner


class ImportStatus(models.TextChoices):
    PENDING = "pending", _("En attente")
    RUNNING = "running", _("En cours")
    DONE = "done", _("Terminé")
    FAILED = "failed", _("Échec")


class ImportBatch(models.Model):
    """One run (or dry run) of a partner file through the import, with its report."""

    partner = models.ForeignKey(Partner, on_delete=models.PROTECT, related_name="imports")
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True
    )
    filename = models.CharField(_("fichier"), max_length=255)
    stored_path = models.CharField(max_length=500, blank=True)
    size = models.BigIntegerField(_("taille"), default=0)
    dry_run = models.BooleanField(_("essai à blanc"), default=False)
    mapping = models.JSONField(null=True, blank=True)
    status = models.CharField(
        _("état"), max_length=10, choices=ImportStatus.choices, default=ImportStatus.PENDING
    )
    file_format = models.CharField(max_length=10, blank=True)
    encoding = models.CharField(max_length=20, blank=True)
    delimiter = models.CharField(max_length=4, blank=True)
    columns = models.JSONField(default=list, blank=True)
    column_warnings = models.JSONField(default=list, blank=True)
    # Progress and report counters.
    bytes_done = models.BigIntegerField(default=0)
    lines_read = models.PositiveIntegerField(_("lignes lues"), default=0)
    accepted = models.PositiveIntegerField(_("lignes acceptées"), default=0)
    rejected = models.PositiveIntegerField(_("lignes rejetées"), default=0)
    warnings = models.PositiveIntegerField(_("avertissements"), default=0)
    unchanged = models.PositiveIntegerField(_("lignes déjà connues"), default=0)
    customers_created = models.PositiveIntegerField(_("clients créés"), default=0)
    customers_matched = models.PositiveIntegerField(_("clients rapprochés"), default=0)
    error = models.TextField(_("erreur"), blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    started_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        verbose_name = _("import")
        verbose_name_plural = _("imports")
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return f"{self.filename} ({self.partner})"

    @property
    def is_finished(self) -> bool:
        return self.status in {ImportStatus.DONE, ImportStatus.FAILED}

    @property
    def progress_percent(self) -> int:
        if self.status == ImportStatus.DONE:
            return 100
        if not self.size:
            return 0
        return min(99, int(self.bytes_done * 100 / self.size))

    @property
    def duration_seconds(self) -> float | None:
        if self.started_at and self.finished_at:
            return (self.finished_at - self.started_at).total_seconds()
        return None


class IssueLevel(models.TextChoices):
    ERROR = "error", _("Ligne rejetée")
    WARNING = "warning", _("Avertissement")


class ImportIssue(models.Model):
    """A rejected line or a warning on an accepted line, with its number and reason."""

    batch = models.ForeignKey(ImportBatch, on_delete=models.CASCADE, related_name="issues")
    line = models.PositiveIntegerField(_("ligne"))
    level = models.CharField(max_length=8, choices=IssueLevel.choices)
    field = models.CharField(_("champ"), max_length=60, blank=True)
    message = models.CharField(_("motif"), max_length=500)
    # The rejected line's cells, so that it can be downloaded, corrected and imported again.
    cells = models.JSONField(null=True, blank=True)

    class Meta:
        ordering = ["line", "id"]
        indexes = [models.Index(fields=["batch", "level", "line"], name="issue_batch_idx")]

    def __str__(self) -> str:
        return f"{self.batch_id}:{self.line} {self.message}"
