"""Identity resolution: which source records are one person (issue 3).

``features`` turns source records into an Arrow table of matching features, ``model``
holds the Splink settings and trains the model, ``resolve`` scores pairs, applies the
household rule and clusters, ``evaluate`` measures all that against a ground truth.
Not yet wired into the import: a library with its evaluation.
"""
