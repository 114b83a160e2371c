"""Activities on sessions and the fair-pay floor on contracts (PAY_RULES §8, §10).

Every existing session is labelling (the column's database default fills them without
rewriting the table) and no contract has a floor.
"""

import django.core.validators
from decimal import Decimal
from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("trainers", "0005_drop_plain_api_tokens"),
    ]

    operations = [
        migrations.AddField(
            model_name="historicallabellingsession",
            name="activity",
            field=models.CharField(
                choices=[
                    ("labelling", "Labelling"),
                    ("review", "Review"),
                    ("training", "Training"),
                    ("guidelines", "Guideline reading"),
                    ("calibration", "Calibration"),
                    ("meeting", "Meeting"),
                ],
                db_default="labelling",
                default="labelling",
                max_length=12,
            ),
        ),
        migrations.AddField(
            model_name="historicalworker",
            name="minimum_hourly",
            field=models.DecimalField(
                blank=True,
                decimal_places=2,
                help_text="The fair-pay floor per hour worked, in the contract currency; empty: no floor.",
                max_digits=10,
                null=True,
                validators=[
                    django.core.validators.MinValueValidator(Decimal("0")),
                    django.core.validators.MaxValueValidator(Decimal("100000")),
                ],
            ),
        ),
        migrations.AddField(
            model_name="labellingsession",
            name="activity",
            field=models.CharField(
                choices=[
                    ("labelling", "Labelling"),
                    ("review", "Review"),
                    ("training", "Training"),
                    ("guidelines", "Guideline reading"),
                    ("calibration", "Calibration"),
                    ("meeting", "Meeting"),
                ],
                db_default="labelling",
                default="labelling",
                max_length=12,
            ),
        ),
        migrations.AddField(
            model_name="worker",
            name="minimum_hourly",
            field=models.DecimalField(
                blank=True,
                decimal_places=2,
                help_text="The fair-pay floor per hour worked, in the contract currency; empty: no floor.",
                max_digits=10,
                null=True,
                validators=[
                    django.core.validators.MinValueValidator(Decimal("0")),
                    django.core.validators.MaxValueValidator(Decimal("100000")),
                ],
            ),
        ),
        migrations.AddConstraint(
            model_name="labellingsession",
            constraint=models.CheckConstraint(
                condition=models.Q(
                    (
                        "activity__in",
                        ["labelling", "review", "training", "guidelines", "calibration", "meeting"],
                    )
                ),
                name="session_activity_valid",
            ),
        ),
        migrations.AddConstraint(
            model_name="worker",
            constraint=models.CheckConstraint(
                condition=models.Q(
                    ("minimum_hourly__isnull", True),
                    models.Q(("minimum_hourly__gte", 0), ("minimum_hourly__lte", Decimal("100000"))),
                    _connector="OR",
                ),
                name="worker_minimum_hourly_range",
            ),
        ),
    ]
