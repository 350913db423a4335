from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("tracking", "0005_access"),
    ]

    operations = [
        # Nullable without a default: PostgreSQL adds it without rewriting the table.
        migrations.AddField(
            model_name="run",
            name="resumed_at",
            field=models.DateTimeField(blank=True, null=True),
        ),
    ]
