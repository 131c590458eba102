"""Households between customers, both directions, as a view over identity resolution's links."""

from django.db import migrations, models

VIEW = """
CREATE VIEW segments_household_pair AS
SELECT l.customer_id AS customer_id, r.customer_id AS member_id
  FROM customers_householdlink h
  JOIN customers_sourcerecord l ON l.id = h.left_id
  JOIN customers_sourcerecord r ON r.id = h.right_id
 WHERE l.customer_id IS NOT NULL AND r.customer_id IS NOT NULL
   AND l.customer_id <> r.customer_id
UNION
SELECT r.customer_id, l.customer_id
  FROM customers_householdlink h
  JOIN customers_sourcerecord l ON l.id = h.left_id
  JOIN customers_sourcerecord r ON r.id = h.right_id
 WHERE l.customer_id IS NOT NULL AND r.customer_id IS NOT NULL
   AND l.customer_id <> r.customer_id
"""


class Migration(migrations.Migration):
    dependencies = [
        ("customers", "0003_merge_ledger_review_households"),
        ("segments", "0002_builtin_3f_segments"),
    ]

    operations = [
        migrations.RunSQL(VIEW, "DROP VIEW IF EXISTS segments_household_pair"),
        migrations.CreateModel(
            name="HouseholdPair",
            fields=[
                ("customer_id", models.BigIntegerField(primary_key=True, serialize=False)),
                ("member_id", models.BigIntegerField()),
            ],
            options={"db_table": "segments_household_pair", "managed": False},
        ),
    ]
