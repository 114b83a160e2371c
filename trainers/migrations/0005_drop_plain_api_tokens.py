"""Drop DRF's authtoken table: its keys are stored in clear and cannot be turned into knox's
digests (the key is the secret), so every holder of an old token signs in again
(POST /api/v1/auth/token/). The app left INSTALLED_APPS, so its own migrations cannot
unapply it; its rows in django_migrations go too, so that adding it back would create the
table again. Reversing restores nothing: the old tokens are gone for good."""

from django.db import migrations


class Migration(migrations.Migration):

    dependencies = [
        ('trainers', '0004_superuser_is_admin'),
    ]

    operations = [
        migrations.RunSQL(
            sql=[
                "DROP TABLE IF EXISTS authtoken_token",
                "DELETE FROM django_migrations WHERE app = 'authtoken'",
            ],
            reverse_sql=migrations.RunSQL.noop,
        ),
    ]
