"""Task rates, activity rates and fair-pay top-ups (PAY_RULES §8-10).

Existing data keeps its meaning: every rate gets no activity and no task rate, every
stored timesheet line is labelling time (the only activity there was: the column's
default fills them), and invoice lines gain a `units` column that is 0 on every issued
line (added with a default, so no row is updated and the frozen-invoice triggers have
nothing to refuse).
"""

import django.core.validators
import django.db.models.deletion
from decimal import Decimal
from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("payroll", "0009_timesheet_event_sequence"),
        ("trainers", "0006_activities_and_fair_pay_floor"),
    ]

    operations = [
        migrations.AlterModelOptions(
            name="timesheetline",
            options={"ordering": ["project_id", "activity", "kind", "hourly_rate"]},
        ),
        migrations.RemoveConstraint(
            model_name="rate",
            name="rate_unique_default_scope_day",
        ),
        migrations.RemoveConstraint(
            model_name="rate",
            name="rate_hourly_rate_range",
        ),
        migrations.RemoveConstraint(
            model_name="timesheetline",
            name="timesheet_line_unique_group",
        ),
        migrations.RemoveConstraint(
            model_name="timesheetline",
            name="timesheet_line_positive_seconds",
        ),
        migrations.AddField(
            model_name="historicalrate",
            name="activity",
            field=models.CharField(
                blank=True,
                choices=[
                    ("review", "Review"),
                    ("training", "Training"),
                    ("guidelines", "Guideline reading"),
                    ("calibration", "Calibration"),
                    ("meeting", "Meeting"),
                ],
                help_text="A non-production activity this rate prices; empty for the default or a project rate.",
                max_length=12,
                null=True,
            ),
        ),
        migrations.AddField(
            model_name="historicalrate",
            name="task_rate",
            field=models.DecimalField(
                blank=True,
                decimal_places=4,
                help_text="Paid per task on top of the hourly rate; empty: tasks are not paid by the piece.",
                max_digits=10,
                null=True,
                validators=[
                    django.core.validators.MinValueValidator(Decimal("0")),
                    django.core.validators.MaxValueValidator(Decimal("100000")),
                ],
            ),
        ),
        migrations.AddField(
            model_name="invoiceline",
            name="units",
            field=models.PositiveIntegerField(db_default=0, default=0),
        ),
        migrations.AddField(
            model_name="rate",
            name="activity",
            field=models.CharField(
                blank=True,
                choices=[
                    ("review", "Review"),
                    ("training", "Training"),
                    ("guidelines", "Guideline reading"),
                    ("calibration", "Calibration"),
                    ("meeting", "Meeting"),
                ],
                help_text="A non-production activity this rate prices; empty for the default or a project rate.",
                max_length=12,
                null=True,
            ),
        ),
        migrations.AddField(
            model_name="rate",
            name="task_rate",
            field=models.DecimalField(
                blank=True,
                decimal_places=4,
                help_text="Paid per task on top of the hourly rate; empty: tasks are not paid by the piece.",
                max_digits=10,
                null=True,
                validators=[
                    django.core.validators.MinValueValidator(Decimal("0")),
                    django.core.validators.MaxValueValidator(Decimal("100000")),
                ],
            ),
        ),
        migrations.AddField(
            model_name="timesheetline",
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
                default="labelling",
                max_length=12,
                null=True,
            ),
        ),
        migrations.AddField(
            model_name="timesheetline",
            name="units",
            field=models.PositiveIntegerField(db_default=0, default=0),
        ),
        migrations.AlterField(
            model_name="historicalrate",
            name="hourly_rate",
            field=models.DecimalField(
                decimal_places=4,
                max_digits=10,
                validators=[
                    django.core.validators.MinValueValidator(Decimal("0")),
                    django.core.validators.MaxValueValidator(Decimal("100000")),
                ],
            ),
        ),
        migrations.AlterField(
            model_name="rate",
            name="hourly_rate",
            field=models.DecimalField(
                decimal_places=4,
                max_digits=10,
                validators=[
                    django.core.validators.MinValueValidator(Decimal("0")),
                    django.core.validators.MaxValueValidator(Decimal("100000")),
                ],
            ),
        ),
        migrations.AlterField(
            model_name="timesheetline",
            name="hourly_rate",
            field=models.DecimalField(decimal_places=4, help_text="The line's one rate.", max_digits=10),
        ),
        migrations.AlterField(
            model_name="timesheetline",
            name="kind",
            field=models.CharField(
                choices=[
                    ("regular", "Regular"),
                    ("overtime", "Overtime"),
                    ("tasks", "Tasks"),
                    ("top_up", "Fair-pay top-up"),
                ],
                max_length=8,
            ),
        ),
        migrations.AlterField(
            model_name="timesheetline",
            name="project",
            field=models.ForeignKey(
                null=True,
                on_delete=django.db.models.deletion.PROTECT,
                related_name="+",
                to="trainers.project",
            ),
        ),
        migrations.AddConstraint(
            model_name="rate",
            constraint=models.UniqueConstraint(
                condition=models.Q(("activity__isnull", True), ("project__isnull", True)),
                fields=("worker", "effective_from"),
                name="rate_unique_default_scope_day",
            ),
        ),
        migrations.AddConstraint(
            model_name="rate",
            constraint=models.UniqueConstraint(
                condition=models.Q(("activity__isnull", False)),
                fields=("worker", "activity", "effective_from"),
                name="rate_unique_activity_scope_day",
            ),
        ),
        migrations.AddConstraint(
            model_name="rate",
            constraint=models.CheckConstraint(
                condition=models.Q(
                    ("activity__isnull", True),
                    models.Q(
                        ("project__isnull", True),
                        ("activity__in", ("review", "training", "guidelines", "calibration", "meeting")),
                    ),
                    _connector="OR",
                ),
                name="rate_scope_one_of",
            ),
        ),
        migrations.AddConstraint(
            model_name="rate",
            constraint=models.CheckConstraint(
                condition=models.Q(("hourly_rate__gte", 0), ("hourly_rate__lte", Decimal("100000"))),
                name="rate_hourly_rate_range",
            ),
        ),
        migrations.AddConstraint(
            model_name="rate",
            constraint=models.CheckConstraint(
                condition=models.Q(
                    ("task_rate__isnull", True),
                    models.Q(("task_rate__gte", 0), ("task_rate__lte", Decimal("100000"))),
                    _connector="OR",
                ),
                name="rate_task_rate_range",
            ),
        ),
        migrations.AddConstraint(
            model_name="timesheetline",
            constraint=models.UniqueConstraint(
                fields=("timesheet", "project", "activity", "hourly_rate", "kind"),
                name="timesheet_line_unique_group",
                nulls_distinct=False,
            ),
        ),
        migrations.AddConstraint(
            model_name="timesheetline",
            constraint=models.CheckConstraint(
                condition=models.Q(
                    models.Q(
                        models.Q(("kind__in", ("regular", "overtime")), ("seconds__gt", 0), ("units", 0)),
                        models.Q(("kind", "tasks"), ("seconds", 0), ("units__gt", 0)),
                        models.Q(("kind", "top_up"), ("seconds__gt", 0), ("units", 0)),
                        _connector="OR",
                    ),
                    models.Q(
                        models.Q(("activity__isnull", True), ("kind", "top_up"), ("project__isnull", True)),
                        models.Q(
                            models.Q(("kind", "top_up"), _negated=True),
                            ("activity__isnull", False),
                            ("project__isnull", False),
                        ),
                        _connector="OR",
                    ),
                ),
                name="timesheet_line_kind_shape",
            ),
        ),
    ]
