"""Identity resolution: which source records are one person (issue 3).

``features`` turns source records into an Arrow table of matching features, ``model``
holds the Splink settings and trains the model, ``resolve`` scores pairs, applies the
household rule and clusters, ``evaluate`` measures all that against a ground truth.
``evidence`` says per field why two records look alike, ``score`` scores one pair in Python
with the stored weights. The database side is ``customers.resolution`` (the batch run),
``customers.merging`` (the ledger) and ``customers.candidates`` (one incoming record); see
docs/identity.md.
"""
